import { ConfigError } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
import { TEMPLATES_DIR } from '../model/grant.js';
import type { TemplateSource } from './render.js';

/** Template overrides from an access repo's `templates/<name>.hbs` in `tree`. */
export function templateSource(tree: FileTree): TemplateSource {
  return async (name) => {
    const path = `${TEMPLATES_DIR}/${name}.hbs`;
    const entries = await tree.list(TEMPLATES_DIR);
    const entry = entries.find((e) => e.path === path && e.kind === 'file');
    if (!entry) return undefined;
    const bytes = await tree.read(path, 256 * 1024);
    if (!(bytes instanceof Uint8Array)) throw new ConfigError(`${path} is too large`);
    return Buffer.from(bytes).toString('utf8');
  };
}
