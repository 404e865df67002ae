/** What the CLI writes to: one of the process's output streams, quiet once nobody reads it. */
export interface OutputSink {
  write(text: string): void;
  /**
   * Resolves once the stream takes more (after a `drain` when `write` had to buffer): true, or
   * false when its reader has gone, so a long output stops being produced instead of piling up.
   */
  ready(): Promise<boolean>;
}

/** Errors that mean the reader of the stream is gone (`| head` has read enough). */
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

/**
 * `stream` as an OutputSink. A write to a pipe whose reader exited fails with EPIPE, emitted as an
 * 'error' event that, unhandled, crashes the process with a stack trace; `| head` is no failure, so
 * from then on writes are dropped and the command ends as it would have (git dies of SIGPIPE, which
 * Node ignores; the issue asks for exit 0). Any other stream error is still thrown.
 */
export function outputSink(stream: NodeJS.WritableStream): OutputSink {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!GONE.has(err.code ?? '')) throw err;
    gone = true;
  });
  stream.on('close', () => {
    gone = true;
  });
  let full = false;
  return {
    write(text) {
      if (gone) return;
      full = !stream.write(text) || full;
    },
    ready() {
      if (gone) return Promise.resolve(false);
      if (!full) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          stream.off('error', done);
          full = false;
          resolve(!gone);
        };
        stream.on('drain', done);
        stream.on('close', done);
        stream.on('error', done);
      });
    },
  };
}
