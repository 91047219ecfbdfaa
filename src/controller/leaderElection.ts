// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: the holder renews
// every retry period; a follower may take the lease once it has seen the same record unchanged
// for a whole lease duration (measured on its own clock, never by comparing with the holder's).
// Writes use the resourceVersion precondition, so two candidates never both win.
import { realTimers, type Timers } from './workQueue';

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface StoredLease {
  spec: LeaseRecord;
  resourceVersion: string;
}

/** The few Lease calls election needs. `replace` must fail with status 409 on a stale version. */
export interface LeaseStore {
  get(): Promise<StoredLease | undefined>;
  create(spec: LeaseRecord): Promise<StoredLease>;
  replace(spec: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

export interface LeaderElectorOptions {
  store: LeaseStore;
  identity: string;
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long. Must be below leaseDurationMs. */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Formats a time as a MicroTime (six fractional digits; a real server rejects three). */
  microTime: (ms: number) => string;
  onStartedLeading: (signal: AbortSignal) => void;
  onStoppedLeading: () => void;
  onError?: (error: unknown) => void;
  now?: () => number;
  timers?: Timers;
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private readonly timers: Timers;
  private observed: { key: string; at: number } | undefined;
  private lastRenewAt = 0;
  private leading: AbortController | undefined;
  private timer: unknown;
  private running = false;
  private tick: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeaderElectorOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error(`renewDeadline ${this.renewDeadlineMs} ms must be below leaseDuration ${this.leaseDurationMs} ms`);
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? realTimers;
  }

  /** True only while this instance holds a lease it renewed within the renew deadline. */
  get isLeader(): boolean {
    return this.leading !== undefined && this.now() - this.lastRenewAt < this.renewDeadlineMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops campaigning; a leader steps down and releases the lease so a successor need not wait. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    await this.tick;
    if (this.leading) {
      this.stepDown();
      await this.release();
    }
  }

  /** One attempt to acquire or renew; exposed for tests that drive time by hand. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    const me = this.options.identity;
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let current: StoredLease | undefined;
    try {
      current = await this.options.store.get();
      if (!current) {
        await this.options.store.create({
          holderIdentity: me,
          leaseDurationSeconds: durationSeconds,
          acquireTime: this.options.microTime(now),
          renewTime: this.options.microTime(now),
          leaseTransitions: 0,
        });
        this.observed = undefined;
        return true;
      }
      const spec = current.spec;
      const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${current.resourceVersion}`;
      if (this.observed?.key !== key) this.observed = { key, at: now };
      const holder = spec.holderIdentity ?? '';
      const heldByOther = holder !== '' && holder !== me;
      const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && now - this.observed.at < leaseMs) return false;
      const takingOver = holder !== me;
      await this.options.store.replace(
        {
          holderIdentity: me,
          leaseDurationSeconds: durationSeconds,
          acquireTime: takingOver ? this.options.microTime(now) : spec.acquireTime ?? this.options.microTime(now),
          renewTime: this.options.microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== '' ? 1 : 0),
        },
        current.resourceVersion,
      );
      return true;
    } catch (error) {
      this.options.onError?.(error);
      return false;
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.timers.setTimeout(() => {
      this.tick = this.round().finally(() => this.schedule(this.retryPeriodMs));
    }, ms);
  }

  private async round(): Promise<void> {
    const attemptAt = this.now();
    const ok = await this.tryAcquireOrRenew();
    if (!this.running) return;
    if (ok) {
      this.lastRenewAt = attemptAt;
      if (!this.leading) {
        this.leading = new AbortController();
        this.options.onStartedLeading(this.leading.signal);
      }
    } else if (this.leading && this.now() - this.lastRenewAt >= this.renewDeadlineMs) {
      this.stepDown();
    } else if (this.leading) {
      // Lost a race or could not reach the server: if someone else now holds it, stop at once.
      const lease = await this.options.store.get().catch(() => undefined);
      if (lease && lease.spec.holderIdentity && lease.spec.holderIdentity !== this.options.identity) this.stepDown();
    }
  }

  private stepDown(): void {
    const leading = this.leading;
    if (!leading) return;
    this.leading = undefined;
    leading.abort();
    this.options.onStoppedLeading();
  }

  private async release(): Promise<void> {
    try {
      const current = await this.options.store.get();
      if (!current || current.spec.holderIdentity !== this.options.identity) return;
      const now = this.now();
      await this.options.store.replace(
        { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: this.options.microTime(now) },
        current.resourceVersion,
      );
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
