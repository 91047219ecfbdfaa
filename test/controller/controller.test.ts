import { Controller, controllerKube } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import { startCluster, type TestCluster } from '../support/cluster';

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
