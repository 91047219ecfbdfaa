import { MAX_TIMER_MS, Preempted, WorkQueue, type Timers } from '../../src/controller/workQueue';

/** Manual timers: tests advance time explicitly, so nothing here depends on the wall clock. */
class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now) {
        this.pending.delete(id);
        t.fn();
      }
    }
  }
  get delays(): number[] {
    return [...this.pending.values()].map((t) => t.at - this.now);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('waits a delay past setTimeout\'s limit (a 720h pause) exactly, as a chain of timers at the limit, with no reconcile before it is due', async () => {
    const timers = new ManualTimers();
    const runs: number[] = [];
    const q = new WorkQueue({ concurrency: 1, timers, reconcile: async () => void runs.push(timers.now) });
    q.start();
    const wait = 720 * 3_600_000;
    q.addAfter('a', wait, 0);
    expect(q.scheduledAt('a')).toBe(wait);
    let fired = 0;
    while (timers.delays.length > 0) {
      expect(Math.max(...timers.delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
      timers.advance(Math.min(...timers.delays));
      await q.idle();
      if (timers.now < wait) expect(runs).toStrictEqual([]);
      if (++fired > 5) throw new Error('too many timers for one wait');
    }
    expect(runs).toStrictEqual([wait]);
    expect(fired).toBe(Math.ceil(wait / MAX_TIMER_MS));
  });

  it('runs work whose time came ahead of a backlog of watch events, but never starves the backlog', async () => {
    const timers = new ManualTimers();
    const runs: string[] = [];
    const gate = deferred();
    const q = new WorkQueue({
      concurrency: 1,
      timers,
      reconcile: async (k) => {
        runs.push(k);
        if (k === 'blocker') await gate.promise;
      },
    });
    q.start();
    q.add('blocker');
    // A backlog (a relist, a resync) waits while the only worker is busy...
    for (let i = 0; i < 6; i++) q.add(`event-${i}`);
    // ...and then five steps come due.
    for (let i = 0; i < 5; i++) q.addAfter(`step-${i}`, 10, timers.now);
    timers.advance(10);
    // A due key already waiting as routine work moves up to the due lane.
    q.addAfter('event-5', 1, timers.now);
    timers.advance(1);
    gate.resolve();
    await q.idle();
    expect(runs).toEqual(['blocker', 'step-0', 'step-1', 'step-2', 'event-0', 'step-3', 'step-4', 'event-5', 'event-1', 'event-2', 'event-3', 'event-4']);
  });

  it('runs a key added several times while waiting only once', async () => {
    const runs: string[] = [];
    const q = new WorkQueue({ concurrency: 1, reconcile: async (k) => void runs.push(k) });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    await q.idle();
    expect(runs).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and reruns a key that changed during its run', async () => {
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const q = new WorkQueue({
      concurrency: 4,
      reconcile: async () => {
        runs++;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        if (runs === 1) await gate.promise;
        concurrent--;
      },
    });
    q.start();
    q.add('a');
    await new Promise((r) => setImmediate(r));
    q.add('a');
    q.add('a');
    gate.resolve();
    await q.idle();
    expect(maxConcurrent).toBe(1);
    expect(runs).toBe(2);
  });

  it('bounds how many keys run at once, so other plans still progress', async () => {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const started: string[] = [];
    const q = new WorkQueue({
      concurrency: 2,
      reconcile: async (k) => {
        started.push(k);
        const g = deferred();
        gates.set(k, g);
        await g.promise;
      },
    });
    q.start();
    ['a', 'b', 'c'].forEach((k) => q.add(k));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    gates.get('a')?.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('b')?.resolve();
    gates.get('c')?.resolve();
    await q.idle();
  });

  it('retries a failing key with growing per-key backoff and resets it after a success', async () => {
    const timers = new ManualTimers();
    let failuresLeft = 3;
    const retries: number[] = [];
    const q = new WorkQueue({
      concurrency: 1,
      timers,
      jitter: () => 1,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      reconcile: async () => {
        if (failuresLeft-- > 0) throw new Error('conflict');
      },
      onError: (_k, _e, _attempt, retryIn) => retries.push(retryIn),
    });
    q.start();
    q.add('a');
    await q.idle();
    expect(timers.delays).toEqual([100]);
    timers.advance(100);
    await q.idle();
    expect(timers.delays).toEqual([200]);
    timers.advance(200);
    await q.idle();
    expect(timers.delays).toEqual([400]);
    timers.advance(400);
    await q.idle();
    expect(timers.delays).toEqual([]);
    expect(retries).toEqual([100, 200, 400]);
  });

  it('caps the backoff', async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue({
      concurrency: 1, timers, jitter: () => 1, backoffBaseMs: 100, backoffMaxMs: 300,
      reconcile: async () => { throw new Error('down'); },
    });
    q.start();
    q.add('a');
    for (let i = 0; i < 5; i++) {
      await q.idle();
      timers.advance(1000);
    }
    await q.idle();
    expect(timers.delays).toEqual([300]);
    await q.stop();
  });

  it('keeps the earliest of several scheduled evaluations for one key', async () => {
    const timers = new ManualTimers();
    const runs: number[] = [];
    const q = new WorkQueue({ concurrency: 1, timers, reconcile: async () => void runs.push(timers.now) });
    q.start();
    q.addAfter('a', 5000, timers.now);
    q.addAfter('a', 2000, timers.now);
    q.addAfter('a', 9000, timers.now);
    expect(q.scheduledAt('a')).toBe(2000);
    timers.advance(2000);
    await q.idle();
    timers.advance(10_000);
    await q.idle();
    expect(runs).toEqual([2000]);
  });

  it('schedules the evaluation a reconcile asks for', async () => {
    const timers = new ManualTimers();
    let runs = 0;
    const q = new WorkQueue({
      concurrency: 1, timers,
      reconcile: async () => (++runs === 1 ? { requeueAfterMs: 30_000 } : undefined),
    });
    q.start();
    q.add('a');
    await q.idle();
    expect(timers.delays).toEqual([30_000]);
    timers.advance(30_000);
    await q.idle();
    expect(runs).toBe(2);
  });

  it('forget drops a scheduled evaluation and a waiting run', async () => {
    const timers = new ManualTimers();
    let runs = 0;
    const q = new WorkQueue({ concurrency: 1, timers, reconcile: async () => void runs++ });
    q.addAfter('a', 1000, 0);
    q.add('b');
    q.forget('a');
    q.forget('b');
    q.start();
    timers.advance(2000);
    await q.idle();
    expect(runs).toBe(0);
  });

  it('stop aborts the signal and waits for the reconcile in flight', async () => {
    let finished = false;
    let sawAbort = false;
    const q = new WorkQueue({
      concurrency: 1,
      reconcile: async (_k, signal) => {
        await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
        sawAbort = signal.aborted;
        await new Promise((r) => setTimeout(r, 10));
        finished = true;
      },
    });
    q.start();
    q.add('a');
    await new Promise((r) => setImmediate(r));
    await q.stop();
    expect(sawAbort).toBe(true);
    expect(finished).toBe(true);
  });
});

