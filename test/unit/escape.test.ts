import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slackWebhook } from '../../src/adapters/webhook.js';
import { AlertSender } from '../../src/usecases/send-alerts.js';
import type { Grant } from '../../src/model/grant.js';
import {
  escapeHtml,
  escapeJsonText,
  escapeLog,
  escapeSlack,
  escapeTerminal,
} from '../../src/render/escape.js';
import { escapeMarkdown } from '../../src/render/markdown.js';
import { renderTemplate } from '../../src/render/render.js';

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;
const hostile = fc.string({ unit: 'binary', maxLength: 60 });
const RUNNER_COMMAND = /^\s*::|##\[/;

describe('escapeLog (the runner log)', () => {
  it.each([
    ['::add-mask::secret', '\\u003a:add-mask::secret'],
    ['  \t::stop-commands::tok', '  \\u0009::stop-commands::tok'],
    ['\u00a0::stop-commands::tok', '\u00a0\\u003a:stop-commands::tok'],
    ['ok\n::add-mask::x', 'ok\\u000a::add-mask::x'],
    ['ok\r::add-mask::x', 'ok\\u000d::add-mask::x'],
    ['text ##[add-mask]x', 'text #\\u0023[add-mask]x'],
    ['###[set-env name=A]x', '##\\u0023[set-env name=A]x'],
    ['grants/a.yaml:1:1: error: unknown key "b"', 'grants/a.yaml:1:1: error: unknown key "b"'],
  ])('%j -> %j', (input, output) => {
    expect(escapeLog(input)).toBe(output);
  });

  it('never yields a line the runner would run as a command, whatever the input', () => {
    fc.assert(
      fc.property(hostile, fc.constantFrom('', '::', ' ::', '\n::', '##[', '\r\n::'), (a, b) => {
        const out = escapeLog(`${b}${a}${b}`);
        for (const line of out.split(/\r\n|\r|\n/)) expect(line).not.toMatch(RUNNER_COMMAND);
        expect(out).not.toMatch(RAW);
      }),
    );
  });
});

describe('escapeTerminal', () => {
  it.each([
    ['\u001b[2J', '\\u001b[2J'],
    ['bell\u0007', 'bell\\u0007'],
    ['csi\u009b31m', 'csi\\u009b31m'],
    ['abc\u202Eevil', 'abc\\u202eevil'],
    ['\u2066iso\u2069', '\\u2066iso\\u2069'],
    ['zero\u200Bwidth\u200D\uFEFF', 'zero\\u200bwidth\\u200d\\ufeff'],
    ['tag\u{E0041}', 'tag\\u{e0041}'],
    ['a\nb\tc', 'a\\u000ab\\u0009c'],
    ['café – ok ✓', 'café – ok ✓'],
  ])('%j -> %j', (input, output) => {
    expect(escapeTerminal(input)).toBe(output);
  });

  it('keeps line feeds and tabs only when asked, never CR', () => {
    expect(escapeTerminal('a\nb\tc\rd', { keepLineFeedAndTab: true })).toBe('a\nb\tc\\u000dd');
  });
});

describe('escapeJsonText (JSON printed by the CLI)', () => {
  it('leaves the parsed value unchanged and no raw control or bidi character in the text', () => {
    fc.assert(
      fc.property(fc.dictionary(hostile, hostile), (value) => {
        const text = escapeJsonText(JSON.stringify(value, null, 2));
        expect(JSON.parse(text)).toEqual(value);
        expect(text.replace(/\n/g, '')).not.toMatch(RAW);
      }),
    );
  });
});

describe('escapeSlack (webhook text)', () => {
  it.each([
    ['<!channel> look', '&lt;!channel&gt; look'],
    ['<https://evil.example|your bank>', '&lt;https://evil.example|your bank&gt;'],
    ['<@U024BE7LH> & co', '&lt;@U024BE7LH&gt; &amp; co'],
    ['two\nlines', 'two lines'],
    ['rlo\u202E', 'rlo\\u202e'],
  ])('%j -> %j', (input, output) => {
    expect(escapeSlack(input)).toBe(output);
  });

  it('is what the webhook receives: grant fields and target errors cannot ping or link', async () => {
    const grant: Grant = {
      id: 'vpn/alice',
      file: 'grants/vpn/alice.yaml',
      user: 'alice',
      target: 'vpn',
      role: 'ops',
      reason: 'x',
      expiresAt: new Date('2026-11-28T10:00:00Z'),
    };
    const bodies: string[] = [];
    const fakeFetch = ((_url: string, init: { body: string }) => {
      bodies.push(init.body);
      return Promise.resolve(new Response('ok'));
    }) as unknown as typeof fetch;
    const result = await new AlertSender(
      undefined,
      (name, view) => renderTemplate(name, view),
      slackWebhook('https://hooks.example/T/B/x', fakeFetch),
    ).send(
      new Date('2026-11-28T12:00:00Z'),
      [],
      [{ grant, reason: 'revoke failed: <!channel> <https://evil.example|click> & \u001b[2J\nnext' }],
      new Map(),
    );
    expect(result.errors).toEqual([]);
    const text = (JSON.parse(bodies[0]!) as { text: string }).text;
    expect(text).toContain(
      'revoke failed: &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; \\u001b[2J next',
    );
    expect(text).not.toMatch(/<|>|\n/);
  });
});

describe('Markdown and HTML sinks', () => {
  it('show control, bidi and zero-width characters escaped', () => {
    expect(escapeMarkdown('a\u001b[31m b\u202Ec \u200Bd')).toBe('a\\\\u001b\\[31m b\\\\u202ec \\\\u200bd');
    expect(escapeMarkdown('x\u202Ey')).not.toMatch(RAW);
    expect(escapeHtml('<b>\u202E</b>')).toBe('&#60;b&#62;\\u202e&#60;/b&#62;');
  });

  it('render commit message values on one line, without controls', async () => {
    const out = await renderTemplate('cleanup-commit.txt', {
      grants: [
        {
          id: 'a',
          user: 'u',
          role: 'r\nRevoked-Grant: forged',
          target: 't\u001b',
          expiresAt: '',
          revokedAt: '',
          lag: '',
        },
      ],
    });
    expect(out).toContain('r Revoked-Grant: forged on t\\u001b');
    expect(out.split('\n').filter((l) => l.startsWith('Revoked-Grant'))).toEqual([]);
  });
});
