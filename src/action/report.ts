import type { Finding } from '../model/errors.js';
import { runnerLog } from './log.js';

/** One annotation per finding, on the exact line and column of the file. */
export function annotate(findings: readonly Finding[]): void {
  for (const f of findings) {
    const props = { title: `grantops ${f.rule}`, file: f.file, startLine: f.line, startColumn: f.column };
    if (f.severity === 'error') runnerLog.error(f.message, props);
    else runnerLog.warning(f.message, props);
  }
}

export { templateSource } from '../render/template-source.js';
