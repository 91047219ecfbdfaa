// Steps gated on a real Prometheus. Four plans run side by side against one controller: each has
// its own stable/canary backends, and traffic that follows the weight the controller last wrote
// to its target. Prometheus scrapes every backend each second; the plans' checks are PromQL on
// their own canary. Asserted on each plan's status and on the weights its target held.
import type { Controller } from '../../src/controller/controller';
import type { RunningPrometheus } from '../../src/demo/prometheus';
import type { MigrationPlanStatus, Phase } from '../../src/plan/schema';
import { errorRateQuery, latencyP99Query, scrapeTargets, startPair, stopPairs, Traffic, type BackendPair } from '../support/backends';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { startController } from '../support/controller';
import { createPlan, liveWeight, makeTarget } from '../support/plans';
import { haveBinaries, itWithBinaries, startTestPrometheus } from '../support/prometheus';
import type { WeightRecorder } from '../support/targets';
import { checkOf, pollPhase, pollStatus, Scenarios } from './scenario';

const it = itWithBinaries('prometheus');

type Key = 'healthy' | 'errors' | 'slow' | 'warning' | 'validated';

let cluster: TestCluster | undefined;
let controller: Controller | undefined;
let prometheus: RunningPrometheus | undefined;
const pairs = new Map<Key, BackendPair>();
const scenarios = new Scenarios<Key>();

interface Seen {
  status: MigrationPlanStatus;
  /** Every canary weight the target held, in order. */
  weights: number[];
  /** What the target holds at the end, read fresh. */
  finalWeight: number | undefined;
  canaryRequests: number;
}

function analysis(checks: Array<Record<string, unknown>>): Record<string, unknown> {
  return { interval: '1s', prometheus: { address: (prometheus as RunningPrometheus).address }, checks };
}

/** Creates a target and a plan over it, runs traffic through it, and waits for `until`. */
async function runPlan(key: Key, spec: (canary: string) => Record<string, unknown>, until: Phase, during?: (recorder: WeightRecorder) => Promise<void>): Promise<Seen> {
  const c = cluster as TestCluster;
  const pair = pairs.get(key) as BackendPair;
  const { target, recorder } = await makeTarget(c, 'nginx', key);
  const traffic = new Traffic(c, target, pair);
  try {
    await traffic.start();
    await createPlan(c, key, { targets: [target], ...spec(pair.canary.name) });
    await during?.(recorder);
    const status = await pollPhase(c, key, until, 45_000);
    const finalWeight = status.canaryWeight;
    await waitFor(() => recorder.current === finalWeight, 5000, `the watch on ${key}'s target to see ${String(finalWeight)}`);
    return { status, weights: [...recorder.weights], finalWeight: await liveWeight(c, target), canaryRequests: pair.canary.requestsServed };
  } finally {
    await traffic.stop();
    recorder.stop();
  }
}

