import { vi } from 'vitest';

/**
 * The fast layer's promise, enforced: a test that starts a process or reaches the network fails
 * at once, instead of silently becoming an integration test that costs seconds.
 */
const forbidden = (what: string) => () => {
  throw new Error(`fast tests may not ${what}: use the in-memory fakes (test/support/fakes)`);
};

vi.mock('node:child_process', () => ({
  spawn: forbidden('start a process'),
  spawnSync: forbidden('start a process'),
  exec: forbidden('start a process'),
  execSync: forbidden('start a process'),
  execFile: forbidden('start a process'),
  execFileSync: forbidden('start a process'),
  fork: forbidden('start a process'),
}));

vi.stubGlobal('fetch', forbidden('use the network'));
