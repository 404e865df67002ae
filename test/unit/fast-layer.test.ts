import * as childProcess from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The fast layer's guard is live: a fast test that reaches for a process or the network fails. */
describe('the fast layer', () => {
  it('refuses to start a process', () => {
    expect(() => childProcess.spawn('git', ['--version'])).toThrow(/fast tests may not start a process/);
    expect(() => childProcess.execFileSync('git', ['--version'])).toThrow(/fast tests may not/);
  });

  it('refuses the network', async () => {
    await expect(async () => fetch('http://127.0.0.1:9/')).rejects.toThrow(
      /fast tests may not use the network/,
    );
  });
});
