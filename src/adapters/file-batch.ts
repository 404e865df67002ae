import { Worker } from 'node:worker_threads';

/** A file to write: an absolute path and its text (UTF-8). */
export interface FileText {
  path: string;
  text: string;
}

// Plain CommonJS evaluated in the worker (no second bundle to ship): writes in order, then exits.
const WRITER = `
const { workerData } = require('node:worker_threads');
const { writeFileSync } = require('node:fs');
for (const f of workerData) writeFileSync(f.path, f.text);
`;

/**
 * Writes many small files on a worker thread, while the caller goes on (the report renders its page
 * meanwhile). Resolves when every file is written, rejects with the first error (a full disk, a
 * missing directory); never leaves the worker running. Thousands of files are thousands of
 * open/write/close calls: on one thread they were most of a warm report's time.
 */
export function writeFilesInBackground(files: readonly FileText[]): Promise<void> {
  if (files.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    const worker = new Worker(WRITER, { eval: true, workerData: files });
    worker.on('error', (err) => (failed ??= err));
    worker.on('exit', (code) => {
      if (failed) reject(failed);
      else if (code !== 0) reject(new Error(`the file writer stopped with exit code ${code}`));
      else resolve();
    });
  });
}
