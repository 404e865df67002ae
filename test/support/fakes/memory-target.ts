import type { TargetConfig } from '../../../src/model/policy.js';
import type { Access, AccessChange, Target } from '../../../src/ports/target.js';
import { identityModel } from '../../../src/targets/identity-model.js';

/**
 * A target system in memory (an exec script's VPN, say): who holds which entitlement, every call
 * in order, and faults a test can switch on: a revoke that fails for a user, a list that fails or
 * answers [] once.
 */
export class MemoryTarget implements Target {
  readonly nativeExpiry = false;
  readonly model = identityModel();
  readonly access = new Map<string, Set<string>>();
  failRevokeFor = new Set<string>();
  failGrantFor = new Set<string>();
  observeError: string | undefined;
  /** While set, a list waits for it (a hung API), as long as the test pleases. */
  observeGate: Promise<void> | undefined;
  /** The next list answers [] whatever is held (a flaky API, a paging bug), once. */
  listsNothingOnce = false;

  constructor(
    readonly config: TargetConfig,
    /** Calls made, in order; a scenario shares one log with its git. */
    readonly calls: string[] = [],
  ) {}

  holds(user: string, entitlement: string): boolean {
    return this.access.get(user.toLowerCase())?.has(entitlement) === true;
  }

  give(user: string, entitlement: string): this {
    const set = this.access.get(user.toLowerCase()) ?? new Set<string>();
    set.add(entitlement);
    this.access.set(user.toLowerCase(), set);
    return this;
  }

  /** What this target lacks (doctor); a test sets it. */
  problems: string[] = [];

  check(): Promise<string[]> {
    return Promise.resolve([...this.problems]);
  }

  async observe(): Promise<Access[]> {
    this.calls.push('observe');
    if (this.observeGate) await this.observeGate;
    return this.listNow();
  }

  private listNow(): Promise<Access[]> {
    if (this.observeError) return Promise.reject(new Error(this.observeError));
    if (this.listsNothingOnce) {
      this.listsNothingOnce = false;
      return Promise.resolve([]);
    }
    const out: Access[] = [];
    for (const [user, set] of this.access) for (const entitlement of set) out.push({ user, entitlement });
    return Promise.resolve(out);
  }

  /** Grants and revokes in flight now, and the most at once (counted while calls are held). */
  inFlight = 0;
  peakInFlight = 0;
  private held: Promise<void> | undefined;

  /** Makes grants and revokes wait until the returned function is called: a slow system. */
  holdCalls(): () => void {
    let open: () => void = () => undefined;
    this.held = new Promise<void>((resolve) => (open = resolve));
    return () => {
      this.held = undefined;
      open();
    };
  }

  private async whenReleased<T>(call: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      await this.held;
      return await call();
    } finally {
      this.inFlight--;
    }
  }

  grant(change: AccessChange): Promise<void> {
    if (this.held) return this.whenReleased(() => this.grantNow(change));
    return this.grantNow(change);
  }

  revoke(change: AccessChange): Promise<void> {
    if (this.held) return this.whenReleased(() => this.revokeNow(change));
    return this.revokeNow(change);
  }

  private grantNow(change: AccessChange): Promise<void> {
    this.calls.push(`grant ${change.user} ${change.entitlement}`);
    if (this.failGrantFor.has(change.user)) return Promise.reject(new Error('directory unavailable'));
    this.give(change.user, change.entitlement);
    return Promise.resolve();
  }

  private revokeNow(change: AccessChange): Promise<void> {
    this.calls.push(`revoke ${change.user} ${change.entitlement}`);
    if (this.failRevokeFor.has(change.user)) return Promise.reject(new Error('directory unavailable'));
    this.access.get(change.user.toLowerCase())?.delete(change.entitlement);
    return Promise.resolve();
  }
}
