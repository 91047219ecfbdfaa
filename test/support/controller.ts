import { Controller, controllerKube, type ControllerOptions } from '../../src/controller/controller';
import { createLogger, silentLogger } from '../../src/controller/logger';
import type { TestCluster } from './cluster';

/** Runs the controller against the cluster, watching only the run's namespace. Set
 * TRAFFICSHIFT_TEST_LOGS=1 to see its logs. */
export async function startController(cluster: TestCluster, options: Partial<ControllerOptions> = {}): Promise<Controller> {
  const controller = new Controller({
    kube: controllerKube(cluster.kubeConfig),
    namespace: cluster.namespace,
    resyncMs: 2_000,
    log: process.env['TRAFFICSHIFT_TEST_LOGS'] ? createLogger('text', 'debug') : silentLogger(),
    ...options,
  });
  await controller.start();
  return controller;
}
