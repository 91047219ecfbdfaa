// Authentication, authorization (with TokenReview and SubjectAccessReview) and fault injection.
import * as k8s from '@kubernetes/client-node';
import { failure, Harness, MP, plan, raw, startHarness } from './support';

describe('authentication and authorization', () => {
  let h: Harness;
  let bob: k8s.CustomObjectsApi;
  beforeAll(async () => {
    h = await startHarness({
      tokens: { 'bob-token': { username: 'bob', groups: ['sre'] }, 'carol-token': { username: 'carol' } },
      rules: [{ groups: ['sre'], verbs: ['get', 'list', 'watch'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], namespaces: ['shop'] }],
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: h.server.url, skipTLSVerify: true }],
      users: [{ name: 'bob', token: 'bob-token' }],
      contexts: [{ name: 'bob', cluster: 'c', user: 'bob' }],
      currentContext: 'bob',
    });
    bob = kc.makeApiClient(k8s.CustomObjectsApi);
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('x') });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers 401 Unauthorized to an unknown token', async () => {
    const { status, json } = await raw(h.server, 'GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer nope' });
    expect(status).toBe(401);
    expect(json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
  });

  it('lets a user do what a rule allows and answers 403 with the real message otherwise', async () => {
    const read = (await bob.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'x' })) as Record<string, any>;
    expect(read.metadata.name).toBe('x');
    const { code, body } = await failure(
      bob.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'x', body: { spec: { paused: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
    );
    expect(code).toBe(403);
    expect(body.reason).toBe('Forbidden');
    expect(body.message).toBe('migrationplans.trafficshift.io "x" is forbidden: User "bob" cannot patch resource "migrationplans" in API group "trafficshift.io" in the namespace "shop"');
  });

  it('answers TokenReviews from the token map, for the API server audience', async () => {
    const review = await raw(h.server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'bob-token' } });
    expect(review.status).toBe(201);
    expect(review.json.status).toStrictEqual({ authenticated: true, user: { username: 'bob', groups: ['sre', 'system:authenticated'] }, audiences: ['https://kubernetes.default.svc.cluster.local'] });
    // authenticated is omitempty: a failed review does not carry it.
    const unknown = await raw(h.server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: 'nope' } });
    expect(unknown.json.status).toStrictEqual({ user: {}, error: 'invalid bearer token' });
    const empty = await raw(h.server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: {} });
    expect(empty.status).toBe(400);
    expect(empty.json.message).toBe('token is required for TokenReview in authentication.k8s.io');
  });

  it('answers SubjectAccessReviews with the same rules', async () => {
    const ask = async (user: string, groups: string[], verb: string) => {
      const r = await raw(h.server, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { namespace: 'shop', verb, group: 'trafficshift.io', resource: 'migrationplans', name: 'x' } },
      });
      expect(r.status).toBe(201);
      return (r.json.status as Record<string, unknown>).allowed;
    };
    expect(await ask('bob', ['sre'], 'get')).toBe(true);
    expect(await ask('bob', ['sre'], 'patch')).toBe(false);
    expect(await ask('carol', [], 'get')).toBe(false);
  });
});

describe('fault injection', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('fails the next matching request with 500 once, then serves normally', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('p') });
    const fault = h.server.faults.inject({ match: { verb: 'get', resource: 'migrationplans', name: 'p' }, respond: { status: 500 }, times: 1 });
    const { code, body } = await failure(h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'p' }));
    expect(code).toBe(500);
    expect(body.reason).toBe('InternalError');
    const ok = (await h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'p' })) as Record<string, any>;
    expect(ok.metadata.name).toBe('p');
    expect(fault.hits).toBe(1);
  });

  it('injects a 409 conflict on patch until removed', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('c') });
    const fault = h.server.faults.inject({ match: { verb: 'patch' }, respond: { status: 409 } });
    const patch = () => h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'c', body: { spec: { paused: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect((await failure(patch())).code).toBe(409);
    expect((await failure(patch())).code).toBe(409);
    fault.remove();
    expect(((await patch()) as Record<string, any>).spec.paused).toBe(true);
  });

  it('hits only its fraction of matching requests, drawn from the random source given, and lets later faults try the rest', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('f') });
    const draws = [0.1, 0.9, 0.3, 0.7];
    const half = h.server.faults.inject({ match: { verb: ['patch', 'update'], resource: 'migrationplans' }, fraction: 0.5, random: () => draws.shift() ?? 1, respond: () => ({ status: 500 }) });
    const rest = h.server.faults.inject({ match: { verb: 'patch' }, respond: { status: 409 } });
    const patch = () => h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'f', body: { spec: { paused: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await failure(patch())).code);
    expect(codes).toStrictEqual([500, 409, 500, 409]);
    expect([half.hits, rest.hits]).toStrictEqual([2, 2]);
  });

  it('tells write observers who wrote what, with the store as that write left it', async () => {
    const seen: Array<{ username: string; verb: string; name: string; paused: unknown; stored: unknown; previous: unknown }> = [];
    const stop = h.server.onWrite((w) => seen.push({
      username: w.username, verb: w.verb, name: w.name,
      paused: (w.object['spec'] as { paused?: boolean } | undefined)?.paused,
      stored: (h.server.stored('trafficshift.io', 'migrationplans', 'shop', w.name)?.['spec'] as { paused?: boolean } | undefined)?.paused,
      previous: (w.previous?.['spec'] as { paused?: boolean } | undefined)?.paused,
    }));
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('w') });
    await h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'w', body: { spec: { paused: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    h.server.faults.inject({ match: { verb: 'patch' }, respond: { status: 500 }, times: 1 });
    await failure(h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'w', body: { spec: { paused: false } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)));
    stop();
    expect(seen).toStrictEqual([
      // The CRD defaults spec.paused to false.
      { username: 'localkube-admin', verb: 'create', name: 'w', paused: false, stored: false, previous: undefined },
      { username: 'localkube-admin', verb: 'patch', name: 'w', paused: true, stored: true, previous: false },
    ]);
  });

  it('drops the connection of a matching request', async () => {
    h.server.faults.inject({ match: { verb: 'list', resource: 'services' }, respond: 'dropConnection', times: 1 });
    await expect(h.core.listNamespacedService({ namespace: 'shop' })).rejects.toThrow();
    await expect(h.core.listNamespacedService({ namespace: 'shop' })).resolves.toMatchObject({ items: [] });
  });

  it('delays a request by the given time (request log records it)', async () => {
    h.server.faults.inject({ match: { verb: 'get', resource: 'namespaces' }, respond: { delayMs: 150 }, times: 1 });
    h.server.clearRequests();
    const started = Date.now();
    await h.core.readNamespace({ name: 'shop' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(h.server.requests).toContainEqual(expect.objectContaining({ method: 'GET', path: '/api/v1/namespaces/shop', status: 200, verb: 'get', resource: 'namespaces' }));
  });

  it('can be started again after stop(), empty but for its CRDs and namespaces', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('gone-after-restart') });
    await h.server.stop();
    await h.server.start();
    h.server.writeKubeconfig(h.kubeconfigPath);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(h.kubeconfigPath);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    const list = (await custom.listNamespacedCustomObject({ ...MP, namespace: 'shop' })) as Record<string, any>;
    expect(list.items).toStrictEqual([]);
  });

  it('stop() closes open watches promptly', async () => {
    const watching = new Promise<unknown>((resolve) => {
      void new k8s.Watch(h.kc).watch('/api/v1/namespaces', {}, () => {}, (err) => resolve(err ?? null));
    });
    while (h.server.openWatchCount === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = Date.now();
    await h.server.stop();
    await watching;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
