// Careless and hostile plans never strand traffic: a spec broken mid-migration still rolls back
// and still restores stable on deletion; a wait far past Node's timer range costs nothing; a
// stable route deleted under a running plan does not leave its canary carrying traffic; a
// rollback reason too large for a status still rolls back; a status written by hand never moves
// traffic up. Everything goes through the kubeconfig, so the file runs unchanged on a real
// kube-apiserver; the one test that needs the in-process server's fault injection says so.
import { waitFor } from '../support/cluster';
import { CheckServer } from '../support/checkServer';
import { useE2eRun } from '../support/e2e';
import { CATCH_UP_MS } from '../support/deadlines';
import {
  condition,
  createPlan,
  deletePlan,
  inProcessOnly,
  liveWeight,
  observeFor,
  patchSpec,
  planExists,
  planRef,
  request,
  waitForPhase,
  waitForStatus,
  waitForWeight,
  webhookAnalysis,
} from '../support/plans';
import { REFS } from '../support/targets';
import { ROUTINE_CONCURRENCY } from '../../src/controller/controller';
import type { Target } from '../../src/plan/schema';
import { MESSAGE_LIMIT } from '../../src/engine/bounds';

const run = useE2eRun('hardening');
const target = run.target;

/** A plan that holds its first step (10) until promoted. */
async function planAtFirstStep(name: string, provider: Target['provider'] = 'nginx'): Promise<Awaited<ReturnType<typeof target>>> {
  const made = await target(provider, name);
  await createPlan(run.cluster, name, { targets: [made.target], steps: [{ weight: 10, pause: {} }, { weight: 100 }], analysis: webhookAnalysis(run.checkUrl) });
  await waitForPhase(run.cluster, name, 'WaitingForPromotion');
  await waitForWeight(run.cluster, made.target, 10);
  return made;
}

describe('a spec broken mid-migration (interval: -5s)', () => {
  it('is Stalled InvalidSpec with the field path, holds the weight, and still rolls back on request', async () => {
    const name = 'broken-rollback';
    const { target: t } = await planAtFirstStep(name);
    await patchSpec(run.cluster, name, { analysis: { interval: '-5s' } });
    const stalled = await waitForStatus(run.cluster, name, (s) => condition(s, 'Stalled')?.reason === 'InvalidSpec', 'Stalled InvalidSpec');
    expect(condition(stalled, 'Stalled')?.message).toContain('spec.analysis.interval');
    expect(await liveWeight(run.cluster, t)).toBe(10);

    await request(run.cluster, name, 'rollback', 'broken spec drill');
    const done = await waitForPhase(run.cluster, name, 'RolledBack');
    expect(done.rollback?.reason).toBe('broken spec drill');
    expect(await liveWeight(run.cluster, t)).toBe(0);
  });

  it('still restores stable when the plan is deleted, before the plan goes', async () => {
    const name = 'broken-delete';
    const { target: t, recorder } = await planAtFirstStep(name, 'gatewayAPI');
    await patchSpec(run.cluster, name, { analysis: { interval: '-5s' } });
    await waitForStatus(run.cluster, name, (s) => condition(s, 'Stalled')?.reason === 'InvalidSpec', 'Stalled InvalidSpec');
    await deletePlan(run.cluster, name);
    await waitFor(async () => !(await planExists(run.cluster, name)), CATCH_UP_MS * 2, `plan ${name} gone`);
    expect(await liveWeight(run.cluster, t)).toBe(0);
    expect(recorder.weights).toEqual([0, 10, 0]);
  });
});

it('a 720h pause waits without spinning: the controller stays idle (CPU from its own /metrics)', async () => {
  const name = 'long-pause';
  const { target: t } = await target('smi', name);
  await createPlan(run.cluster, name, { targets: [t], steps: [{ weight: 10, pause: '720h' }, { weight: 100 }], successCriteria: { bakeTime: '720h' } });
  await waitForStatus(run.cluster, name, (s) => s?.phase === 'Progressing' && s.stepStartedAt !== undefined, 'the first step landed');
  const cpu = async (): Promise<number> => {
    const text = await (await fetch(`${run.controller.url}/metrics`)).text();
    return Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
  };
  const before = await cpu();
  await observeFor(5_000);
  const used = (await cpu()) - before;
  // A timer that overflows fires every millisecond: half a core or more, 2.5 s of CPU here. An
  // idle controller uses a few hundredths. CPU time, not wall time, so a loaded machine does not
  // move it much.
  expect(used).toBeLessThan(1);
  expect(await liveWeight(run.cluster, t)).toBe(10);
  const status = await waitForStatus(run.cluster, name, (s) => s?.phase === 'Progressing', 'still pausing');
  expect(condition(status, 'Progressing')?.message).toContain('pausing until');
});

it('a stable Ingress deleted under a running plan: deleting the plan puts the canary Ingress back to 0 before the finalizer goes', async () => {
  const name = 'stable-gone';
  const { target: t, recorder } = await planAtFirstStep(name, 'nginx');
  await run.cluster.kube.delete({ ...REFS.ingresses, namespace: run.cluster.namespace, name });
  await waitForStatus(run.cluster, name, (s) => condition(s, 'Stalled')?.reason === 'TargetNotFound', 'Stalled TargetNotFound');
  await deletePlan(run.cluster, name);
  await waitFor(async () => !(await planExists(run.cluster, name)), CATCH_UP_MS * 2, `plan ${name} gone`);
  expect(await liveWeight(run.cluster, t)).toBe(0);
  expect(recorder.weights).toEqual([0, 10, 0]);
});

