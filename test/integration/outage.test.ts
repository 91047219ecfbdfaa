// Prometheus goes away in the middle of a plan. A check that cannot be evaluated is never a pass:
// the plan holds its weight round after round, even when a person promotes it meanwhile, and
// never counts the outage as a breach. Prometheus comes back on the same port and data, and the
// plan carries on to Succeeded.
import type { Controller } from '../../src/controller/controller';
import type { RunningPrometheus } from '../../src/demo/prometheus';
import type { MigrationPlanStatus } from '../../src/plan/schema';
import { errorRateQuery, scrapeTargets, startPair, stopPairs, Traffic, type BackendPair } from '../support/backends';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { startController } from '../support/controller';
import { createPlan, liveWeight, makeTarget, request } from '../support/plans';
import { haveBinaries, itWithBinaries, startTestPrometheus } from '../support/prometheus';
import { checkOf, pollPhase, pollStatus, stopPolling } from './scenario';

const it = itWithBinaries('prometheus');

let cluster: TestCluster | undefined;
let controller: Controller | undefined;
let prometheus: RunningPrometheus | undefined;
let pair: BackendPair | undefined;

beforeAll(async () => {
  if (!haveBinaries('prometheus')) return;
  cluster = await startCluster('outage');
  pair = await startPair('outage');
  prometheus = await startTestPrometheus({ targets: scrapeTargets([pair]) });
  controller = await startController(cluster);
}, 60_000);

afterAll(async () => {
  stopPolling();
  await controller?.stop();
  await prometheus?.stop();
  if (pair) await stopPairs([pair]);
  await cluster?.close();
}, 60_000);

describe('Prometheus stopped mid-plan', () => {
  it('holds the weight while no check can be evaluated, promoted or not, and continues to Succeeded once Prometheus is back', async () => {
    const c = cluster as TestCluster;
    const prom = prometheus as RunningPrometheus;
    const name = 'outage';
    const { target, recorder } = await makeTarget(c, 'nginx', name);
    const traffic = new Traffic(c, target, pair as BackendPair);
    try {
      await traffic.start();
      await createPlan(c, name, {
        targets: [target],
        steps: [{ weight: 20, pause: {} }, { weight: 50 }, { weight: 100 }],
        // Critical with failureLimit 1: were an unreachable Prometheus counted as a breach, the
        // first round of the outage would roll the plan back.
        analysis: { interval: '1s', prometheus: { address: prom.address, timeout: '2s' }, checks: [{ name: 'error-rate', query: errorRateQuery(`${name}-canary`), max: 0.05 }] },
      });
      await pollPhase(c, name, 'WaitingForPromotion', 30_000);

      await prom.halt();
      const unreachable = (s: MigrationPlanStatus | undefined): boolean => checkOf(s, 'error-rate')?.result === 'Error';
      const firstFailed = await pollStatus(c, name, unreachable, 'a round that could not reach Prometheus', 15_000);
      expect(checkOf(firstFailed, 'error-rate')?.message).toContain('cannot reach Prometheus');

      // A person promotes during the outage: the pause is waived, the hold is not.
      await request(c, name, 'promote', 'during-the-outage');
      await pollStatus(c, name, (s) => s?.handledRequests?.promote === 'during-the-outage', 'the promote handled', 10_000);
      const outageRounds: MigrationPlanStatus[] = [];
      const rounds = new Set<string>();
      await pollStatus(c, name, (s) => {
        if (s?.lastRound && unreachable(s) && !rounds.has(s.lastRound.at)) {
          rounds.add(s.lastRound.at);
          outageRounds.push(s);
        }
        return rounds.size >= 4;
      }, 'four rounds after the promote without Prometheus', 20_000);
      for (const s of outageRounds) {
        expect(s).toMatchObject({ phase: 'Holding', canaryWeight: 20, currentStep: 0, promotedStep: 0 });
        expect(s.lastRound?.verdict).toBe('Hold');
        // An outage says nothing about the canary: it is no breach.
        expect(checkOf(s, 'error-rate')).toMatchObject({ result: 'Error', value: null, consecutiveFailures: 0 });
      }
      expect(recorder.weights).toEqual([0, 20]);
      expect(await liveWeight(c, target)).toBe(20);

      await prom.restart();
      const done = await pollPhase(c, name, 'Succeeded', 40_000);
      await waitFor(() => recorder.current === 100, 5000, 'the watch to see 100');
      expect(recorder.weights).toEqual([0, 20, 50, 100]);
      expect(done.rollback).toBeUndefined();
      expect(checkOf(done, 'error-rate')).toMatchObject({ result: 'Pass', value: 0 });
    } finally {
      await traffic.stop();
      recorder.stop();
    }
  }, 90_000);
});
