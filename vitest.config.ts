import { defineConfig } from 'vitest/config';

/**
 * Two layers. `fast`: pure rules and use-case scenarios against in-memory fakes of the ports, no
 * child process, no server, no network (test/support/fast-setup.ts makes any attempt fail):
 * `npm run test:unit`, seconds. `slow`: property tests, real git repositories, a real PostgreSQL,
 * the local GitHub API server and the bundled dist/ files in child processes.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start git, servers and child processes; two cores, two workers.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/unit/**/*.test.ts', 'test/scenarios/**/*.test.ts'],
          setupFiles: ['test/support/fast-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: ['test/property/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
        },
      },
    ],
  },
});
