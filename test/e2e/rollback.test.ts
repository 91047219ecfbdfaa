// Rollbacks end to end: automatic (a critical webhook check fails at step 2), by request while
// paused, then a retry that succeeds, and a rollback that must land on a hand-edited target.
import { useE2eRun } from '../support/e2e';
import {
  condition,
  createPlan,
  liveWeight,
  observeFor,
  patchSpec,
  request,
  waitForPhase,
  waitForStatus,
  waitForWeight,
  webhookAnalysis,
} from '../support/plans';
import { REFS, type WeightRecorder } from '../support/targets';
import type { Target } from '../../src/plan/schema';

const run = useE2eRun('rollback');

async function lockstepTargets(base: string): Promise<Array<{ target: Target; recorder: WeightRecorder }>> {
  return [await run.target('nginx', `${base}-nginx`), await run.target('gatewayAPI', `${base}-route`), await run.target('istio', `${base}-vs`)];
}

it('rolls every target back to 0 when the webhook check starts failing at step 2, and keeps it there', async () => {
  const name = 'auto';
  const targets = await lockstepTargets(name);
  // Healthy at step 1 (weight 10); from step 2 (weight 30) on, the check reports 1 > max 0.05.
  run.checks.valueFor = (req) => (req.plan?.name === name && (req.weight ?? 0) >= 30 ? 1 : 0);
  await createPlan(run.cluster, name, {
    targets: targets.map((t) => t.target),
    steps: [{ weight: 10 }, { weight: 30 }, { weight: 60 }, { weight: 100 }],
    analysis: webhookAnalysis(run.checkUrl),
    rollback: { automatic: true, rto: '30s' },
  });

  const status = await waitForPhase(run.cluster, name, 'RolledBack');
  for (const { target } of targets) expect(await liveWeight(run.cluster, target)).toBe(0);
  expect(status.canaryWeight).toBe(0);
  expect(status.currentStep).toBe(1);
  expect(status.rollback).toEqual({
    reason: expect.stringContaining('smoke'),
    triggeredAt: expect.any(String),
    completedAt: expect.any(String),
    recoverySeconds: expect.any(Number),
    // The fixtures' stable backend has one ready endpoint (the readiness gate's record).
    stableReadyEndpoints: 1,
  });
  expect(status.rollback?.recoverySeconds).toBeLessThan(30);
  expect(Date.parse(status.rollback?.completedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(status.rollback?.triggeredAt ?? ''));
  expect(condition(status, 'Stalled')).toMatchObject({ status: 'True', reason: 'RolledBack' });

  // Every target saw exactly the steps it reached, in order, then 0: nothing above step 2.
  for (const { recorder } of targets) {
    await waitForWeight(run.cluster, recorder.target, 0);
    expect(recorder.weights).toEqual([0, 10, 30, 0]);
  }
  // A few analysis intervals later, nothing went back up.
  const seen = targets.map((t) => [...t.recorder.weights]);
  await observeFor(3_000);
  expect(targets.map((t) => t.recorder.weights)).toEqual(seen);
  expect((await waitForPhase(run.cluster, name, 'RolledBack')).canaryWeight).toBe(0);
});

it('rolls back on the rollback annotation while paused; a retry starts again and can succeed', async () => {
  const name = 'manual';
  run.checks.valueFor = undefined;
  run.checks.value = 0;
  const targets = [await run.target('nginx', `${name}-nginx`), await run.target('gatewayAPI', `${name}-route`)];
  await createPlan(run.cluster, name, {
    targets: targets.map((t) => t.target),
    // The first step is a promotion gate, so the plan sits still at 20 until we act.
    steps: [{ weight: 20, pause: {} }, { weight: 100 }],
    analysis: webhookAnalysis(run.checkUrl),
  });
  await waitForPhase(run.cluster, name, 'WaitingForPromotion');
  await patchSpec(run.cluster, name, { paused: true });
  await waitForPhase(run.cluster, name, 'Paused');

  await request(run.cluster, name, 'rollback', 'checkout errors seen by support');
  const rolledBack = await waitForPhase(run.cluster, name, 'RolledBack');
  expect(rolledBack.rollback?.reason).toBe('checkout errors seen by support');
  expect(rolledBack.rollback?.recoverySeconds).toEqual(expect.any(Number));
  for (const { target } of targets) expect(await liveWeight(run.cluster, target)).toBe(0);

  await patchSpec(run.cluster, name, { paused: false });
  await request(run.cluster, name, 'retry', 'after the fix');
  await waitForStatus(run.cluster, name, (s) => s?.phase === 'WaitingForPromotion' && s.canaryWeight === 20, 'waiting at 20 again after the retry');
  await request(run.cluster, name, 'promote', 'go');
  const done = await waitForPhase(run.cluster, name, 'Succeeded');
  expect(done.canaryWeight).toBe(100);
  for (const { target, recorder } of targets) {
    expect(await liveWeight(run.cluster, target)).toBe(100);
    await waitForWeight(run.cluster, target, 100);
    expect(recorder.weights).toEqual([0, 20, 0, 20, 100]);
  }
});

it('writes 0 on rollback even to a target a person edited by hand', async () => {
  const name = 'handedit';
  run.checks.valueFor = undefined;
  run.checks.value = 0;
  const targets = [await run.target('nginx', `${name}-nginx`), await run.target('gatewayAPI', `${name}-route`)];
  await createPlan(run.cluster, name, {
    targets: targets.map((t) => t.target),
    steps: [{ weight: 30, pause: {} }, { weight: 100 }],
    analysis: webhookAnalysis(run.checkUrl),
  });
  await waitForPhase(run.cluster, name, 'WaitingForPromotion');
  // Someone "fixes" the canary Ingress by hand with a value nginx cannot use: the plan can no
  // longer read where traffic is, and holds.
  await run.cluster.kube.mergePatch(
    { ...REFS.ingresses, namespace: run.cluster.namespace, name: `${name}-nginx-canary` },
    { metadata: { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': 'lots' } } },
  );
  await waitForStatus(run.cluster, name, (s) => s?.phase === 'Holding' && condition(s, 'Stalled')?.reason === 'TargetInvalid', 'holding on the hand-edited Ingress');

  await request(run.cluster, name, 'rollback', 'hand edit went wrong');
  const status = await waitForPhase(run.cluster, name, 'RolledBack');
  expect(status.rollback?.reason).toBe('hand edit went wrong');
  for (const { target } of targets) expect(await liveWeight(run.cluster, target)).toBe(0);
  const ingress = await run.cluster.kube.get({ ...REFS.ingresses, namespace: run.cluster.namespace, name: `${name}-nginx-canary` });
  expect((ingress['metadata'] as { annotations: Record<string, string> }).annotations['nginx.ingress.kubernetes.io/canary-weight']).toBe('0');
});
