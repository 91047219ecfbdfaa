// The one-command rollback through REST with the real controller running: POST …/rollback?wait=30s
// answers once every target of a 3-target plan holds 0 again, with the recovery time, and the
// live objects agree. Then a repeat writes nothing, and a retry starts the plan over.
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { kubernetesAuth } from '../../src/api/auth';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { planRoutes } from '../../src/api/plans';
import { RollbackResult, SteeringResult } from '../../src/api/schemas';
import type { Controller } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import type { Target } from '../../src/plan/schema';
import { startController } from '../support/controller';
import { createPlan, liveWeight, waitForPhase, waitForStatus } from '../support/plans';
import { createObjects, targetFixture } from '../support/targets';
import { startApiCluster, type ApiCluster } from './support';

const SRE = 'sre-token';

let cluster: ApiCluster;
let controller: Controller;
let app: Express;

beforeAll(async () => {
  cluster = await startApiCluster('rollback', (namespace) => ({
    tokens: { [SRE]: { username: 'carol', groups: ['sre'] } },
    rules: [{ groups: ['sre'], verbs: ['get', 'list', 'patch'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], namespaces: [namespace] }],
  }));
  controller = await startController(cluster);
  app = createApp(
    {
      controller,
      kube: controller.kube,
      auth: kubernetesAuth(controller.kube, { log: silentLogger() }),
      namespace: cluster.namespace,
      registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
      ready: () => true,
      log: silentLogger(),
    },
    [planRoutes],
  );
});
afterAll(async () => {
  await controller?.stop();
  await cluster?.close();
});

function post(path: string, body?: object): request.Test {
  const r = request(app).post(`/api/v1/namespaces/${cluster.namespace}/plans/${path}`).set('authorization', `Bearer ${SRE}`);
  return body ? r.send(body) : r;
}

it('?wait=30s answers 200 once every target of a 3-target plan holds 0, with the recovery time', async () => {
  const targets: Target[] = [];
  for (const provider of ['nginx', 'gatewayAPI', 'smi'] as const) {
    const { target, objects } = targetFixture(provider, `three-${provider.toLowerCase()}`);
    await createObjects(cluster, objects);
    targets.push(target);
  }
  await createPlan(cluster, 'three', { targets, steps: [{ weight: 30, pause: {} }, { weight: 100 }] });
  await waitForPhase(cluster, 'three', 'WaitingForPromotion');
  for (const t of targets) expect(await liveWeight(cluster, t)).toBe(30);

  const res = await post('three/rollback?wait=30s', { reason: 'p99 latency doubled' });
  expect(res.status).toBe(200);
  const body = RollbackResult.parse(res.body);
  expect(body.changed).toBe(true);
  expect(body.rollback).toMatchObject({ reason: 'p99 latency doubled', done: true, written: true });
  expect(body.rollback.recoverySeconds).toEqual(expect.any(Number));
  expect(body.rollback.recoverySeconds).toBeLessThan(30);
  expect(body.plan.phase).toBe('RolledBack');
  expect(body.plan.targets.map((t) => t.weight)).toEqual([0, 0, 0]);
  // The answer came after the fact, not before it: the live objects agree.
  for (const t of targets) expect(await liveWeight(cluster, t)).toBe(0);

  const again = await post('three/rollback?wait=30s', { reason: 'p99 latency doubled' });
  expect(again.status).toBe(200);
  expect(RollbackResult.parse(again.body)).toMatchObject({ changed: false, rollback: { done: true, written: false } });

  const retried = await post('three/retry');
  expect(retried.status).toBe(200);
  expect(SteeringResult.parse(retried.body).changed).toBe(true);
  await waitForStatus(cluster, 'three', (s) => s?.phase === 'WaitingForPromotion' && s.canaryWeight === 30, 'the retry ran the plan from its first step again');
});
