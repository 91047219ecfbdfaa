// The client keeps its connections: client-node 1.4 builds a new agent without keep-alive for
// every request, so each call paid a TCP connection and a TLS handshake. Counted at a real TLS
// server here: several calls, one connection.
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kube, loadKubeConfig } from '../../src/kube';
import { generateServingCertificates } from '../../src/localkube/tls';

let server: https.Server;
let handshakes = 0;
let dir = '';
let kubeconfig = '';

beforeAll(async () => {
  const certs = await generateServingCertificates(['127.0.0.1']);
  server = https.createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }));
  });
  server.keepAliveTimeout = 90_000;
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-connections-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: "${Buffer.from(certs.caPem).toString('base64')}"}}]`,
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
    '',
  ].join('\n'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

it('sends one request after another over one TLS connection', async () => {
  const kube = new Kube(loadKubeConfig({ kubeconfig }));
  const ref = { group: '', version: 'v1', plural: 'configmaps', namespace: 'default', name: 'x' };
  const before = handshakes;
  for (let i = 0; i < 5; i++) await kube.get(ref);
  expect(handshakes - before).toBe(1);
  kube.close();
});

it('opens a connection per request in flight at once, and keeps them for the next ones', async () => {
  const kube = new Kube(loadKubeConfig({ kubeconfig }));
  const ref = { group: '', version: 'v1', plural: 'configmaps', namespace: 'default', name: 'x' };
  const before = handshakes;
  await Promise.all([kube.get(ref), kube.get(ref), kube.get(ref)]);
  const opened = handshakes - before;
  expect(opened).toBeGreaterThanOrEqual(1);
  expect(opened).toBeLessThanOrEqual(3);
  await Promise.all([kube.get(ref), kube.get(ref), kube.get(ref)]);
  expect(handshakes - before).toBe(opened);
  kube.close();
});

describe('a connection the server drops before it answers', () => {
  let flaky: https.Server;
  let requests: string[] = [];
  let flakyConfig = '';

  beforeAll(async () => {
    const certs = await generateServingCertificates(['127.0.0.1']);
    flaky = https.createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
      requests.push(req.method ?? '');
      // Every first request of a pair is cut off as a server closing an idle connection would.
      if (requests.length % 2 === 1) {
        req.socket.destroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    flakyConfig = path.join(dir, 'flaky.kubeconfig');
    fs.writeFileSync(flakyConfig, fs.readFileSync(kubeconfig, 'utf8').replace(/https:\/\/127\.0\.0\.1:\d+/, `https://127.0.0.1:${(flaky.address() as AddressInfo).port}`).replace(/certificate-authority-data: "[^"]+"/, `certificate-authority-data: "${Buffer.from(certs.caPem).toString('base64')}"`));
  });

  afterAll(async () => {
    flaky.closeAllConnections();
    await new Promise<void>((resolve) => flaky.close(() => resolve()));
  });

  beforeEach(() => {
    requests = [];
  });

  it('is asked again for a read, once', async () => {
    const kube = new Kube(loadKubeConfig({ kubeconfig: flakyConfig }));
    await expect(kube.get({ group: '', version: 'v1', plural: 'configmaps', namespace: 'default', name: 'x' })).resolves.toMatchObject({ kind: 'ConfigMap' });
    expect(requests).toEqual(['GET', 'GET']);
    kube.close();
  });

  it('is not asked again for a write, which the server may have applied', async () => {
    const kube = new Kube(loadKubeConfig({ kubeconfig: flakyConfig }));
    await expect(kube.mergePatch({ group: '', version: 'v1', plural: 'configmaps', namespace: 'default', name: 'x' }, { data: { a: '1' } })).rejects.toMatchObject({ status: 0 });
    expect(requests).toEqual(['PATCH']);
    kube.close();
  });
});
