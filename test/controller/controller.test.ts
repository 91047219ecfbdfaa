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

it('sends a plan\'s notifications with its snapshot, reads the routing key from a credential Secret and counts them', async () => {
  const http = await import('node:http');
  const bodies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      bodies.push({ path: req.url, ...(JSON.parse(data) as Record<string, unknown>) });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const metrics = new TrafficshiftMetrics({ version: 't', processMetrics: false });
  const { target } = await makeTarget(cluster, 'nginx', 'notified');
  await cluster.kube.create({ group: '', version: 'v1', plural: 'secrets', namespace: cluster.namespace }, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'pd-notified', namespace: cluster.namespace, labels: { 'trafficshift.io/credential': 'true' } },
    stringData: { key: 'R0UTE' },
  });
  const controller = new Controller({ kube: controllerKube(cluster.kubeConfig), namespace: cluster.namespace, log: silentLogger(), metrics: metrics.controller });
  try {
    await controller.start();
    await createPlan(cluster, 'notified', {
      targets: [target],
      steps: [{ weight: 10 }, { weight: 100 }],
      notifications: [
        { url: `${base}/json`, format: 'json', events: ['Started', 'Succeeded'] },
        { url: `${base}/pd`, format: 'pagerduty', routingKeyFrom: { secretKeyRef: { name: 'pd-notified', key: 'key' } }, events: ['Succeeded'] },
      ],
    });
    await waitForPhase(cluster, 'notified', 'Succeeded');
    await waitFor(() => bodies.length >= 3, SETTLE_MS, 'three notifications');
    const started = bodies.find((b) => b['path'] === '/json' && b['event'] === 'Started');
    expect(started).toMatchObject({
      apiVersion: 'trafficshift.io/notification/v1',
      plan: { namespace: cluster.namespace, name: 'notified' },
      phase: 'Progressing',
      step: 'step 1/2: canary 10%',
      weights: [{ provider: 'nginx', name: expect.any(String), weight: 0 }],
    });
    expect(bodies.find((b) => b['path'] === '/pd')).toEqual({ path: '/pd', routing_key: 'R0UTE', event_action: 'resolve', dedup_key: `trafficshift/${cluster.namespace}/notified` });
    // The receiver has the body before the sender has the answer: the count follows a moment later.
    const delivered = ['trafficshift_notifications_total{format="json",event="Started",result="delivered"} 1', 'trafficshift_notifications_total{format="pagerduty",event="Succeeded",result="delivered"} 1'];
    await waitFor(async () => {
      const text = await metrics.registry.metrics();
      return delivered.every((line) => text.includes(line));
    }, SETTLE_MS, 'both deliveries counted');
  } finally {
    await controller.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

it('reconciles a settled plan from its watch caches: its resyncs read nothing from the API server', async () => {
  const metrics = new TrafficshiftMetrics({ version: 't', processMetrics: false });
  const { target } = await makeTarget(cluster, 'nginx', 'cached-reads');
  const controller = new Controller({ kube: controllerKube(cluster.kubeConfig, metrics.kube), namespace: cluster.namespace, log: silentLogger(), metrics: metrics.controller, resyncMs: 300 });
  const requests = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const v of (await metrics.kubeRequests.get()).values) {
      const key = `${String(v.labels['verb'])} ${String(v.labels['resource'])}`;
      out[key] = (out[key] ?? 0) + v.value;
    }
    return out;
  };
  const reconciles = async (): Promise<number> => (await metrics.reconciles.get()).values.reduce((sum, v) => sum + v.value, 0);
  try {
    await controller.start();
    // The promotion gate at 10: the plan rests there, reconciled only by resyncs.
    await createPlan(cluster, 'cached-reads', { targets: [target], steps: [{ weight: 10, pause: {} }, { weight: 100 }] });
    await waitForPhase(cluster, 'cached-reads', 'WaitingForPromotion');
    // Every object read or written once by now, and the watches caught up with the last write.
    let settled: Record<string, number> = {};
    await waitFor(async () => {
      const before = await requests();
      await new Promise((r) => setTimeout(r, 1000));
      settled = await requests();
      return JSON.stringify(before) === JSON.stringify(settled);
    }, SETTLE_MS, 'a second with no API requests');
    const settledReconciles = await reconciles();
    await waitFor(async () => (await reconciles()) >= settledReconciles + 3, SETTLE_MS, 'three more resyncs');
    // Not one GET of the plan, its Ingresses or its Services, nor a LIST of EndpointSlices.
    expect(await requests()).toEqual(settled);
  } finally {
    await controller.stop();
  }
});
