// Steering a running plan the way people do: kubectl merge patches for pause and resume, the
// promote annotation for a promotion gate, deleting a plan (the finalizer restores stable unless
// it Succeeded), and the real kubectl for `wait` and `get`.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../support/cluster';
import { SETTLE_MS } from '../support/deadlines';
import { useE2eRun } from '../support/e2e';
import {
  condition,
  createPlan,
  liveWeight,
  patchSpec,
  planExists,
  deletePlan,
  request,
  waitForPhase,
  waitForStatus,
  waitForWeight,
  webhookAnalysis,
} from '../support/plans';

const run = promisify(execFile);

const e2e = useE2eRun('steering');
const target = e2e.target;

it('holds the weight while spec.paused is true (analysis goes on, no advance) and continues on resume', async () => {
  const name = 'pause';
  const { target: t, recorder } = await target('gatewayAPI', name);
  await createPlan(e2e.cluster, name, { targets: [t], steps: [{ weight: 10, pause: '2s' }, { weight: 40 }, { weight: 100 }], analysis: webhookAnalysis(e2e.checkUrl) });
  await waitForStatus(e2e.cluster, name, (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 10, 'step 1 landed');

  // kubectl patch mp pause --type merge -p '{"spec":{"paused":true}}'
  await patchSpec(e2e.cluster, name, { paused: true });
  const paused = await waitForPhase(e2e.cluster, name, 'Paused');
  const held = paused.canaryWeight;
  const pausedAt = Date.parse(paused.lastRound?.at ?? new Date().toISOString());
  // Three more analysis rounds while paused, the 2s step pause long over: due to advance, yet held.
  await waitForStatus(e2e.cluster, name, (s) => Date.parse(s?.lastRound?.at ?? '') >= pausedAt + 3_000, 'three analysis intervals while paused', 20_000);
  const still = await waitForPhase(e2e.cluster, name, 'Paused');
  expect(still.canaryWeight).toBe(held);
  expect(await liveWeight(e2e.cluster, t)).toBe(held);
  expect(condition(still, 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused' });

  await patchSpec(e2e.cluster, name, { paused: false });
  await waitForPhase(e2e.cluster, name, 'Succeeded');
  await waitForWeight(e2e.cluster, t, 100);
  expect(recorder.weights).toEqual([0, 10, 40, 100]);
});

it('waits at a promotion gate (pause: {}) until the promote annotation, then advances', async () => {
  const name = 'gate';
  const { target: t, recorder } = await target('istio', name);
  await createPlan(e2e.cluster, name, { targets: [t], steps: [{ weight: 20, pause: {} }, { weight: 100 }], analysis: webhookAnalysis(e2e.checkUrl) });
  const waiting = await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');
  expect(waiting.canaryWeight).toBe(20);
  expect(condition(waiting, 'Progressing')).toMatchObject({ status: 'False', reason: 'WaitingForPromotion' });
  expect(await liveWeight(e2e.cluster, t)).toBe(20);

  await request(e2e.cluster, name, 'promote', 'looks good');
  const done = await waitForPhase(e2e.cluster, name, 'Succeeded');
  expect(done.history?.map((h) => h.event)).toContain('Promoted');
  await waitForWeight(e2e.cluster, t, 100);
  expect(recorder.weights).toEqual([0, 20, 100]);
});

it('puts every target back on stable before a plan deleted mid-migration disappears (finalizer)', async () => {
  const name = 'delete-midway';
  const targets = [await target('nginx', `${name}-nginx`), await target('smi', `${name}-split`)];
  await createPlan(e2e.cluster, name, { targets: targets.map((x) => x.target), steps: [{ weight: 30, pause: {} }, { weight: 100 }] });
  await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');
  for (const { target: t } of targets) expect(await liveWeight(e2e.cluster, t)).toBe(30);

  await deletePlan(e2e.cluster, name);
  await waitFor(async () => !(await planExists(e2e.cluster, name)), SETTLE_MS, `plan ${name} gone`);
  // The finalizer came off only after stable was restored, so this read cannot see 30.
  for (const { target: t, recorder } of targets) {
    expect(await liveWeight(e2e.cluster, t)).toBe(0);
    expect(recorder.weights).toEqual([0, 30, 0]);
  }
});

it('restores stable on delete even when the spec was broken meanwhile, as long as its targets still read', async () => {
  const name = 'delete-broken';
  const { target: t, recorder } = await target('istio', name);
  await createPlan(e2e.cluster, name, { targets: [t], steps: [{ weight: 40, pause: {} }, { weight: 100 }] });
  await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');
  // Steps out of order: the CRD accepts it, zod does not.
  await patchSpec(e2e.cluster, name, { steps: [{ weight: 60 }, { weight: 40 }, { weight: 100 }] });
  await waitForPhase(e2e.cluster, name, 'Failed');
  expect(await liveWeight(e2e.cluster, t)).toBe(40);

  await deletePlan(e2e.cluster, name);
  await waitFor(async () => !(await planExists(e2e.cluster, name)), SETTLE_MS, `plan ${name} gone`);
  expect(await liveWeight(e2e.cluster, t)).toBe(0);
  expect(recorder.weights).toEqual([0, 40, 0]);
});

it('rolls back on request even when the spec was broken meanwhile: an incident does not wait for a spec fix', async () => {
  const name = 'rollback-broken';
  const { target: t, recorder } = await target('smi', name);
  await createPlan(e2e.cluster, name, { targets: [t], steps: [{ weight: 35, pause: {} }, { weight: 100 }] });
  await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');
  await patchSpec(e2e.cluster, name, { steps: [{ weight: 60 }, { weight: 35 }, { weight: 100 }] });
  await waitForPhase(e2e.cluster, name, 'Failed');

  await request(e2e.cluster, name, 'rollback', 'error budget burning');
  const status = await waitForPhase(e2e.cluster, name, 'RolledBack');
  expect(status.rollback?.reason).toBe('error budget burning');
  expect(await liveWeight(e2e.cluster, t)).toBe(0);
  expect(recorder.weights).toEqual([0, 35, 0]);
});

it('leaves traffic on the canary when a Succeeded plan is deleted', async () => {
  const name = 'delete-done';
  const { target: t, recorder } = await target('gatewayAPI', name);
  await createPlan(e2e.cluster, name, { targets: [t], steps: [{ weight: 50 }, { weight: 100 }] });
  await waitForPhase(e2e.cluster, name, 'Succeeded');
  await waitForWeight(e2e.cluster, t, 100);

  await deletePlan(e2e.cluster, name);
  await waitFor(async () => !(await planExists(e2e.cluster, name)), SETTLE_MS, `plan ${name} gone`);
  expect(await liveWeight(e2e.cluster, t)).toBe(100);
  expect(recorder.weights).toEqual([0, 50, 100]);
});

function onPath(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const kubectl = onPath('kubectl');
if (!kubectl) {
  // eslint-disable-next-line no-console
  console.warn('steering.test.ts: kubectl is not on PATH; SKIPPING the kubectl wait/get test');
}
const itKubectl = kubectl ? it : it.skip;

itKubectl('works with the real kubectl: `wait --for=condition=Ready mp/NAME` returns once the plan succeeds; `get mp` shows the columns', async () => {
  const name = 'kubectl';
  const { target: t } = await target('nginx', name);
  const args = ['--kubeconfig', e2e.cluster.kubeconfigPath, '-n', e2e.cluster.namespace];
  await createPlan(e2e.cluster, name, { targets: [t], steps: [{ weight: 25, pause: '1s' }, { weight: 100 }], analysis: webhookAnalysis(e2e.checkUrl) });

  const wait = await run(kubectl as string, [...args, 'wait', '--for=condition=Ready', `mp/${name}`, '--timeout=30s'], { timeout: 40_000 });
  expect(wait.stdout).toContain(`${name} condition met`);
  expect((await waitForPhase(e2e.cluster, name, 'Succeeded')).canaryWeight).toBe(100);

  const get = await run(kubectl as string, [...args, 'get', 'mp'], { timeout: 20_000 });
  const [header, ...rows] = get.stdout.trim().split('\n');
  expect(header?.split(/\s+/)).toEqual(['NAME', 'PHASE', 'WEIGHT', 'STEP', 'AGE']);
  const row = rows.find((r) => r.startsWith(`${name} `))?.split(/\s+/);
  expect(row?.slice(0, 4)).toEqual([name, 'Succeeded', '100', '1']);
});
