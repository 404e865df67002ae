import * as core from '@actions/core';
import { ConfigError, type Finding } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
import { TEMPLATES_DIR } from '../model/grant.js';
import type { TemplateSource } from '../render/render.js';

/** One annotation per finding, on the exact line and column of the file. */
export function annotate(findings: readonly Finding[]): void {
  for (const f of findings) {
    const props = { title: `grantops ${f.rule}`, file: f.file, startLine: f.line, startColumn: f.column };
    if (f.severity === 'error') core.error(f.message, props);
    else core.warning(f.message, props);
  }
}

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
