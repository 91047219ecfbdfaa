// The readiness gate against a controller process: a canary whose backend has no ready endpoint
// holds at 0 (Holding, BackendNotReady) however often the plan is reconciled, and moves as soon
// as its EndpointSlice (service provider: a Pod) says it is ready, woken by the watch, not a
// resync. A backend outside the cluster passes, and says so. A rollback records what the stable
// side had. The test makes every Service, EndpointSlice and Pod itself (a real apiserver here has
// no controllers), with the real schemas.
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CATCH_UP_MS } from '../support/deadlines';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import { condition, createPlan, liveWeight, makeTarget, observeFor, reconciledSince, request, waitForPhase, waitForStatus, waitForWeight } from '../support/plans';
import { createObjects, podObjects, REFS, setReadyEndpoints, targetFixture, WeightRecorder } from '../support/targets';

let cluster: TestCluster;
let controller: ControllerProcess;
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('readiness');
  // Resync once a minute only: a plan that moves within seconds was woken by a watch.
  controller = await startControllerProcess(cluster, { resyncMs: 60_000 });
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  await controller?.stop();
  await cluster?.close();
});

it('holds a canary at 0 while its backend has no ready endpoint, and starts once the EndpointSlice shows one', async () => {
  const name = 'gate-nginx';
  const { target, recorder } = await makeTarget(cluster, 'nginx', name, { stable: 'gate-stable', canary: 'gate-canary', stableReady: 2, canaryReady: 0 });
  recorders.push(recorder);
  // The promotes that prove reconciles below waive step 1's pause; step 2 is a gate.
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 10, pause: '1m' }, { weight: 50, pause: {} }, { weight: 100 }] });

  const held = await waitForStatus(cluster, name, (s) => condition(s, 'Progressing')?.reason === 'BackendNotReady', 'BackendNotReady');
  expect(held.phase).toBe('Holding');
  expect(condition(held, 'Progressing')?.message).toBe(`canary backend ${cluster.namespace}/gate-canary has 0 ready endpoints, needs 1 for canary 10%`);
  expect(condition(held, 'Stalled')?.status).toBe('False');
  expect(held.readiness).toMatchObject({ stableReadyAtStart: 2, canary: { weight: 10, backends: [{ service: `${cluster.namespace}/gate-canary`, ready: 0, required: 1 }] } });
  // Reconciled twice more (each promote is handled) and a moment later: still nothing written.
  await reconciledSince(cluster, name, 'still-held');
  await observeFor(1000);
  expect(await liveWeight(cluster, target)).toBe(0);
  expect(recorder.writes).toBe(0);
  const history = (await waitForStatus(cluster, name, (s) => s !== undefined, 'status')).history ?? [];
  expect(history.filter((h) => h.event === 'BackendNotReady')).toHaveLength(1);

  await setReadyEndpoints(cluster, 'gate-canary', 1, 1);
  const going = await waitForStatus(cluster, name, (s) => s?.phase === 'WaitingForPromotion', 'step 2 landed', CATCH_UP_MS);
  expect(going.readiness?.canary).toMatchObject({ weight: 50, backends: [{ ready: 1, required: 1 }] });
  await waitForWeight(cluster, target, 50, CATCH_UP_MS);
  expect(recorder.weights).toEqual([0, 10, 50]);
});

it('holds a service BlueGreen switch until a canary Pod is Ready', async () => {
  const name = 'gate-bluegreen';
  const { target, recorder } = await makeTarget(cluster, 'service', name, { stable: 'gate-blue', canary: 'gate-green', canaryReady: 0 });
  recorders.push(recorder);
  await createPlan(cluster, name, { strategy: 'BlueGreen', targets: [target], steps: [{ weight: 100 }] });
  const held = await waitForStatus(cluster, name, (s) => condition(s, 'Progressing')?.reason === 'BackendNotReady', 'BackendNotReady');
  expect(condition(held, 'Progressing')?.message).toContain(`${cluster.namespace}/${name} pods app=gate-green has 0 ready endpoints, needs 1 for canary 100%`);
  expect(await liveWeight(cluster, target)).toBe(0);

  await createObjects(cluster, podObjects('gate-green', 1));
  await waitForPhase(cluster, name, 'Succeeded', CATCH_UP_MS);
  expect(recorder.weights).toEqual([0, 100]);
});

it('lets a backend outside the cluster through and says so', async () => {
  const name = 'gate-external';
  const { target, objects } = targetFixture('gatewayAPI', name, { stable: 'ext-stable', canary: 'ext-canary' });
  const external = { ref: REFS.services, body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext-canary' }, spec: { type: 'ExternalName', externalName: 'checkout.example.com' } } };
  const isCanaryBackend = (o: (typeof objects)[number]) => (o.body['metadata'] as { name: string }).name.startsWith('ext-canary');
  await createObjects(cluster, [...objects.filter((o) => !isCanaryBackend(o)), external]);
  const recorder = new WeightRecorder(cluster, target);
  await recorder.start();
  recorders.push(recorder);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 30, pause: '1m' }, { weight: 100 }] });
  await waitForWeight(cluster, target, 30);
  const status = await waitForStatus(cluster, name, (s) => s?.readiness?.canary !== undefined, 'readiness recorded');
  expect(status.readiness?.canary?.backends).toEqual([
    { service: `${cluster.namespace}/ext-canary`, external: true, message: 'ExternalName Service (checkout.example.com): no endpoints to count' },
  ]);
});

it('never waits for readiness to roll back, and records what the stable side had', async () => {
  const name = 'gate-rollback';
  const { target, recorder } = await makeTarget(cluster, 'smi', name, { stable: 'rb-stable', canary: 'rb-canary', stableReady: 1, canaryReady: 1 });
  recorders.push(recorder);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 40, pause: '1m' }, { weight: 100 }] });
  await waitForWeight(cluster, target, 40);
  // The stable side lost every ready endpoint: the rollback still goes, and says so.
  await setReadyEndpoints(cluster, 'rb-stable', 0, 1);
  await request(cluster, name, 'rollback', 'gate test');
  const rolledBack = await waitForPhase(cluster, name, 'RolledBack');
  expect(await liveWeight(cluster, target)).toBe(0);
  expect(rolledBack.rollback?.stableReadyEndpoints).toBe(0);
  expect(rolledBack.history?.find((h) => h.event === 'RolledBack')?.message).toContain('the stable backends have 0 ready endpoints');
  const stableNotReady = async (): Promise<boolean> => {
    const events = await cluster.kube.list({ group: '', version: 'v1', plural: 'events', namespace: cluster.namespace }, { fieldSelector: 'reason=StableNotReady' });
    return events.items.some((e) => (e['involvedObject'] as { name?: string }).name === name && e['type'] === 'Warning');
  };
  await waitFor(stableNotReady, CATCH_UP_MS, 'a StableNotReady Warning Event');
});
