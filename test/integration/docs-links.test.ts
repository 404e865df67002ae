import {
  existsSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README is a front door into docs/ and SECURITY.md: every relative link in them must lead
 * somewhere, and every #anchor must name a heading of its target (GitHub's slugs), so moving a
 * section cannot silently break the way to it. The README stays small enough to read.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README_MAX_BYTES = 12 * 1024 + 1024;

function docFiles(root: string): string[] {
  const top = ['README.md', 'SECURITY.md', 'CHANGELOG.md'].filter((f) => existsSync(join(root, f)));
  const docs = existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`)
    : [];
  return [...top, ...docs.sort()];
}

/** Markdown without fenced code blocks and inline code spans, where `[x](y)` is not a link. */
function withoutCode(text: string): string {
  const lines = text.split('\n');
  let fence: string | undefined;
  const kept: string[] = [];
  for (const line of lines) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      const marker = m[1]!;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      kept.push('');
      continue;
    }
    kept.push(fence === undefined ? line.replace(/(`+)[^`]*?\1/g, '') : '');
  }
  return kept.join('\n');
}

/** GitHub's heading anchor: lowercase, punctuation other than '-' and '_' dropped, spaces to '-'. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (with GitHub's -1, -2 for repeats) and HTML ids. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f) {
      const marker = f[1]!;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+[^>]*(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

export interface BrokenLink {
  file: string;
  line: number;
  link: string;
  problem: string;
}

/** Every relative link (and #anchor) in `file` (a path under `root`) that leads nowhere. */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const text = readFileSync(join(root, file), 'utf8');
  const prose = withoutCode(text);
  const found: { target: string; line: number }[] = [];
  const lineOf = (index: number) => prose.slice(0, index).split('\n').length;
  // Inline links and images: [text](target) or [text](target "title"), target maybe in <...>.
  for (const m of prose.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g))
    found.push({ target: m[1]!.replace(/^<|>$/g, ''), line: lineOf(m.index) });
  // Reference definitions: [label]: target
  for (const m of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*(\S+)/gm))
    found.push({ target: m[1]!.replace(/^<|>$/g, ''), line: lineOf(m.index) });

  const broken: BrokenLink[] = [];
  for (const { target, line } of found) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:, any scheme
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const dest = pathPart === '' ? join(root, file) : resolve(dirname(join(root, file)), pathPart);
    const report = (problem: string) => broken.push({ file, line, link: target, problem });
    if (relative(root, dest).startsWith('..')) {
      report('leads outside the repository');
      continue;
    }
    if (!existsSync(dest)) {
      report(`no such file: ${relative(root, dest)}`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(dest).isDirectory() || !dest.endsWith('.md')) {
      report(`#${anchor} into ${relative(root, dest) || '.'}, which has no headings to check`);
      continue;
    }
    if (!anchors(readFileSync(dest, 'utf8')).has(anchor))
      report(`no heading #${anchor} in ${relative(root, dest)}`);
  }
  return broken;
}

describe('documentation links', () => {
  const files = docFiles(ROOT);

  it('covers the README, SECURITY.md and every page of docs/', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'SECURITY.md', 'docs/cli.md']));
  });

  it('has no broken relative link or anchor in any file', () => {
    const broken = files.flatMap((f) => brokenLinks(ROOT, f));
    expect(
      broken.map((b) => `${b.file}:${b.line}: ${b.link}: ${b.problem}`),
      'broken links',
    ).toEqual([]);
  });

  it('keeps the README a front door: at most about 12 KB', () => {
    const size = statSync(join(ROOT, 'README.md')).size;
    expect(size, `README.md is ${size} bytes`).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it('links from the README to every page of docs/ and to SECURITY.md', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const f of [...files.filter((f) => f.startsWith('docs/')), 'SECURITY.md'])
      expect(readme, `README.md does not link to ${f}`).toContain(`](${f})`);
  });
});

describe('the link checker itself', () => {
  it('computes GitHub heading slugs', () => {
    expect(slug('Grant (`grants/**/*.yaml`)')).toBe('grant-grantsyaml');
    expect(slug('On pull_request: validate')).toBe('on-pull_request-validate');
    expect(slug('JSON-Schema policies (`grantSchema`)')).toBe('json-schema-policies-grantschema');
    expect(slug('See [the CLI](docs/cli.md) now!')).toBe('see-the-cli-now');
  });

  it('reports every broken link and anchor, and nothing else', () => {
    const root = mkdtempSync(join(tmpdir(), 'grantops-links-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs/a.md'), '# A\n\n## Same\n\n## Same\n\n## On push: apply\n');
      writeFileSync(
        join(root, 'README.md'),
        [
          '# Top',
          '[ok](docs/a.md) [ok](docs/a.md#same-1) [ok](docs/a.md#on-push-apply) [ok](#top) [ok](docs/)',
          '[web](https://example.com/x.md) [mail](mailto:a@b.c)',
          '`[code](nowhere.md)`',
          '```',
          '[fenced](nowhere.md)',
          '```',
          '[gone](docs/b.md) [bad](docs/a.md#same-2) [self](#nope) ![img](pic.png)',
          '[up](../outside.md)',
          '[ref]: docs/c.md',
        ].join('\n'),
      );
      expect(brokenLinks(root, 'README.md').map((b) => `${b.line} ${b.link}`)).toEqual([
        '8 docs/b.md',
        '8 docs/a.md#same-2',
        '8 #nope',
        '8 pic.png',
        '9 ../outside.md',
        '10 docs/c.md',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
