import type { CliIo } from './output.js';

/** How often a progress line is redrawn at most: often enough to look alive, rarely enough to be free. */
const REDRAW_MS = 100;

export interface Progress {
  /** `done` of `total` (unknown total: a running count). */
  update(done: number, total?: number): void;
  /** Clears the line; the command's own output follows on a clean line. */
  end(): void;
}

/** Runs `work` with `progress` drawn, and clears the line however it ends. */
export async function withProgress<T>(progress: Progress, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } finally {
    progress.end();
  }
}

const silent: Progress = { update: () => undefined, end: () => undefined };

/**
 * A progress line on stderr, as git and npm show one: only on a terminal, never with --json or when
 * stderr is piped (a log file gets no carriage returns), redrawn at most every 100 ms.
 */
export function progressLine(io: CliIo, json: boolean, label: string): Progress {
  if (!io.progress || json) return silent;
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < REDRAW_MS && done !== total) return;
      last = now;
      shown = true;
      const pct = total ? ` (${Math.floor((done / total) * 100)}%)` : '';
      io.stderr(`\r\u001b[K${label}: ${done}${total ? `/${total}` : ''}${pct}`);
    },
    end() {
      if (shown) io.stderr('\r\u001b[K');
      shown = false;
    },
  };
}
