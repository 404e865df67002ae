import type { EntitlementModel } from '../ports/target.js';

/** Grantops role → same-named entitlement: exec, github-team, github-repo. */
export function identityModel(ranking?: readonly string[]): EntitlementModel {
  return { entitlements: (role) => [role], ...(ranking ? { ranking } : {}) };
}
