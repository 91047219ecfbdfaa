import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CheckServer } from '../support/checkServer';
import { CATCH_UP_MS, SETTLE_MS } from '../support/deadlines';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import { createObjects, planObject, REFS, targetFixture, WeightRecorder } from '../support/targets';
import { PROVIDERS, type MigrationPlanStatus, type Target } from '../../src/plan/schema';

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
let controller: ControllerProcess | undefined;

beforeAll(async () => {
  cluster = await startCluster('canary');
  checks = new CheckServer();
  checkUrl = await checks.start();
});

afterAll(async () => {
  await controller?.stop();
  await checks.stop();
  await cluster.close();
});

async function planStatus(name: string): Promise<MigrationPlanStatus | undefined> {
  const obj = await cluster.kube.get({ ...REFS.plans, namespace: cluster.namespace, name });
  return obj['status'] as MigrationPlanStatus | undefined;
}

async function waitForPhase(name: string, phase: string, timeoutMs = SETTLE_MS): Promise<MigrationPlanStatus> {
  let last: MigrationPlanStatus | undefined;
  await waitFor(async () => (last = await planStatus(name))?.phase === phase, timeoutMs, `plan ${name} in phase ${phase} (last: ${JSON.stringify(last?.phase)} ${JSON.stringify(last?.conditions)})`);
  return last as MigrationPlanStatus;
}

const canaryProviders = PROVIDERS.filter((p) => p !== 'service');

describe.each(canaryProviders)('a %s canary', (provider) => {
  it('moves through every step to Succeeded, each weight landing on the target once', async () => {
    controller ??= await startControllerProcess(cluster);
    const name = `canary-${provider.toLowerCase()}`;
    const { target, objects } = targetFixture(provider, name);
    await createObjects(cluster, objects);
    const recorder = new WeightRecorder(cluster, target);
    await recorder.start();
    try {
      await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, planObject(name, {
        targets: [target],
        steps: [{ weight: 10 }, { weight: 50, pause: '1s' }, { weight: 100 }],
        analysis: { interval: '1s', checks: [{ name: 'smoke', webhook: { url: checkUrl }, max: 0.05 }] },
      }));
      const status = await waitForPhase(name, 'Succeeded');
      await waitFor(() => recorder.current === 100, CATCH_UP_MS, 'the watch to see 100');
      expect(recorder.weights).toEqual([0, 10, 50, 100]);
      expect(recorder.writes).toBe(3);
      expect(status.canaryWeight).toBe(100);
      expect(status.currentStep).toBe(2);
      expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      // The story is in Events (kubectl describe), written with a MicroTime eventTime that a real
      // server would refuse with three fractional digits.
      // Events are recorded after the status they tell of, so the last one may still be on its way.
      let reasons: unknown[] = [];
      const story = ['Started', 'StepAdvanced', 'Succeeded'];
      await waitFor(async () => {
        const { items } = await cluster.kube.list({ group: '', version: 'v1', plural: 'events', namespace: cluster.namespace }, { fieldSelector: `involvedObject.name=${name}` });
        reasons = items.map((e) => e['reason']);
        return story.every((r) => reasons.includes(r));
      }, CATCH_UP_MS, `Events ${story.join(', ')}`).catch(() => undefined);
      expect(reasons).toEqual(expect.arrayContaining(story));
    } finally {
      recorder.stop();
    }
  });
});

describe('a service BlueGreen', () => {
  it('checks the target before the switch, then switches the selector in one write', async () => {
    controller ??= await startControllerProcess(cluster);
    const name = 'bluegreen';
    const { target, objects } = targetFixture('service', name);
    await createObjects(cluster, objects);
    const recorder = new WeightRecorder(cluster, target);
    await recorder.start();
    try {
      const callsBefore = checks.calls;
      await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, planObject(name, {
        strategy: 'BlueGreen',
        targets: [target],
        steps: [{ weight: 100 }],
        analysis: { interval: '1s', checks: [{ name: 'smoke', webhook: { url: checkUrl }, max: 0.05 }] },
      }));
      await waitForPhase(name, 'Succeeded');
      expect(recorder.weights).toEqual([0, 100]);
      expect(recorder.writes).toBe(1);
      expect(checks.calls).toBeGreaterThan(callsBefore);
      const svc = await cluster.kube.get({ ...REFS.services, namespace: cluster.namespace, name });
      expect((svc['spec'] as { selector: unknown }).selector).toEqual({ app: 'checkout-svc' });
    } finally {
      recorder.stop();
    }
  });
});

export type { Target };
