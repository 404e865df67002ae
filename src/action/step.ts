import { errorMessage, formatFinding, GrantopsError } from '../model/errors.js';
import { readInputs } from './inputs.js';
import { runnerLog } from './log.js';
import { runAction } from './main.js';
import { annotate } from './report.js';

// The one place that fails the step: everything below throws typed errors.
try {
  await runAction(readInputs());
} catch (err) {
  if (err instanceof GrantopsError) {
    const findings = err.findings;
    annotate(findings);
    for (const f of findings) runnerLog.info(formatFinding(f));
  }
  runnerLog.setFailed(errorMessage(err));
}
