import * as core from '@actions/core';
import type { Finding } from '../model/errors.js';

/** One annotation per finding, on the exact line and column of the file. */
export function annotate(findings: readonly Finding[]): void {
  for (const f of findings) {
    const props = { title: `grantops ${f.rule}`, file: f.file, startLine: f.line, startColumn: f.column };
    if (f.severity === 'error') core.error(f.message, props);
    else core.warning(f.message, props);
  }
}

export { templateSource } from '../render/template-source.js';
