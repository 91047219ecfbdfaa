// A flaky API server (in-process only: faults are injected into the in-process server, and the
// request log counts the writes that landed). Through a 409 storm on status writes, 500s on
// target PATCHes, and watches dropped and expired again and again, a plan still ends Succeeded
// with each step's weight written once, in order.
import { startCluster, type TestCluster } from '../support/cluster';
import { CATCH_UP_MS, SETTLE_MS } from '../support/deadlines';
import { CheckServer } from '../support/checkServer';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import {
  createPlan,
  inProcessOnly,
  liveWeight,
  makeTarget,
  setWeightByHand,
  waitForPhase,
  waitForStatus,
  waitForWeight,
  webhookAnalysis,
} from '../support/plans';
import { resourcePath } from '../../src/kube';
import { writtenObject, type WeightRecorder } from '../support/targets';
import type { LocalKube } from '../../src/localkube';
import type { Target } from '../../src/plan/schema';

const itLocal = inProcessOnly();
const STEPS = [25, 50, 75, 100];

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
let controller: ControllerProcess | undefined;
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('faults');
  checks = new CheckServer();
  checkUrl = await checks.start();
  // No periodic resync: whatever the controller recovers from, it recovers by itself.
  if (cluster.local) controller = await startControllerProcess(cluster, { resyncMs: 60_000 });
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  cluster?.local?.faults.clear();
  await controller?.stop();
  await checks?.stop();
  await cluster?.close();
});

function local(): LocalKube {
  if (!cluster.local) throw new Error('this test needs the in-process API server');
  return cluster.local;
}

/** PATCHes of the target's object that the server accepted: the writes that landed. */
function landedPatches(target: Target): number {
  const { ref, name } = writtenObject(target);
  const path = resourcePath({ ...ref, namespace: cluster.namespace, name });
  return local().requests.filter((r) => r.method === 'PATCH' && r.path === path && r.status >= 200 && r.status < 300).length;
}

async function runPlan(name: string, provider: Target['provider'], during?: () => Promise<void>): Promise<{ target: Target; recorder: WeightRecorder }> {
  const made = await makeTarget(cluster, provider, name);
  recorders.push(made.recorder);
  await createPlan(cluster, name, { targets: [made.target], steps: STEPS.map((weight) => ({ weight })), analysis: webhookAnalysis(checkUrl) });
  await during?.();
  await waitForPhase(cluster, name, 'Succeeded', SETTLE_MS);
  await waitForWeight(cluster, made.target, 100);
  return made;
}

function expectEachStepOnce(made: { target: Target; recorder: WeightRecorder }): void {
  expect(made.recorder.weights).toEqual([0, ...STEPS]);
  expect(landedPatches(made.target)).toBe(STEPS.length);
}

itLocal('finishes through a storm of 409s on status writes (in-process only)', async () => {
  const storm = [
    local().faults.inject({ match: { verb: 'update', resource: 'migrationplans', subresource: 'status' }, respond: { status: 409 }, times: 12 }),
    local().faults.inject({ match: { verb: 'patch', resource: 'migrationplans', subresource: 'status' }, respond: { status: 409 }, times: 12 }),
  ];
  try {
    const made = await runPlan('conflicts', 'gatewayAPI');
    expect(storm.reduce((n, f) => n + f.hits, 0)).toBeGreaterThanOrEqual(12);
    expectEachStepOnce(made);
  } finally {
    for (const f of storm) f.remove();
  }
});

itLocal('finishes through 500s on the target PATCHes (in-process only)', async () => {
  const errors = local().faults.inject({ match: { verb: 'patch', resource: 'virtualservices' }, respond: { status: 500, message: "etcdserver: request timed out" }, times: 5 });
  try {
    const made = await runPlan('server-errors', 'istio');
    expect(errors.hits).toBe(5);
    expectEachStepOnce(made);
  } finally {
    errors.remove();
  }
});

itLocal('finishes while watches are dropped and history is compacted again and again (in-process only)', async () => {
  let chaos = true;
  let drops = 0;
  const loop = (async () => {
    while (chaos) {
      await new Promise((r) => setTimeout(r, 150));
      local().dropWatches();
      if (++drops % 2 === 0) local().compactHistory();
    }
  })();
  try {
    const made = await runPlan('watches', 'nginx');
    expect(drops).toBeGreaterThan(5);
    expectEachStepOnce(made);
  } finally {
    chaos = false;
    await loop;
  }
});

itLocal('repairs a hand edit promptly after its target watch was dropped and expired (in-process only)', async () => {
  const name = 'rewatch';
  const { target, recorder } = await makeTarget(cluster, 'smi', name);
  recorders.push(recorder);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 30, pause: '1m' }, { weight: 100 }] });
  await waitForStatus(cluster, name, (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 30, 'step 1 landed');
  local().dropWatches();
  local().compactHistory();
  // Nothing is due for a minute and there is no resync: only a target watch that came back by
  // itself (relisting after the 410) can wake the plan this soon.
  await setWeightByHand(cluster, target, 65);
  await waitForWeight(cluster, target, 30, CATCH_UP_MS);
  expect(await liveWeight(cluster, target)).toBe(30);
});
