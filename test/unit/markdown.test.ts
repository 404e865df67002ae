import { describe, expect, it } from 'vitest';
import { escapeMarkdown } from '../../src/render/markdown.js';
import { renderTemplate } from '../../src/render/render.js';

describe('escapeMarkdown', () => {
  it('breaks mentions, team mentions and issue references', () => {
    const out = escapeMarkdown('ping @alice and @acme/dba about #12');
    expect(out).not.toMatch(/@[a-z]/);
    expect(out).not.toContain('#12');
    expect(out).toContain('@&#8203;alice');
  });

  it('neutralises HTML, links and autolinks', () => {
    const out = escapeMarkdown('<img src=x onerror=alert(1)> [click](https://evil.example) www.evil.example');
    expect(out).not.toContain('<');
    expect(out).not.toContain('](');
    expect(out).not.toContain('://');
    expect(out).not.toMatch(/www\./);
  });

  it('keeps a table row intact', () => {
    expect(escapeMarkdown('a | b\nc')).toBe('a \\| b c');
  });
});

describe('renderTemplate', () => {
  it('escapes every string in the view, even in an override that uses plain {{ }}', async () => {
    const out = await renderTemplate('pr-comment.md', { reason: '@alice <b>x</b>' }, () =>
      Promise.resolve('R={{reason}} T={{{reason}}}'),
    );
    expect(out).toBe('R=@&#8203;alice &lt;b&gt;x&lt;/b&gt; T=@&#8203;alice &lt;b&gt;x&lt;/b&gt;');
  });

  it('reports a broken override as a configuration error', async () => {
    await expect(renderTemplate('pr-comment.md', {}, () => Promise.resolve('{{#if}}'))).rejects.toMatchObject(
      {
        exitCode: 2,
      },
    );
  });
});

describe('escapeMarkdown keeps ordinary text readable', () => {
  it.each([
    ['2026-11-28T18:00:00Z', '2026-11-28T18:00:00Z'],
    ['grants/prod-db/alice.yaml', 'grants/prod-db/alice.yaml'],
    ['- not a list', '\\- not a list'],
    ['12. not a list', '12\\. not a list'],
    ['# not a heading', '\\# not a heading'],
    ['a_b*c', 'a\\_b\\*c'],
  ])('%j -> %j', (input, output) => {
    expect(escapeMarkdown(input)).toBe(output);
  });
});
