import { checkTargets, type DoctorReport } from '../usecases/check-targets.js';
import type { Wiring } from './wiring.js';

/** `doctor`: what each target lacks (privileges, scripts, tokens). */
export async function doctorJob(w: Wiring): Promise<DoctorReport> {
  return checkTargets({ work: w.work, registry: w.registry, createTarget: await w.targets() });
}
