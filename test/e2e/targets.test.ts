// Plans whose targets or spec are not right yet: the controller says what is wrong (a Stalled
// condition naming the object or the field), moves no traffic, and goes on once it is fixed.
import { startCluster, type TestCluster } from '../support/cluster';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import {
  condition,
  createPlan,
  liveWeight,
  makeTarget,
  patchSpec,
  planRef,
  reconciledSince,
  setWeightByHand,
  waitForPhase,
  waitForStatus,
  waitForWeight,
} from '../support/plans';
import { createObjects, REFS, targetFixture, WeightRecorder } from '../support/targets';

let cluster: TestCluster;
let controller: ControllerProcess;
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('targets');
  controller = await startControllerProcess(cluster);
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  await controller?.stop();
  await cluster?.close();
});

it('stalls with TargetNotFound naming the missing HTTPRoute, writes nothing, and proceeds once it exists', async () => {
  const name = 'missing';
  const present = await makeTarget(cluster, 'nginx', `${name}-nginx`);
  recorders.push(present.recorder);
  const absent = targetFixture('gatewayAPI', `${name}-route`);
  await createPlan(cluster, name, { targets: [present.target, absent.target], steps: [{ weight: 50 }, { weight: 100 }] });

  const stalled = await waitForStatus(cluster, name, (s) => condition(s, 'Stalled')?.status === 'True', 'Stalled');
  expect(condition(stalled, 'Stalled')).toMatchObject({ reason: 'TargetNotFound', message: expect.stringContaining(`HTTPRoute ${cluster.namespace}/${name}-route`) });
  expect(stalled.phase).toBe('Pending');
  await reconciledSince(cluster, name, 'still-missing');
  expect(present.recorder.writes).toBe(0);
  expect(await liveWeight(cluster, present.target)).toBe(0);

  // Recorded from its creation on: the controller, woken by it, may write 50 and 100 at once.
  const route = new WeightRecorder(cluster, absent.target);
  await route.start({ beforeCreation: true });
  recorders.push(route);
  await createObjects(cluster, absent.objects);
  const done = await waitForPhase(cluster, name, 'Succeeded');
  expect(condition(done, 'Stalled')?.status).toBe('False');
  for (const r of [present.recorder, route]) await waitForWeight(cluster, r.target, 100);
  expect(present.recorder.weights).toEqual([0, 50, 100]);
  expect(route.weights).toEqual([0, 50, 100]);
});

it('stalls with TargetInvalid when the HTTPRoute has no rule with both backends, and proceeds once fixed', async () => {
  const name = 'malformed';
  const { target, objects } = targetFixture('gatewayAPI', name);
  const route = objects[0]?.body as { spec: { rules: Array<{ backendRefs: unknown[] }> } };
  const bothBackends = route.spec.rules[0]?.backendRefs;
  // Only the monolith: nothing to shift traffic to.
  route.spec.rules = [{ backendRefs: [{ name: 'monolith', port: 80, weight: 100 }] }];
  await createObjects(cluster, objects);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 50 }, { weight: 100 }] });

  const stalled = await waitForStatus(cluster, name, (s) => condition(s, 'Stalled')?.status === 'True', 'Stalled');
  expect(condition(stalled, 'Stalled')).toMatchObject({
    reason: 'TargetInvalid',
    message: expect.stringMatching(new RegExp(`HTTPRoute ${cluster.namespace}/${name}.*backendRefs.*monolith.*checkout-svc`)),
  });

  // Watching before the fix: the controller may write 50 before a recorder started later could
  // read the 0 the fixed route first holds.
  const recorder = new WeightRecorder(cluster, target);
  await recorder.start();
  recorders.push(recorder);
  await cluster.kube.mergePatch({ ...REFS.httproutes, namespace: cluster.namespace, name }, { spec: { rules: [{ backendRefs: bothBackends }] } });
  await waitForPhase(cluster, name, 'Succeeded');
  await waitForWeight(cluster, target, 100);
  expect(recorder.weights).toEqual([0, 50, 100]);
});

it('fails a spec that the CRD accepts but zod rejects (steps not increasing) with InvalidSpec and the field, never moves traffic, and proceeds once fixed', async () => {
  const name = 'badspec';
  const { target, recorder } = await makeTarget(cluster, 'smi', name);
  recorders.push(recorder);
  // Traffic already sits at 10 (set by hand): a broken plan must not touch it, not even to 0.
  await setWeightByHand(cluster, target, 10);
  await waitForWeight(cluster, target, 10);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 50 }, { weight: 20 }, { weight: 100 }] });

  const failed = await waitForPhase(cluster, name, 'Failed');
  expect(condition(failed, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: expect.stringContaining('spec.steps[1].weight') });
  // Two more generations observed: the reconciles of the first one are over, and wrote nothing.
  for (const description of ['first look', 'second look']) {
    await patchSpec(cluster, name, { description });
    const generation = (await cluster.kube.get(planRef(cluster, name)))['metadata'] as { generation: number };
    await waitForStatus(cluster, name, (s) => s?.observedGeneration === generation.generation, `generation ${generation.generation} observed`);
  }
  expect(await liveWeight(cluster, target)).toBe(10);
  expect(recorder.weights).toEqual([0, 10]);

  await patchSpec(cluster, name, { steps: [{ weight: 20 }, { weight: 50 }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'Succeeded');
  await waitForWeight(cluster, target, 100);
  expect(recorder.weights).toEqual([0, 10, 20, 50, 100]);
});
