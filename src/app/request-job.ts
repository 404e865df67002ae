import { requestGrant, type RequestOptions } from '../usecases/request-grant.js';
import type { Wiring } from './wiring.js';

/** `request`: writes a grant file the policies accept (never over an existing one). */
export async function requestJob(
  w: Wiring,
  opts: Omit<RequestOptions, 'now'>,
): ReturnType<typeof requestGrant> {
  return requestGrant(
    { ...opts, now: w.config.now },
    { work: w.work, registry: w.registry, createFile: (path, text) => w.work.createFile(path, text) },
  );
}
