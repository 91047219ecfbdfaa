import { Controller, controllerKube } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { SETTLE_MS } from '../support/deadlines';
import { createPlan, makeTarget, waitForPhase } from '../support/plans';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster('controller');
});
afterAll(() => cluster.close());

const itLocal = process.env['TRAFFICSHIFT_E2E_KUBECONFIG'] ? it.skip : it;

itLocal('stopped while its first list is still under way, it never starts leading (in-process only)', async () => {
  const slow = cluster.local?.faults.inject({ match: { verb: 'list', resource: 'migrationplans' }, respond: { delayMs: 1500 }, times: 1 });
  const controller = new Controller({ kube: controllerKube(cluster.kubeConfig), namespace: cluster.namespace, log: silentLogger() });
  const started = controller.start();
  await new Promise((r) => setTimeout(r, 100));
  await controller.stop();
  await started;
  await new Promise((r) => setTimeout(r, 1600));
  expect(controller.isLeader).toBe(false);
  slow?.remove();
});

itLocal('counts a reconcile that fails on the API server as an error, and the next that lands as a success (in-process only)', async () => {
  const metrics = new TrafficshiftMetrics({ version: 't', processMetrics: false });
  const { target } = await makeTarget(cluster, 'nginx', 'counted');
  // Every weight write fails: the reconcile that must move traffic ends in an error.
  const fault = cluster.local?.faults.inject({ match: { verb: 'patch', resource: 'ingresses' }, respond: { status: 500, message: 'etcd is down' } });
  const controller = new Controller({ kube: controllerKube(cluster.kubeConfig, metrics.kube), namespace: cluster.namespace, log: silentLogger(), metrics: metrics.controller });
  const count = async (result: string): Promise<number> => (await metrics.reconciles.get()).values.find((v) => v.labels['result'] === result)?.value ?? 0;
  try {
    await controller.start();
    await createPlan(cluster, 'counted', { targets: [target], steps: [{ weight: 10 }, { weight: 100 }] });
    await waitFor(async () => (await count('error')) > 0, SETTLE_MS, 'a failed reconcile counted');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^trafficshift_kube_requests_total\{verb="patch",resource="ingresses.networking.k8s.io",code="500"\} [1-9]/m);
    fault?.remove();
    // No pauses: once writes land the plan runs to the end.
    await waitForPhase(cluster, 'counted', 'Succeeded');
    expect(await count('success')).toBeGreaterThan(0);
  } finally {
    fault?.remove();
    await controller.stop();
  }
});
