import { LeaderElector, type LeaseRecord, type LeaseStore, type StoredLease } from '../../src/controller/leaderElection';

class ConflictError extends Error {
  readonly status = 409;
}

/** A Lease with resourceVersion preconditions, as the API server keeps it. */
class MemoryLease {
  lease: StoredLease | undefined;
  private rv = 0;
  reachable = true;
  storeFor(): LeaseStore {
    return {
      get: async () => {
        if (!this.reachable) throw new Error('ECONNREFUSED');
        return this.lease && structuredClone(this.lease);
      },
      create: async (spec: LeaseRecord) => {
        if (!this.reachable) throw new Error('ECONNREFUSED');
        if (this.lease) throw new ConflictError('already exists');
        this.lease = { spec: { ...spec }, resourceVersion: String(++this.rv) };
        return structuredClone(this.lease);
      },
      replace: async (spec: LeaseRecord, rv: string) => {
        if (!this.reachable) throw new Error('ECONNREFUSED');
        if (!this.lease || this.lease.resourceVersion !== rv) throw new ConflictError('modified');
        this.lease = { spec: { ...spec }, resourceVersion: String(++this.rv) };
        return structuredClone(this.lease);
      },
    };
  }
}

const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function candidate(lease: MemoryLease, identity: string, clock: { now: number }) {
  const log: string[] = [];
  const elector = new LeaderElector({
    store: lease.storeFor(),
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    microTime,
    now: () => clock.now,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: () => log.push('stopped'),
  });
  return { elector, log };
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates hold a free lease', async () => {
    const lease = new MemoryLease();
    const clock = { now: 1_000_000 };
    const a = candidate(lease, 'a', clock);
    const b = candidate(lease, 'b', clock);
    const results = await Promise.all([a.elector.tryAcquireOrRenew(), b.elector.tryAcquireOrRenew()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(['a', 'b']).toContain(lease.lease?.spec.holderIdentity);
  });

  it('writes MicroTime renew and acquire times with six fractional digits', async () => {
    const lease = new MemoryLease();
    const a = candidate(lease, 'a', { now: Date.UTC(2026, 10, 27, 9, 48, 29, 142) });
    await a.elector.tryAcquireOrRenew();
    expect(lease.lease?.spec.renewTime).toBe('2026-11-27T09:48:29.142000Z');
    expect(lease.lease?.spec.acquireTime).toBe('2026-11-27T09:48:29.142000Z');
  });

  it('a follower takes over only after seeing the record unchanged for a lease duration', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    const a = candidate(lease, 'a', clock);
    const b = candidate(lease, 'b', clock);
    expect(await a.elector.tryAcquireOrRenew()).toBe(true);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false); // b first observes the record now
    clock.now += 14_000;
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    clock.now += 1_000;
    expect(await b.elector.tryAcquireOrRenew()).toBe(true);
    expect(lease.lease?.spec.holderIdentity).toBe('b');
    expect(lease.lease?.spec.leaseTransitions).toBe(1);
  });

  it('a renewing holder keeps the lease however long the follower waits', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    const a = candidate(lease, 'a', clock);
    const b = candidate(lease, 'b', clock);
    await a.elector.tryAcquireOrRenew();
    for (let i = 0; i < 20; i++) {
      clock.now += 2_000;
      expect(await a.elector.tryAcquireOrRenew()).toBe(true);
      expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    }
  });

  it('stops leading when it cannot renew within the renew deadline, and says so at once', async () => {
    jest.useFakeTimers();
    try {
      const lease = new MemoryLease();
      const clock = { now: 0 };
      const a = candidate(lease, 'a', clock);
      a.elector.start();
      await jest.advanceTimersByTimeAsync(1);
      expect(a.log).toEqual(['started']);
      expect(a.elector.isLeader).toBe(true);
      lease.reachable = false;
      for (let i = 0; i < 6; i++) {
        clock.now += 2_000;
        await jest.advanceTimersByTimeAsync(2_000);
      }
      expect(a.elector.isLeader).toBe(false);
      expect(a.log).toEqual(['started', 'stopped']);
      await a.elector.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('releases the lease on stop, so a successor takes it without waiting out the duration', async () => {
    jest.useFakeTimers();
    try {
      const lease = new MemoryLease();
      const clock = { now: 0 };
      const a = candidate(lease, 'a', clock);
      const b = candidate(lease, 'b', clock);
      a.elector.start();
      await jest.advanceTimersByTimeAsync(1);
      expect(await b.elector.tryAcquireOrRenew()).toBe(false);
      await a.elector.stop();
      expect(a.log).toEqual(['started', 'stopped']);
      expect(lease.lease?.spec.holderIdentity).toBe('');
      clock.now += 1;
      expect(await b.elector.tryAcquireOrRenew()).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a renew deadline that is not below the lease duration', () => {
    expect(() => new LeaderElector({
      store: new MemoryLease().storeFor(), identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000,
      microTime, onStartedLeading: () => {}, onStoppedLeading: () => {},
    })).toThrow(/renewDeadline 10000 ms must be below leaseDuration 10000 ms/);
  });
});
