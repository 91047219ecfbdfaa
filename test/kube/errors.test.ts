// toKubeError over every failure shape client-node 1.4 really produces: each case makes a real
// call (generated API, Watch, or our Kube client) against a loopback server that answers with a
// canned status, or against a closed port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { Kube, KubeError, isConflict, isNotFound, toKubeError } from '../../src/kube';

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

// What each path answers: [status, body].
const ANSWERS: Record<string, [number, string]> = {
  '/apis/split.smi-spec.io/v1alpha4/namespaces/shop/trafficsplits/missing': [404, status(404, 'NotFound', 'trafficsplits.split.smi-spec.io "missing" not found')],
  '/apis/split.smi-spec.io/v1alpha4/namespaces/shop/trafficsplits/busy': [409, status(409, 'Conflict', 'Operation cannot be fulfilled on trafficsplits.split.smi-spec.io "busy": the object has been modified')],
  '/apis/split.smi-spec.io/v1alpha4/namespaces/shop/trafficsplits/broken': [500, status(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out')],
  '/apis/split.smi-spec.io/v1alpha4/namespaces/shop/trafficsplits/proxy': [502, '<html>Bad Gateway</html>'],
  '/api/v1/namespaces/shop/services/secret': [401, status(401, 'Unauthorized', 'Unauthorized')],
  '/api/v1/namespaces/shop/services/forbidden': [403, status(403, 'Forbidden', 'services "forbidden" is forbidden: User "bob" cannot get resource "services"')],
  '/api/v1/namespaces/shop/services': [500, status(500, 'InternalError', 'watch broke')],
};

let server: Server;
let closedPort: number;

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

let kc: KubeConfig;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const [code, body] = ANSWERS[path] ?? [404, status(404, 'NotFound', `no route ${path}`)];
    res.writeHead(code, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kc = kubeConfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  // A port that was just free: bind, note it, close, so a connect is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error('the call succeeded but was expected to fail');
}

describe('toKubeError on ApiException from the generated clients', () => {
  const trafficSplit = (name: string) => () =>
    kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha4', namespace: 'shop', plural: 'trafficsplits', name });

  it.each([
    ['missing', 404, 'NotFound', 'trafficsplits.split.smi-spec.io "missing" not found'],
    ['busy', 409, 'Conflict', 'the object has been modified'],
    ['broken', 500, 'InternalError', 'etcdserver: request timed out'],
    ['proxy', 502, 'Unknown', '<html>Bad Gateway</html>'],
  ])('%s -> %i %s', async (name, code, reason, text) => {
    const err = toKubeError(await failure(trafficSplit(name)));
    expect(err).toBeInstanceOf(KubeError);
    expect(err.status).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.message).toContain(text);
    expect(err.cause).toBeDefined();
  });

  it('401 (body undefined in the exception) -> Unauthorized', async () => {
    const raw = await failure(() => kc.makeApiClient(CoreV1Api).readNamespacedService({ namespace: 'shop', name: 'secret' }));
    expect(Reflect.get(raw as object, 'body')).toBeUndefined();
    const err = toKubeError(raw);
    expect([err.status, err.reason]).toStrictEqual([401, 'Unauthorized']);
  });

  it('403 keeps the server message', async () => {
    const err = toKubeError(await failure(() => kc.makeApiClient(CoreV1Api).readNamespacedService({ namespace: 'shop', name: 'forbidden' })));
    expect([err.status, err.reason]).toStrictEqual([403, 'Forbidden']);
    expect(err.message).toContain('User "bob" cannot get resource "services"');
  });

  it('only a 404 is "not found", only a 409 a conflict', async () => {
    const missing = await failure(trafficSplit('missing'));
    const busy = await failure(trafficSplit('busy'));
    const broken = await failure(trafficSplit('broken'));
    expect([isNotFound(missing), isNotFound(busy), isNotFound(broken)]).toStrictEqual([true, false, false]);
    expect([isConflict(missing), isConflict(busy), isConflict(broken)]).toStrictEqual([false, true, false]);
  });
});

describe('toKubeError on a watch failure (plain Error with statusCode)', () => {
  it('500 on the watch request -> 500 InternalError', async () => {
    const done = new Promise<unknown>((resolve, reject) => {
      new Watch(kc)
        .watch('/api/v1/namespaces/shop/services', {}, () => reject(new Error('no event expected')), resolve)
        .catch(reject);
    });
    const raw = await done;
    expect(raw).toBeInstanceOf(Error);
    const err = toKubeError(raw);
    expect([err.status, err.reason]).toStrictEqual([500, 'InternalError']);
  });
});

describe('toKubeError on network failures', () => {
  it('a closed port -> status 0, Unreachable, naming ECONNREFUSED', async () => {
    const closed = kubeConfigFor(`http://127.0.0.1:${closedPort}`);
    const err = toKubeError(await failure(() => closed.makeApiClient(CoreV1Api).readNamespacedService({ namespace: 'shop', name: 'x' })));
    expect([err.status, err.reason]).toStrictEqual([0, 'Unreachable']);
    expect(err.message).toContain('ECONNREFUSED');
    expect(isNotFound(err)).toBe(false);
  });

  it('anything else -> status 0, ClientError, never NotFound', () => {
    const err = toKubeError(new TypeError('boom'));
    expect([err.status, err.reason, err.message]).toStrictEqual([0, 'ClientError', 'boom']);
    expect(toKubeError('a string')).toMatchObject({ status: 0, reason: 'ClientError', message: 'a string' });
  });

  it('a KubeError passes through, gaining the request as context', () => {
    const original = new KubeError(404, 'NotFound', 'gone');
    expect(toKubeError(original)).toBe(original);
    expect(toKubeError(original, 'GET /x')).toMatchObject({ status: 404, reason: 'NotFound', message: 'GET /x: gone' });
  });
});

describe('the Kube client throws KubeErrors that name the request', () => {
  const ref = (name: string) => ({ group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits', namespace: 'shop', name });

  it.each([
    ['missing', 404, 'NotFound'],
    ['busy', 409, 'Conflict'],
    ['broken', 500, 'InternalError'],
  ])('get %s -> %i %s', async (name, code, reason) => {
    const err = await failure(() => new Kube(kc).get(ref(name)));
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ status: code, reason });
    expect((err as KubeError).message).toContain(`GET /apis/split.smi-spec.io/v1alpha4/namespaces/shop/trafficsplits/${name}`);
  });

  it('401 and a closed port', async () => {
    const core = { group: '', version: 'v1', plural: 'services', namespace: 'shop', name: 'secret' };
    expect(await failure(() => new Kube(kc).get(core))).toMatchObject({ status: 401, reason: 'Unauthorized' });
    const closed = new Kube(kubeConfigFor(`http://127.0.0.1:${closedPort}`));
    expect(await failure(() => closed.mergePatch(core, { metadata: {} }))).toMatchObject({ status: 0, reason: 'Unreachable' });
  });

  it('a server that never answers -> status 0, Timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const kube = new Kube(kubeConfigFor(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`), { requestTimeoutMs: 100 });
      expect(await failure(() => kube.get(ref('x')))).toMatchObject({ status: 0, reason: 'Timeout' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