describe('WorkQueue graceful stop', () => {
  it('lets the reconcile in flight finish without an abort', async () => {
    let abortedBeforeEnd: boolean | undefined;
    const q = new WorkQueue({
      concurrency: 1,
      reconcile: async (_k, signal) => {
        await new Promise((r) => setTimeout(r, 20));
        abortedBeforeEnd = signal.aborted;
      },
    });
    q.start();
    q.add('a');
    await new Promise((r) => setImmediate(r));
    await q.stop(true);
    expect(abortedBeforeEnd).toBe(false);
  });

  describe('urgent work (rollbacks, deletions)', () => {
    /** A queue whose reconciles wait until the test releases them, recording what ran and when. */
    function gated(options: { concurrency: number; urgentConcurrency?: number }) {
      const gates = new Map<string, () => void>();
      const started: string[] = [];
      const errors: string[] = [];
      const preempts = new Map<string, AbortSignal>();
      const q = new WorkQueue({
        ...options,
        timers: new ManualTimers(),
        onError: (key) => errors.push(key),
        reconcile: (key, _signal, preempt) => {
          started.push(key);
          preempts.set(key, preempt);
          return new Promise<void>((resolve, reject) => {
            gates.set(key, resolve);
            preempt.addEventListener('abort', () => reject(new Preempted()), { once: true });
          });
        },
      });
      q.start();
      const release = async (key: string): Promise<void> => {
        gates.get(key)?.();
        gates.delete(key);
        await new Promise((r) => setImmediate(r));
      };
      const tick = () => new Promise((r) => setImmediate(r));
      return { q, started, errors, preempts, release, tick };
    }

    it('runs at once in a worker of its own while every routine worker is busy', async () => {
      const { q, started, tick } = gated({ concurrency: 2, urgentConcurrency: 1 });
      q.add('slow-1');
      q.add('slow-2');
      q.add('slow-3');
      q.add('rollback', { urgent: true });
      await tick();
      expect(started).toStrictEqual(['slow-1', 'slow-2', 'rollback']);
      expect(q.size).toMatchObject({ running: 3, waiting: 1 });
    });

    it('goes ahead of routine work that waited longer', async () => {
      const { q, started, release, tick } = gated({ concurrency: 1 });
      q.add('a');
      q.add('b');
      q.add('c', { urgent: true });
      await tick();
      expect(started).toStrictEqual(['a']);
      await release('a');
      expect(started).toStrictEqual(['a', 'c']);
      await release('c');
      expect(started).toStrictEqual(['a', 'c', 'b']);
    });

    it('routine work never takes the urgent workers', async () => {
      const { q, started, tick } = gated({ concurrency: 1, urgentConcurrency: 3 });
      for (const k of ['a', 'b', 'c']) q.add(k);
      await tick();
      expect(started).toStrictEqual(['a']);
    });

    it('preempts routine work running for the same key: the key runs again at once, urgently, with no backoff and no error', async () => {
      const { q, started, errors, preempts, tick } = gated({ concurrency: 1, urgentConcurrency: 1 });
      q.add('plan');
      q.add('other');
      await tick();
      expect(preempts.get('plan')?.aborted).toBe(false);
      q.add('plan', { urgent: true });
      await tick();
      await tick();
      // The urgent rerun first, then the routine work that waited for the freed worker.
      expect(started).toStrictEqual(['plan', 'plan', 'other']);
      expect(errors).toStrictEqual([]);
      expect(q.scheduledAt('plan')).toBeUndefined();
    });

    it('an urgent add does not preempt urgent work already running for the key', async () => {
      const { q, started, preempts, release, tick } = gated({ concurrency: 1, urgentConcurrency: 1 });
      q.add('plan', { urgent: true });
      await tick();
      q.add('plan', { urgent: true });
      await tick();
      expect(preempts.get('plan')?.aborted).toBe(false);
      await release('plan');
      expect(started).toStrictEqual(['plan', 'plan']);
    });
  });
});
