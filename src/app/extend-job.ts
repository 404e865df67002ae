import { planExtension, type ExtendOptions, type Extension } from '../usecases/extend-grant.js';
export { describeExtension } from '../usecases/extend-grant.js';
import type { Wiring } from './wiring.js';

/**
 * `extend`: moves a grant's expiresAt later in its own file, as its policy allows. The plan (old and
 * new text) is made first and written only once accepted, atomically and only if the file is still
 * what was read; a pull-request opener can take `planExtension`'s result as it is.
 */
export async function extendJob(w: Wiring, opts: Omit<ExtendOptions, 'now'>): Promise<Extension> {
  const git = w.git;
  const extension = await planExtension(
    { ...opts, now: w.config.now },
    {
      work: w.work,
      registry: w.registry,
      // HEAD's first-parent line: on main, or on a branch made from it, the commit that brought the file.
      landedAt: async (path) => (git ? (await git.landedAt('HEAD', [path])).get(path) : undefined),
    },
  );
  await w.work.replaceFile(extension.path, extension.oldText, extension.newText);
  return extension;
}