beforeAll(async () => {
  if (!haveBinaries('prometheus')) return;
  cluster = await startCluster('gates');
  pairs.set('healthy', await startPair('healthy'));
  pairs.set('errors', await startPair('errors', { errorRatio: 0.2 }));
  // The slow canary records every request as taking 0.8 s (it answers at once: the histogram is
  // what the check reads).
  pairs.set('slow', await startPair('slow', { latency: { baseSeconds: 0.8, spreadSeconds: 0 } }));
  pairs.set('warning', await startPair('warning', { errorRatio: 0.2 }));
  pairs.set('validated', await startPair('validated', { errorRatio: 0.2 }));
  prometheus = await startTestPrometheus({ targets: scrapeTargets([...pairs.values()]) });
  controller = await startController(cluster);

  scenarios.start('healthy', () =>
    runPlan('healthy', (canary) => ({
      steps: [{ weight: 10 }, { weight: 50, pause: '2s' }, { weight: 100 }],
      analysis: analysis([
        { name: 'error-rate', query: errorRateQuery(canary), max: 0.05, failureLimit: 2 },
        { name: 'latency-p99', query: latencyP99Query(canary), max: 0.5 },
      ]),
    }), 'Succeeded'),
  );

  // The failing canaries' first step has a pause: their failures are spread evenly (every fifth
  // request), so a round that sees only the first few requests at 20% reads a clean 0, and
  // without a pause that one round would advance the step, as it would in production.
  scenarios.start('errors', () =>
    runPlan('errors', (canary) => ({
      steps: [{ weight: 20, pause: '10s' }, { weight: 60 }, { weight: 100 }],
      analysis: analysis([{ name: 'error-rate', query: errorRateQuery(canary), max: 0.05, failureLimit: 2 }]),
      rollback: { automatic: true, rto: '30s' },
    }), 'RolledBack'),
  );

  // Rolled back like 'errors', then validated: the same checks on the stable backend (stableQuery),
  // with traffic still flowing, all of it to stable now.
  scenarios.start('validated', () => {
    const c = cluster as TestCluster;
    const stable = (pairs.get('validated') as BackendPair).stable.name;
    return runPlan('validated', (canary) => ({
      steps: [{ weight: 20, pause: '10s' }, { weight: 60 }, { weight: 100 }],
      analysis: analysis([
        { name: 'error-rate', query: errorRateQuery(canary), stableQuery: errorRateQuery(stable), max: 0.05, failureLimit: 2 },
        { name: 'latency-p99', query: latencyP99Query(canary), stableQuery: latencyP99Query(stable), max: 0.5 },
      ]),
      rollback: { automatic: true, validation: { duration: '4s' } },
    }), 'RolledBack', async () => {
      const done = (s: MigrationPlanStatus | undefined): boolean => ['Passed', 'Failed', 'NoData'].includes(s?.rollback?.validation?.result ?? '');
      await pollStatus(c, 'validated', done, 'the rollback validation done', 60_000);
    });
  });

  scenarios.start('slow', () =>
    runPlan('slow', (canary) => ({
      steps: [{ weight: 20, pause: '10s' }, { weight: 60 }, { weight: 100 }],
      analysis: analysis([
        { name: 'error-rate', query: errorRateQuery(canary), max: 0.05 },
        { name: 'latency-p99', query: latencyP99Query(canary), max: 0.5 },
      ]),
    }), 'RolledBack'),
  );

  scenarios.start('warning', async () => {
    const c = cluster as TestCluster;
    const held: MigrationPlanStatus[] = [];
    const seen = await runPlan('warning', (canary) => ({
      // The pause keeps an early round that happened to see no error (little traffic yet, on a
      // loaded machine) from advancing the plan before the breach shows: holding is what is tested.
      steps: [{ weight: 20, pause: '15s' }, { weight: 100 }],
      analysis: analysis([
        { name: 'error-rate', query: errorRateQuery(canary), max: 0.05, severity: 'warning' },
        { name: 'latency-p99', query: latencyP99Query(canary), max: 0.5 },
      ]),
    }), 'Succeeded', async () => {
      const breached = (s: MigrationPlanStatus | undefined): boolean => checkOf(s, 'error-rate')?.result === 'Fail';
      await pollStatus(c, 'warning', breached, 'the warning check breached', 30_000);
      // Keep every status seen over four more rounds: each must hold step 1 at 20%.
      const rounds = new Set<string>();
      await pollStatus(c, 'warning', (s) => {
        if (s?.lastRound && breached(s) && !rounds.has(s.lastRound.at)) {
          rounds.add(s.lastRound.at);
          held.push(s);
        }
        return rounds.size >= 4;
      }, 'four rounds with the warning breached', 30_000);
      (pairs.get('warning') as BackendPair).canary.behave({ errorRatio: 0 });
    });
    return { ...seen, held };
  });
}, 90_000);

afterAll(async () => {
  await scenarios.stop();
  await controller?.stop();
  await prometheus?.stop();
  await stopPairs([...pairs.values()]);
  await cluster?.close();
}, 60_000);

