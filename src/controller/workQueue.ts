// A keyed work queue: each key (`namespace/name`) is reconciled by one worker at a time, a key
// that is already waiting is not queued twice, and a key that changes while it is being
// reconciled runs once more afterwards. Failed keys come back with per-key exponential backoff;
// keys may also ask to be evaluated again at a time (the engine's next step or check round).

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ReconcileOutcome {
  /** Evaluate this key again after this many ms (the earliest request wins). */
  requeueAfterMs?: number;
}

export type ReconcileFn = (key: string, signal: AbortSignal) => Promise<ReconcileOutcome | void>;

export interface WorkQueueOptions {
  reconcile: ReconcileFn;
  /** How many keys reconcile at once; one slow plan must not hold up the others. */
  concurrency: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  timers?: Timers;
  /** 0..1, multiplied into the backoff; injectable so tests are deterministic. */
  jitter?: () => number;
  onError?: (key: string, error: unknown, attempt: number, retryInMs: number) => void;
}

/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days); Node fires a longer one after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

interface Scheduled {
  at: number;
  handle: unknown;
}

export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly order: string[] = [];
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers: Timers;
  private readonly abort = new AbortController();
  private started = false;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions) {
    this.timers = options.timers ?? realTimers;
  }

  start(): void {
    this.started = true;
    this.pump();
  }

  /** Stops taking work and waits for the reconciles in flight. Without `graceful` their signal
   * is aborted at once, so they stop before their next write (a lost lease); with it they run
   * to the end first (a clean shutdown). */
  async stop(graceful = false): Promise<void> {
    this.stopped = true;
    for (const s of this.scheduled.values()) this.timers.clearTimeout(s.handle);
    this.scheduled.clear();
    if (graceful) await Promise.allSettled([...this.inFlight]);
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Reconcile the key as soon as a worker is free. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.order.push(key);
    this.pump();
  }

  /** Reconcile the key after `ms`, unless it is already due earlier. */
  addAfter(key: string, ms: number, now: number = Date.now()): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = now + ms;
    const existing = this.scheduled.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.timers.clearTimeout(existing.handle);
    this.arm(key, at, ms);
  }

  /** A timer for `key` in `ms`. setTimeout fires a delay above its limit at once, so a long wait
   * (a 720h pause) runs as a chain of timers at the limit, each re-arming for what is left. */
  private arm(key: string, at: number, ms: number): void {
    const delay = Math.min(ms, MAX_TIMER_MS);
    const handle = this.timers.setTimeout(() => {
      const current = this.scheduled.get(key);
      if (current?.handle !== handle) return;
      if (ms > delay) {
        this.arm(key, at, ms - delay);
        return;
      }
      this.scheduled.delete(key);
      this.add(key);
    }, delay);
    this.scheduled.set(key, { at, handle });
  }

  /** Drops every trace of a key: its timer, its backoff, a pending run. */
  forget(key: string): void {
    const s = this.scheduled.get(key);
    if (s) this.timers.clearTimeout(s.handle);
    this.scheduled.delete(key);
    this.failures.delete(key);
    this.dirty.delete(key);
    if (this.waiting.delete(key)) this.order.splice(this.order.indexOf(key), 1);
  }

  /** When the key is next scheduled (epoch ms), for tests and status. */
  scheduledAt(key: string): number | undefined {
    return this.scheduled.get(key)?.at;
  }

  get size(): { waiting: number; running: number; scheduled: number } {
    return { waiting: this.waiting.size, running: this.running.size, scheduled: this.scheduled.size };
  }

  /** Resolves once nothing is waiting or running (timers may still be set). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.waiting.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      await new Promise((r) => setImmediate(r));
    }
  }

  private pump(): void {
    if (!this.started || this.stopped) return;
    while (this.running.size < this.options.concurrency && this.order.length > 0) {
      const key = this.order.shift() as string;
      this.waiting.delete(key);
      this.running.add(key);
      const run = this.runOne(key).finally(() => {
        this.inFlight.delete(run);
        this.running.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async runOne(key: string): Promise<void> {
    try {
      const outcome = await this.options.reconcile(key, this.abort.signal);
      this.failures.delete(key);
      if (outcome?.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
    } catch (error) {
      if (this.stopped) return;
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      const base = this.options.backoffBaseMs ?? 200;
      const max = this.options.backoffMaxMs ?? 30_000;
      const exp = Math.min(max, base * 2 ** (attempt - 1));
      // Full-range jitter in [exp/2, exp] keeps many failing plans from retrying in lockstep.
      const jitter = this.options.jitter?.() ?? Math.random();
      const delay = Math.round(exp / 2 + (exp / 2) * jitter);
      this.options.onError?.(key, error, attempt, delay);
      // A retry must not wait behind a far-off scheduled evaluation, so it replaces it if earlier.
      this.addAfter(key, delay);
    }
  }
}
