// Steering a running plan the way people do: kubectl merge patches for pause and resume, the
// promote annotation for a promotion gate, deleting a plan (the finalizer restores stable unless
// it Succeeded), and the real kubectl for `wait` and `get`.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { SETTLE_MS } from '../support/deadlines';
import { CheckServer } from '../support/checkServer';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import {
  condition,
  createPlan,
  liveWeight,
  makeTarget,
  patchSpec,
  planExists,
  deletePlan,
  request,
  waitForPhase,
  waitForStatus,
  waitForWeight,
  webhookAnalysis,
} from '../support/plans';
import type { WeightRecorder } from '../support/targets';

const run = promisify(execFile);

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
let controller: ControllerProcess;
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('steering');
  checks = new CheckServer();
  checkUrl = await checks.start();
  controller = await startControllerProcess(cluster);
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  await controller?.stop();
  await checks?.stop();
  await cluster?.close();
});

async function target(provider: Parameters<typeof makeTarget>[1], base: string) {
  const made = await makeTarget(cluster, provider, base);
  recorders.push(made.recorder);
  return made;
}

it('holds the weight while spec.paused is true (analysis goes on, no advance) and continues on resume', async () => {
  const name = 'pause';
  const { target: t, recorder } = await target('gatewayAPI', name);
  await createPlan(cluster, name, { targets: [t], steps: [{ weight: 10, pause: '2s' }, { weight: 40 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForStatus(cluster, name, (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 10, 'step 1 landed');

  // kubectl patch mp pause --type merge -p '{"spec":{"paused":true}}'
  await patchSpec(cluster, name, { paused: true });
  const paused = await waitForPhase(cluster, name, 'Paused');
  const held = paused.canaryWeight;
  const pausedAt = Date.parse(paused.lastRound?.at ?? new Date().toISOString());
  // Three more analysis rounds while paused, the 2s step pause long over: due to advance, yet held.
  await waitForStatus(cluster, name, (s) => Date.parse(s?.lastRound?.at ?? '') >= pausedAt + 3_000, 'three analysis intervals while paused', 20_000);
  const still = await waitForPhase(cluster, name, 'Paused');
  expect(still.canaryWeight).toBe(held);
  expect(await liveWeight(cluster, t)).toBe(held);
  expect(condition(still, 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused' });

  await patchSpec(cluster, name, { paused: false });
  await waitForPhase(cluster, name, 'Succeeded');
  await waitForWeight(cluster, t, 100);
  expect(recorder.weights).toEqual([0, 10, 40, 100]);
});

it('waits at a promotion gate (pause: {}) until the promote annotation, then advances', async () => {
  const name = 'gate';
  const { target: t, recorder } = await target('istio', name);
  await createPlan(cluster, name, { targets: [t], steps: [{ weight: 20, pause: {} }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  const waiting = await waitForPhase(cluster, name, 'WaitingForPromotion');
  expect(waiting.canaryWeight).toBe(20);
  expect(condition(waiting, 'Progressing')).toMatchObject({ status: 'False', reason: 'WaitingForPromotion' });
  expect(await liveWeight(cluster, t)).toBe(20);

  await request(cluster, name, 'promote', 'looks good');
  const done = await waitForPhase(cluster, name, 'Succeeded');
  expect(done.history?.map((h) => h.event)).toContain('Promoted');
  await waitForWeight(cluster, t, 100);
  expect(recorder.weights).toEqual([0, 20, 100]);
});

it('puts every target back on stable before a plan deleted mid-migration disappears (finalizer)', async () => {
  const name = 'delete-midway';
  const targets = [await target('nginx', `${name}-nginx`), await target('smi', `${name}-split`)];
  await createPlan(cluster, name, { targets: targets.map((x) => x.target), steps: [{ weight: 30, pause: {} }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'WaitingForPromotion');
  for (const { target: t } of targets) expect(await liveWeight(cluster, t)).toBe(30);

  await deletePlan(cluster, name);
  await waitFor(async () => !(await planExists(cluster, name)), SETTLE_MS, `plan ${name} gone`);
  // The finalizer came off only after stable was restored, so this read cannot see 30.
  for (const { target: t, recorder } of targets) {
    expect(await liveWeight(cluster, t)).toBe(0);
    expect(recorder.weights).toEqual([0, 30, 0]);
  }
});

it('restores stable on delete even when the spec was broken meanwhile, as long as its targets still read', async () => {
  const name = 'delete-broken';
  const { target: t, recorder } = await target('istio', name);
  await createPlan(cluster, name, { targets: [t], steps: [{ weight: 40, pause: {} }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'WaitingForPromotion');
  // Steps out of order: the CRD accepts it, zod does not.
  await patchSpec(cluster, name, { steps: [{ weight: 60 }, { weight: 40 }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'Failed');
  expect(await liveWeight(cluster, t)).toBe(40);

  await deletePlan(cluster, name);
  await waitFor(async () => !(await planExists(cluster, name)), SETTLE_MS, `plan ${name} gone`);
  expect(await liveWeight(cluster, t)).toBe(0);
  expect(recorder.weights).toEqual([0, 40, 0]);
});

it('rolls back on request even when the spec was broken meanwhile: an incident does not wait for a spec fix', async () => {
  const name = 'rollback-broken';
  const { target: t, recorder } = await target('smi', name);
  await createPlan(cluster, name, { targets: [t], steps: [{ weight: 35, pause: {} }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'WaitingForPromotion');
  await patchSpec(cluster, name, { steps: [{ weight: 60 }, { weight: 35 }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'Failed');

  await request(cluster, name, 'rollback', 'error budget burning');
  const status = await waitForPhase(cluster, name, 'RolledBack');
  expect(status.rollback?.reason).toBe('error budget burning');
  expect(await liveWeight(cluster, t)).toBe(0);
  expect(recorder.weights).toEqual([0, 35, 0]);
});

it('leaves traffic on the canary when a Succeeded plan is deleted', async () => {
  const name = 'delete-done';
  const { target: t, recorder } = await target('gatewayAPI', name);
  await createPlan(cluster, name, { targets: [t], steps: [{ weight: 50 }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'Succeeded');
  await waitForWeight(cluster, t, 100);

  await deletePlan(cluster, name);
  await waitFor(async () => !(await planExists(cluster, name)), SETTLE_MS, `plan ${name} gone`);
  expect(await liveWeight(cluster, t)).toBe(100);
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
  const args = ['--kubeconfig', cluster.kubeconfigPath, '-n', cluster.namespace];
  await createPlan(cluster, name, { targets: [t], steps: [{ weight: 25, pause: '1s' }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });

  const wait = await run(kubectl as string, [...args, 'wait', '--for=condition=Ready', `mp/${name}`, '--timeout=30s'], { timeout: 40_000 });
  expect(wait.stdout).toContain(`${name} condition met`);
  expect((await waitForPhase(cluster, name, 'Succeeded')).canaryWeight).toBe(100);

  const get = await run(kubectl as string, [...args, 'get', 'mp'], { timeout: 20_000 });
  const [header, ...rows] = get.stdout.trim().split('\n');
  expect(header?.split(/\s+/)).toEqual(['NAME', 'PHASE', 'WEIGHT', 'STEP', 'AGE']);
  const row = rows.find((r) => r.startsWith(`${name} `))?.split(/\s+/);
  expect(row?.slice(0, 4)).toEqual([name, 'Succeeded', '100', '1']);
});