describe('steps gated on a real Prometheus', () => {
  it('a healthy canary is promoted through every step to Succeeded', async () => {
    const seen = await scenarios.result<Seen>('healthy');
    expect(seen.status.phase).toBe('Succeeded');
    expect(seen.weights).toEqual([0, 10, 50, 100]);
    expect(seen.finalWeight).toBe(100);
    expect(seen.status.rollback).toBeUndefined();
    // The verdicts came from measured traffic, not from an empty canary.
    expect(checkOf(seen.status, 'error-rate')).toMatchObject({ result: 'Pass', value: 0 });
    expect(checkOf(seen.status, 'latency-p99')?.result).toBe('Pass');
    expect(checkOf(seen.status, 'latency-p99')?.value).toBeGreaterThan(0);
    expect(checkOf(seen.status, 'latency-p99')?.value).toBeLessThan(0.1);
    expect(seen.canaryRequests).toBeGreaterThan(0);
  }, 120_000);

  it('a canary answering 20% 5xx is rolled back after failureLimit (2) breaching rounds, every target at 0', async () => {
    const seen = await scenarios.result<Seen>('errors');
    expect(seen.status.phase).toBe('RolledBack');
    expect(seen.weights).toEqual([0, 20, 0]);
    expect(seen.finalWeight).toBe(0);
    const check = checkOf(seen.status, 'error-rate');
    expect(check).toMatchObject({ result: 'Fail', consecutiveFailures: 2 });
    expect(check?.value).toBeGreaterThan(0.05);
    expect(seen.status.rollback?.reason).toContain('error-rate');
    expect(typeof seen.status.rollback?.recoverySeconds).toBe('number');
    expect(seen.status.rollback?.recoverySeconds).toBeGreaterThanOrEqual(0);
    expect(seen.status.rollback?.completedAt).toBeDefined();
  }, 120_000);

  it('after rolling back a canary answering 20% 5xx, the validation measures the stable backend and passes', async () => {
    const seen = await scenarios.result<Seen>('validated');
    expect(seen.status.phase).toBe('RolledBack');
    expect(seen.weights).toEqual([0, 20, 0]);
    expect(seen.finalWeight).toBe(0);
    // The canary's record is the canary's: it failed.
    expect(checkOf(seen.status, 'error-rate')?.value).toBeGreaterThan(0.05);
    const validation = seen.status.rollback?.validation;
    expect(validation).toMatchObject({ result: 'Passed', breachedRounds: 0 });
    expect(validation?.rounds).toBeGreaterThanOrEqual(4);
    expect(validation?.passedRounds).toBe(validation?.rounds);
    // Stable's own numbers: no errors, and its 20-70 ms answers.
    const stableCheck = (name: string) => validation?.checks?.find((c) => c.name === name);
    expect(stableCheck('error-rate')).toMatchObject({ result: 'Pass', value: 0 });
    expect(stableCheck('latency-p99')?.result).toBe('Pass');
    expect(stableCheck('latency-p99')?.value).toBeGreaterThan(0);
    expect(stableCheck('latency-p99')?.value).toBeLessThan(0.1);
    expect(Date.parse(validation?.completedAt ?? '') - Date.parse(validation?.startedAt ?? '')).toBeGreaterThanOrEqual(4000);
  }, 120_000);

  it('a canary whose p99 latency is above the threshold is rolled back', async () => {
    const seen = await scenarios.result<Seen>('slow');
    expect(seen.status.phase).toBe('RolledBack');
    expect(seen.weights).toEqual([0, 20, 0]);
    expect(seen.finalWeight).toBe(0);
    const latency = checkOf(seen.status, 'latency-p99');
    expect(latency?.result).toBe('Fail');
    expect(latency?.value).toBeGreaterThan(0.5);
    // Only latency was wrong with it.
    expect(checkOf(seen.status, 'error-rate')?.result).not.toBe('Fail');
    expect(seen.status.rollback?.reason).toContain('latency-p99');
    expect(seen.status.rollback?.recoverySeconds).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('a warning-only breach holds the weight over several rounds, then advances once the canary is fixed', async () => {
    const seen = await scenarios.result<Seen & { held: MigrationPlanStatus[] }>('warning');
    expect(seen.held).toHaveLength(4);
    for (const s of seen.held) {
      expect(s).toMatchObject({ phase: 'Holding', canaryWeight: 20, currentStep: 0 });
      expect(s.lastRound?.verdict).toBe('Hold');
      expect(checkOf(s, 'error-rate')).toMatchObject({ severity: 'warning', result: 'Fail' });
      expect(checkOf(s, 'error-rate')?.value).toBeGreaterThan(0.05);
    }
    expect(seen.status.phase).toBe('Succeeded');
    expect(seen.weights).toEqual([0, 20, 100]);
    expect(seen.finalWeight).toBe(100);
    expect(seen.status.rollback).toBeUndefined();
    expect(checkOf(seen.status, 'error-rate')).toMatchObject({ result: 'Pass', value: 0 });
  }, 120_000);
});
