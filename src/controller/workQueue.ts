// A keyed work queue: each key (`namespace/name`) is reconciled by one worker at a time, a key
// that is already waiting is not queued twice, and a key that changes while it is being
// reconciled runs once more afterwards. Failed keys come back with per-key exponential backoff;
// keys may also ask to be evaluated again at a time (the engine's next step or check round).
//
// Three lanes. Urgent work (a rollback request, a firing alert, a deletion) goes ahead of all
// other work and has workers of its own that the rest cannot take, so a thousand plans waiting
// on slow checks never delay a rollback. Due work (a step or check round whose time came) goes
// ahead of the rest (watch events, resyncs), so a relist of a thousand plans does not make a
// step late; it yields one start in four to the rest, so it cannot starve it. An urgent add for a key that is
// running routine work preempts it: its `preempt` signal fires, the reconcile drops what it was
// waiting for (a check round) and the key runs again at once, urgently.

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

/** `signal`: stop before the next write (shutdown, a lost lease). `preempt`: urgent work arrived
 * for this key; stop waiting for anything slow and return (or throw Preempted) soon. */
export type ReconcileFn = (key: string, signal: AbortSignal, preempt: AbortSignal) => Promise<ReconcileOutcome | void>;

/** Thrown by a reconcile that gave up its routine work for urgent work on the same key. */
export class Preempted extends Error {
  override readonly name = 'Preempted';
  constructor() {
    super('preempted by urgent work on the same plan');
  }
}

export interface WorkQueueOptions {
  reconcile: ReconcileFn;
  /** How many keys reconcile routine work at once; one slow plan must not hold up the others. */
  concurrency: number;
  /** Workers only urgent work may use, on top of `concurrency`. */
  urgentConcurrency?: number;
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

/** Urgent work first; then work whose time came (a timer this queue set: a pause that ends, a
 * check round due, a retry), which is late from the moment it waits; then the rest (watch
 * events, resyncs), which no clock waits on. */
type Lane = 'urgent' | 'due' | 'routine';
const RANK: Record<Lane, number> = { urgent: 2, due: 1, routine: 0 };
/** Of the routine workers, how many starts in a row go to due work while other work waits, so
 * a steady stream of due rounds never starves a new plan or a hand edit. */
const DUE_STREAK = 3;

export class WorkQueue {
  private readonly waiting = new Map<string, Lane>();
  private readonly order: Record<Lane, string[]> = { urgent: [], due: [], routine: [] };
  private dueStreak = 0;
  /** Running keys, with the lane they run in and how to preempt them. */
  private readonly running = new Map<string, { lane: Lane; preempt: AbortController }>();
  private readonly dirty = new Map<string, Lane>();
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

  /** Reconcile the key as soon as a worker is free; `urgent` puts it ahead of routine work. */
  add(key: string, options: { urgent?: boolean; due?: boolean } = {}): void {
    if (this.stopped) return;
    const lane: Lane = options.urgent ? 'urgent' : options.due ? 'due' : 'routine';
    const run = this.running.get(key);
    if (run) {
      const before = this.dirty.get(key);
      this.dirty.set(key, before !== undefined && RANK[before] > RANK[lane] ? before : lane);
      if (lane === 'urgent' && run.lane !== 'urgent') run.preempt.abort(new Preempted());
      return;
    }
    const queued = this.waiting.get(key);
    if (queued !== undefined && RANK[queued] >= RANK[lane]) return;
    if (queued !== undefined) this.removeFromOrder(queued, key);
    this.waiting.set(key, lane);
    this.order[lane].push(key);
    this.pump();
  }

  private removeFromOrder(lane: Lane, key: string): void {
    const i = this.order[lane].indexOf(key);
    if (i >= 0) this.order[lane].splice(i, 1);
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
      this.add(key, { due: true });
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
    const lane = this.waiting.get(key);
    if (lane !== undefined) {
      this.waiting.delete(key);
      this.removeFromOrder(lane, key);
    }
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
    const routineSlots = this.options.concurrency;
    const allSlots = routineSlots + (this.options.urgentConcurrency ?? 0);
    // Urgent work first, in every free worker; routine work only in its own share.
    while (this.running.size < allSlots && this.order.urgent.length > 0) this.startOne(this.order.urgent.shift() as string, 'urgent');
    while (this.routineRunning() < routineSlots && this.running.size < allSlots && (this.order.due.length > 0 || this.order.routine.length > 0)) {
      const takeDue = this.order.due.length > 0 && (this.order.routine.length === 0 || this.dueStreak < DUE_STREAK);
      this.dueStreak = takeDue ? this.dueStreak + 1 : 0;
      const lane: Lane = takeDue ? 'due' : 'routine';
      this.startOne(this.order[lane].shift() as string, lane);
    }
  }

  private routineRunning(): number {
    let n = 0;
    for (const r of this.running.values()) if (r.lane !== 'urgent') n++;
    return n;
  }

  private startOne(key: string, lane: Lane): void {
    this.waiting.delete(key);
    const preempt = new AbortController();
    this.running.set(key, { lane, preempt });
    const run = this.runOne(key, preempt.signal).finally(() => {
      this.inFlight.delete(run);
      this.running.delete(key);
      const again = this.dirty.get(key);
      this.dirty.delete(key);
      if (again !== undefined) this.add(key, { urgent: again === 'urgent', due: again === 'due' });
      this.pump();
    });
    this.inFlight.add(run);
  }

  private async runOne(key: string, preempt: AbortSignal): Promise<void> {
    try {
      const outcome = await this.options.reconcile(key, this.abort.signal, preempt);
      this.failures.delete(key);
      if (outcome?.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
    } catch (error) {
      if (this.stopped) return;
      // Not a failure: the key runs again at once, urgently (it was marked dirty).
      if (error instanceof Preempted || preempt.aborted) return;
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
