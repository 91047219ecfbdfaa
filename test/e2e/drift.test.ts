// Hand edits of a target ("drift"): while a step holds, the controller puts its weight back at
// once, woken by its watch on the target; a rolled-back plan keeps its targets at 0; a
// Succeeded plan is final and leaves a person's edit alone. Under `onDrift: Hold` (a GitOps tool
// owns the route) it writes over none of it, records DriftDetected once and holds; a rollback
// still writes 0.
import { startCluster, type TestCluster } from '../support/cluster';
import { CATCH_UP_MS } from '../support/deadlines';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import {
  createPlan,
  liveWeight,
  makeTarget,
  observeFor,
  planStatus,
  reconciledSince,
  request,
  setWeightByHand,
  waitForPhase,
  waitForStatus,
  waitForWeight,
} from '../support/plans';
import type { WeightRecorder } from '../support/targets';
import { PROVIDERS } from '../../src/plan/schema';

let cluster: TestCluster;
let controller: ControllerProcess;
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('drift');
  // Resync once a minute only: a repair within seconds can then only come from the target watch.
  controller = await startControllerProcess(cluster, { resyncMs: 60_000 });
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  await controller?.stop();
  await cluster?.close();
});

const canaryProviders = PROVIDERS.filter((p) => p !== 'service');

it.each(canaryProviders)('puts a %s target back to the step weight promptly after a hand edit, and records DriftRepaired', async (provider) => {
  const name = `drift-${provider.toLowerCase()}`;
  const { target, recorder } = await makeTarget(cluster, provider, name);
  recorders.push(recorder);
  // A long pause and no checks: nothing is due for a minute, so only the watch can wake the plan.
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 20, pause: '1m' }, { weight: 100 }] });
  await waitForStatus(cluster, name, (s) => s?.phase === 'Progressing' && s.stepStartedAt !== undefined, 'step 1 landed');

  await setWeightByHand(cluster, target, 45);
  await waitForWeight(cluster, target, 20, CATCH_UP_MS);
  const status = await waitForStatus(cluster, name, (s) => s?.history?.some((h) => h.event === 'DriftRepaired') === true, 'DriftRepaired in history');
  expect(status.history?.find((h) => h.event === 'DriftRepaired')).toMatchObject({ weight: 20, message: expect.stringContaining('45') });
  expect(status.currentStep).toBe(0);
  expect(recorder.weights).toEqual([0, 20, 45, 20]);
});

it('sets a rolled-back plan\'s target back to 0 when a person raises it', async () => {
  const name = 'drift-rolledback';
  const { target, recorder } = await makeTarget(cluster, 'gatewayAPI', name);
  recorders.push(recorder);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 20, pause: {} }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'WaitingForPromotion');
  await request(cluster, name, 'rollback', 'drill');
  await waitForPhase(cluster, name, 'RolledBack');
  await waitForWeight(cluster, target, 0);

  await setWeightByHand(cluster, target, 50);
  await waitForWeight(cluster, target, 0, CATCH_UP_MS);
  const status = await waitForStatus(cluster, name, (s) => s?.history?.some((h) => h.event === 'DriftRepaired') === true, 'DriftRepaired in history');
  expect(status.phase).toBe('RolledBack');
  expect(status.history?.filter((h) => h.event === 'DriftRepaired').at(-1)).toMatchObject({ weight: 0 });
  expect(recorder.weights).toEqual([0, 20, 0, 50, 0]);
});

