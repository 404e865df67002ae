import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFilesInBackground } from '../../src/adapters/file-batch.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'grantops-file-batch-'));
  dirs.push(d);
  return d;
};

describe('writing many files on a worker thread', () => {
  it('writes every file, byte for byte, and resolves only when all are written', async () => {
    const dir = scratch();
    const files = Array.from({ length: 300 }, (_, i) => ({
      path: join(dir, `f${i}.ics`),
      text: `BEGIN:VCALENDAR\r\nX-WR-CALNAME:é ${i} \u{1f511}\r\nEND:VCALENDAR\r\n`,
    }));
    await writeFilesInBackground(files);
    expect(readdirSync(dir)).toHaveLength(300);
    for (const f of files) expect(readFileSync(f.path, 'utf8')).toBe(f.text);
  });

  it('rejects with the error of a file it cannot write, and the worker is gone', async () => {
    const dir = scratch();
    const files = [
      { path: join(dir, 'ok.ics'), text: 'a' },
      { path: join(dir, 'missing', 'x.ics'), text: 'b' },
    ];
    await expect(writeFilesInBackground(files)).rejects.toThrow(/ENOENT/);
    expect(readFileSync(join(dir, 'ok.ics'), 'utf8')).toBe('a');
  });

  it('does nothing for no files', async () => {
    await expect(writeFilesInBackground([])).resolves.toBeUndefined();
  });
});
