// Every request the client makes is reported once, with the Kubernetes verb, the resource and
// the answer's status code, or `error`/`timeout` when no answer came: what
// trafficshift_kube_requests_total and the alert on an unreachable API server are built from.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Kube, type KubeRequestDone } from '../../src/kube';
import { startCluster, type TestCluster } from '../support/cluster';

let cluster: TestCluster;
let hanging: http.Server | undefined;

beforeAll(async () => {
  cluster = await startCluster('kube-requests');
});
afterAll(async () => {
  hanging?.closeAllConnections();
  await new Promise<void>((resolve) => (hanging ? hanging.close(() => resolve()) : resolve()));
  await cluster?.close();
});

function observed(kubeConfig: KubeConfig, requestTimeoutMs?: number): { kube: Kube; seen: KubeRequestDone[] } {
  const seen: KubeRequestDone[] = [];
  const kube = new Kube(kubeConfig, { observer: { requestDone: (r) => seen.push(r) }, ...(requestTimeoutMs ? { requestTimeoutMs } : {}) });
  return { kube, seen };
}

function serverAt(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain http unless TLS verification is declared off.
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

it('reports each answered request with its verb, resource and status code', async () => {
  const { kube, seen } = observed(cluster.kubeConfig);
  const configmaps = { group: '', version: 'v1', plural: 'configmaps', namespace: cluster.namespace };
  const name = `observed-${Date.now()}`;
  await kube.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: cluster.namespace } });
  await kube.get({ ...configmaps, name });
  await kube.list(configmaps);
  await kube.mergePatch({ ...configmaps, name }, { data: { a: 'b' } });
  await expect(kube.get({ ...configmaps, name: `${name}-missing` })).rejects.toMatchObject({ status: 404 });
  await expect(kube.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: cluster.namespace } })).rejects.toMatchObject({ status: 409 });
  await kube.delete({ ...configmaps, name });
  await kube.list({ group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: cluster.namespace });
  kube.close();

  expect(seen.map((r) => `${r.verb} ${r.resource} ${r.code}`)).toStrictEqual([
    'create configmaps 201',
    'get configmaps 200',
    'list configmaps 200',
    'patch configmaps 200',
    'get configmaps 404',
    'create configmaps 409',
    'delete configmaps 200',
    'list ingresses.networking.k8s.io 200',
  ]);
  for (const r of seen) expect(r.durationSeconds).toBeGreaterThanOrEqual(0);
});

it('reports `error` when nothing answers at the address', async () => {
  // A port that was just free: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const { kube, seen } = observed(serverAt(`http://127.0.0.1:${port}`));
  await expect(kube.get({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'x', name: 'y' })).rejects.toMatchObject({ status: 0, reason: 'Unreachable' });
  kube.close();
  // A GET is sent once more only on a connection reset, not on a refusal: one request, one report.
  expect(seen.map((r) => `${r.verb} ${r.resource} ${r.code}`)).toStrictEqual(['get leases.coordination.k8s.io error']);
});

it('reports `timeout` when the server takes the request and never answers', async () => {
  hanging = http.createServer(() => undefined);
  await new Promise<void>((resolve) => hanging?.listen(0, '127.0.0.1', resolve));
  const port = (hanging.address() as AddressInfo).port;

  const { kube, seen } = observed(serverAt(`http://127.0.0.1:${port}`), 300);
  await expect(kube.mergePatch({ group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: 'x', name: 'y' }, { metadata: {} })).rejects.toMatchObject({ reason: 'Timeout' });
  kube.close();
  expect(seen.map((r) => `${r.verb} ${r.resource} ${r.code}`)).toStrictEqual(['patch ingresses.networking.k8s.io timeout']);
  expect(seen[0]?.durationSeconds).toBeGreaterThanOrEqual(0.25);
});

it('reports a status subresource write as such', async () => {
  const { kube, seen } = observed(cluster.kubeConfig);
  const plans = { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace: cluster.namespace, name: 'absent' };
  await expect(kube.mergePatch(plans, { status: { phase: 'Pending' } }, { subresource: 'status' })).rejects.toMatchObject({ status: 404 });
  kube.close();
  expect(seen.map((r) => `${r.verb} ${r.resource} ${r.code}`)).toStrictEqual(['patch migrationplans.trafficshift.io/status 404']);
});