it('leaves a Succeeded plan\'s target alone when a person edits it', async () => {
  const name = 'drift-succeeded';
  const { target, recorder } = await makeTarget(cluster, 'istio', name);
  recorders.push(recorder);
  await createPlan(cluster, name, { targets: [target], steps: [{ weight: 50 }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'Succeeded');
  await waitForWeight(cluster, target, 100);

  await setWeightByHand(cluster, target, 70);
  const status = await reconciledSince(cluster, name, 'after-edit');
  expect(status.phase).toBe('Succeeded');
  expect(await liveWeight(cluster, target)).toBe(70);
  expect(status.history?.some((h) => h.event === 'DriftRepaired')).toBe(false);
  expect(recorder.weights).toEqual([0, 50, 100, 70]);
});

/** Long enough for a repair, which the target watch triggers within a second, to have happened. */
const NO_REPAIR_WINDOW_MS = 3_000;

const driftEntries = (s: { history?: Array<{ event: string }> } | undefined): number => s?.history?.filter((h) => h.event === 'DriftDetected').length ?? 0;

it.each(['gatewayAPI', 'nginx'] as const)('onDrift: Hold leaves a hand-edited %s target alone, records DriftDetected once, holds, and goes on when the weight is back', async (provider) => {
  const name = `hold-${provider.toLowerCase()}`;
  const { target, recorder } = await makeTarget(cluster, provider, name);
  recorders.push(recorder);
  await createPlan(cluster, name, { onDrift: 'Hold', targets: [target], steps: [{ weight: 20, pause: '1m' }, { weight: 100 }] });
  await waitForStatus(cluster, name, (s) => s?.phase === 'Progressing' && s.stepStartedAt !== undefined, 'step 1 landed');

  await setWeightByHand(cluster, target, 45);
  // The DriftDetected entry is the proof that the controller has reconciled the edit.
  const held = await waitForStatus(cluster, name, (s) => driftEntries(s) === 1 && s?.phase === 'Holding', 'DriftDetected in history, Holding', CATCH_UP_MS);
  expect(held.history?.find((h) => h.event === 'DriftDetected')).toMatchObject({ message: expect.stringContaining('targets[0] holds canary 45%') });
  expect(held.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetDrifted' });
  expect(held.canaryWeight).toBe(45);
  await observeFor(NO_REPAIR_WINDOW_MS);
  expect(await liveWeight(cluster, target)).toBe(45);
  const later = await waitForStatus(cluster, name, (s) => s?.phase === 'Holding', 'still Holding');
  expect(driftEntries(later)).toBe(1);
  expect(later.currentStep).toBe(0);

  // Someone (Argo CD, a person) puts the step weight back: the plan goes on, with nothing written.
  await setWeightByHand(cluster, target, 20);
  const back = await waitForStatus(cluster, name, (s) => s?.phase === 'Progressing' && s.conditions?.find((c) => c.type === 'Stalled')?.status === 'False', 'Progressing again', CATCH_UP_MS);
  expect(back.currentStep).toBe(0);
  expect(driftEntries(back)).toBe(1);
  expect(recorder.weights).toEqual([0, 20, 45, 20]);
});

it('onDrift: Hold still rolls a drifted target back to 0, then leaves a rolled-back target a person raised alone', async () => {
  const name = 'hold-rolledback';
  const { target, recorder } = await makeTarget(cluster, 'istio', name);
  recorders.push(recorder);
  await createPlan(cluster, name, { onDrift: 'Hold', targets: [target], steps: [{ weight: 20, pause: {} }, { weight: 100 }] });
  await waitForPhase(cluster, name, 'WaitingForPromotion');
  await setWeightByHand(cluster, target, 35);
  await waitForStatus(cluster, name, (s) => driftEntries(s) === 1, 'DriftDetected in history', CATCH_UP_MS);

  // A rollback is no drift repair: it lands on the drifted target.
  await request(cluster, name, 'rollback', 'drill');
  await waitForPhase(cluster, name, 'RolledBack');
  await waitForWeight(cluster, target, 0, CATCH_UP_MS);

  await setWeightByHand(cluster, target, 50);
  const status = await waitForStatus(cluster, name, (s) => driftEntries(s) === 2, 'a second DriftDetected in history', CATCH_UP_MS);
  expect(status.phase).toBe('RolledBack');
  expect(status.history?.at(-1)).toMatchObject({ event: 'DriftDetected', message: expect.stringContaining('after the rollback') });
  expect(status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetDrifted' });
  await observeFor(NO_REPAIR_WINDOW_MS);
  expect(await liveWeight(cluster, target)).toBe(50);
  const later = await planStatus(cluster, name);
  expect(later?.canaryWeight).toBe(50);
  expect(driftEntries(later)).toBe(2);
  expect(recorder.weights).toEqual([0, 20, 35, 0, 50]);
});