describe('a rollback reason of 200 KB (an alert or a bot that says too much)', () => {
  it('rolls back, and the status carries a bounded reason', async () => {
    const name = 'huge-reason';
    const { target: t } = await planAtFirstStep(name, 'istio');
    const reason = `latency doubled ${'x'.repeat(200_000)}`;
    await request(run.cluster, name, 'rollback', reason);
    const done = await waitForPhase(run.cluster, name, 'RolledBack');
    expect(await liveWeight(run.cluster, t)).toBe(0);
    expect(done.rollback?.reason.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(done.rollback?.reason.startsWith('latency doubled xxx')).toBe(true);
    expect(done.handledRequests?.rollback).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(done).length).toBeLessThan(50_000);
  });

  inProcessOnly()('(in-process only) with every status write refused (413), traffic still goes back to stable', async () => {
    const name = 'status-refused';
    const { target: t } = await planAtFirstStep(name, 'smi');
    const refused = run.cluster.local?.faults.inject({
      match: { verb: 'update', resource: 'migrationplans', subresource: 'status', name },
      respond: { status: 413, message: 'Request entity too large: limit is 3145728' },
    });
    try {
      await request(run.cluster, name, 'rollback', 'status cannot be written');
      await waitForWeight(run.cluster, t, 0);
      expect(refused?.hits).toBeGreaterThan(0);
    } finally {
      refused?.remove();
    }
    await waitForPhase(run.cluster, name, 'RolledBack');
    expect(await liveWeight(run.cluster, t)).toBe(0);
  });
});

it('a status written by hand (currentStep: 9999) never moves traffic up: Stalled StatusInconsistent, the weight stays', async () => {
  const name = 'forged-status';
  const { target: t, recorder } = await planAtFirstStep(name, 'gatewayAPI');
  await run.cluster.kube.mergePatch(planRef(run.cluster, name), { status: { currentStep: 9999, phase: 'Progressing' } }, { subresource: 'status' });
  const stalled = await waitForStatus(run.cluster, name, (s) => condition(s, 'Stalled')?.reason === 'StatusInconsistent', 'Stalled StatusInconsistent');
  expect(stalled.phase).toBe('Holding');
  await observeFor(3_000);
  expect(await liveWeight(run.cluster, t)).toBe(10);
  expect(recorder.weights).toEqual([0, 10]);
  // The way out is the ordinary one: roll back, and traffic goes home.
  await request(run.cluster, name, 'rollback', 'status was edited');
  await waitForPhase(run.cluster, name, 'RolledBack');
  expect(await liveWeight(run.cluster, t)).toBe(0);
});

describe('a rollback waits for nothing (run last: it leaves every routine worker stuck on a hung check)', () => {
  /** A check that answers after two minutes: a rollback that waited for one would take that long. */
  const HANG_MS = 120_000;
  /** A rollback lands in tens of milliseconds; this deadline holds on a loaded machine and is still
   * far below HANG_MS, so passing it proves the rollback did not wait behind a hung check. */
  const ROLLBACK_DEADLINE_MS = 20_000;
  let hung: CheckServer;
  let hungUrl: string;

  beforeAll(async () => {
    hung = new CheckServer();
    hung.delayMs = HANG_MS;
    hungUrl = await hung.start();
  });
  afterAll(async () => hung?.stop());

  it('not behind its own slow check: a round under way is dropped for the rollback', async () => {
    const name = 'own-slow-check';
    const { target: t } = await target('istio', name);
    const before = hung.inFlight;
    await createPlan(run.cluster, name, { targets: [t], steps: [{ weight: 10 }, { weight: 100 }], analysis: { interval: '1s', checks: [{ name: 'slow', webhook: { url: hungUrl, timeout: '5m' }, max: 1 }] } });
    await waitForWeight(run.cluster, t, 10);
    // Its own round is now waiting on the hung check.
    await waitFor(() => hung.inFlight > before, CATCH_UP_MS * 2, 'its round waiting on the slow check');
    await request(run.cluster, name, 'rollback', 'its own check hangs');
    await waitForWeight(run.cluster, t, 0, ROLLBACK_DEADLINE_MS);
    await waitForPhase(run.cluster, name, 'RolledBack');
  });

  it('not behind other plans: with every routine worker stuck on a slow check, another plan rolls back at once', async () => {
    const victim = 'victim';
    const { target: t } = await planAtFirstStep(victim, 'gatewayAPI');
    // More slow plans than the controller has routine workers: every one of them is stuck.
    const busy = Array.from({ length: 20 }, (_, i) => `busy-${i}`);
    for (const name of busy) {
      const { target: bt } = await target('smi', name);
      await createPlan(run.cluster, name, { targets: [bt], steps: [{ weight: 5 }, { weight: 100 }], analysis: { interval: '1s', checks: [{ name: 'slow', webhook: { url: hungUrl, timeout: '5m' }, max: 1 }] } });
    }
    await waitFor(() => hung.inFlight >= ROUTINE_CONCURRENCY, CATCH_UP_MS * 2, 'every routine worker waiting on a slow check');

    await request(run.cluster, victim, 'rollback', 'while the others are stuck');
    await waitForWeight(run.cluster, t, 0, ROLLBACK_DEADLINE_MS);
    expect(hung.inFlight).toBeGreaterThanOrEqual(ROUTINE_CONCURRENCY);
    await waitForPhase(run.cluster, victim, 'RolledBack');
  });
});
