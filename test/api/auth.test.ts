// The REST API's authentication and authorization against a real in-process API server:
// TokenReview and SubjectAccessReview as it answers them, counted in its request log, with a
// clock of the test's own so the cache's time-to-live runs out without waiting for it.
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { ExpiringLru, kubernetesAuth, TOKEN_CACHE, type KubernetesAuthOptions } from '../../src/api/auth';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { planRoutes } from '../../src/api/plans';
import { controllerKube } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import type { Kube } from '../../src/kube';
import type { RequestAttributes, UserInfo } from '../../src/localkube';
import { planRef } from '../support/plans';
import { createObjects, planObject, targetFixture } from '../support/targets';
import { ACCESS_REVIEWS, CacheOnlyController, requestsTo, resourceVersionOf, serviceAccountToken, startApiCluster, TOKEN_REVIEWS, type ApiCluster } from './support';

const ALICE = 'alice-token';

let cluster: ApiCluster;
let controller: CacheOnlyController;
let routeKube: Kube;
/** Users the cluster lets get, list and patch plans; the test grants and revokes. */
const grants = new Set<string>(['alice']);
/** Every SubjectAccessReview and request the cluster decided, as its authorizer saw it. */
const decided: Array<{ user: UserInfo; attrs: RequestAttributes }> = [];
let clock = Date.parse('2026-11-27T10:00:00Z');

beforeAll(async () => {
  cluster = await startApiCluster('auth', (namespace) => ({
    tokens: { [ALICE]: { username: 'alice', uid: 'alice-uid', groups: ['sre'] } },
    authorize: (user, attrs) => {
      if (user.groups.includes('system:masters')) return true;
      decided.push({ user, attrs });
      return grants.has(user.username) && attrs.group === 'trafficshift.io' && attrs.resource === 'migrationplans' && (attrs.namespace === namespace || attrs.namespace === '');
    },
  }));
  controller = new CacheOnlyController(cluster.kube, cluster.namespace);
  await controller.start();
  routeKube = controllerKube(cluster.kubeConfig);
  const { target, objects } = targetFixture('nginx', 'web');
  await createObjects(cluster, objects);
  const plan = await cluster.kube.create(planRef(cluster), planObject('checkout', { targets: [target], steps: [{ weight: 30, pause: {} }, { weight: 100 }] }));
  await controller.sees({ namespace: cluster.namespace, name: 'checkout' }, resourceVersionOf(plan));
});
afterAll(async () => {
  await controller?.stop();
  routeKube?.close();
  await cluster?.close();
});

/** `namespace` null: a controller watching every namespace. */
function app(options: Partial<KubernetesAuthOptions> = {}, namespace: string | null = cluster.namespace): Express {
  return createApp(
    {
      controller,
      kube: routeKube,
      auth: kubernetesAuth(routeKube, { log: silentLogger(), now: () => clock, ...options }),
      ...(namespace !== null ? { namespace } : {}),
      registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
      ready: () => true,
      log: silentLogger(),
    },
    [planRoutes],
  );
}

const detail = (): string => `/api/v1/namespaces/${cluster.namespace}/plans/checkout`;

function get(target: Express, token: string, path = detail()): request.Test {
  return request(target).get(path).set('authorization', `Bearer ${token}`);
}

function counts(): { reviews: number; access: number } {
  return { reviews: requestsTo(cluster, TOKEN_REVIEWS), access: requestsTo(cluster, ACCESS_REVIEWS) };
}

function since(before: { reviews: number; access: number }): { reviews: number; access: number } {
  const now = counts();
  return { reviews: now.reviews - before.reviews, access: now.access - before.access };
}

describe('the cache', () => {
  it('asks TokenReview and SubjectAccessReview once; a second request within the TTL asks neither', async () => {
    const a = app();
    const before = counts();
    expect((await get(a, ALICE)).status).toBe(200);
    expect(since(before)).toEqual({ reviews: 1, access: 1 });
    expect((await get(a, ALICE)).status).toBe(200);
    expect(since(before)).toEqual({ reviews: 1, access: 1 });
  });

  it('a rollback after a read pays for its own verb only: no second TokenReview', async () => {
    const a = app();
    await get(a, ALICE);
    const before = counts();
    const res = await request(a).post(`${detail()}/pause`).set('authorization', `Bearer ${ALICE}`);
    expect(res.status).toBe(200);
    expect(since(before)).toEqual({ reviews: 0, access: 1 });
    const again = counts();
    expect((await request(a).post(`${detail()}/resume`).set('authorization', `Bearer ${ALICE}`)).status).toBe(200);
    expect(since(again)).toEqual({ reviews: 0, access: 0 });
  });

  it('concurrent first requests with one token share one TokenReview and one SubjectAccessReview', async () => {
    const a = app();
    const before = counts();
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(a, ALICE)));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(since(before)).toEqual({ reviews: 1, access: 1 });
  });

  it('a token the cluster stops accepting (its ServiceAccount deleted) is refused once the TTL has passed', async () => {
    const token = await serviceAccountToken(cluster, 'deployer');
    grants.add(`system:serviceaccount:${cluster.namespace}:deployer`);
    const a = app();
    expect((await get(a, token)).status).toBe(200);
    await cluster.kube.delete({ group: '', version: 'v1', plural: 'serviceaccounts', namespace: cluster.namespace, name: 'deployer' });
    // The cluster refuses it now; the cache still holds the answer for up to 10 s.
    clock += TOKEN_CACHE.allowedTtlMs - 1;
    const before = counts();
    expect((await get(a, token)).status).toBe(200);
    expect(since(before).reviews).toBe(0);
    clock += 2;
    const refused = await get(a, token);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(since(before).reviews).toBe(1);
  });

  it('a refused token is remembered briefly (3 s), then asked about again', async () => {
    const a = app();
    const before = counts();
    expect((await get(a, 'made-up-token')).status).toBe(401);
    expect((await get(a, 'made-up-token')).status).toBe(401);
    expect(since(before).reviews).toBe(1);
    clock += 3_000;
    expect((await get(a, 'made-up-token')).status).toBe(401);
    expect(since(before).reviews).toBe(2);
  });

  it('a permission revoked is refused after 10 s; one granted is honoured after 3 s', async () => {
    const a = app();
    const token = await serviceAccountToken(cluster, 'ci-bot');
    const user = `system:serviceaccount:${cluster.namespace}:ci-bot`;
    expect((await get(a, token)).status).toBe(403);
    grants.add(user);
    clock += 2_999;
    expect((await get(a, token)).status).toBe(403);
    clock += 1;
    expect((await get(a, token)).status).toBe(200);
    grants.delete(user);
    clock += 9_999;
    expect((await get(a, token)).status).toBe(200);
    clock += 1;
    // The token is re-reviewed too (its 10 s are over), and still good; the access is not.
    expect((await get(a, token)).status).toBe(403);
  });

  it('keeps at most maxEntries answers, evicting the least recently used', async () => {
    const a = app({ tokens: { allowedTtlMs: 60_000, deniedTtlMs: 60_000, maxEntries: 2 } });
    const tokens = [ALICE, await serviceAccountToken(cluster, 'one'), await serviceAccountToken(cluster, 'two')];
    for (const t of tokens) await get(a, t);
    // ALICE was evicted by the third; `one` and `two` are still held.
    const before = counts();
    await get(a, tokens[2] as string);
    await get(a, tokens[1] as string);
    expect(since(before).reviews).toBe(0);
    await get(a, ALICE);
    expect(since(before).reviews).toBe(1);
  });
});

describe('what it asks', () => {
  it('asks SubjectAccessReview for the user TokenReview named (user, groups) and the route\'s verb on the plan', async () => {
    const token = await serviceAccountToken(cluster, 'asker');
    grants.add(`system:serviceaccount:${cluster.namespace}:asker`);
    decided.length = 0;
    const a = app();
    await get(a, token);
    await request(a).post(`${detail()}/promote`).set('authorization', `Bearer ${token}`);
    await get(a, token, '/api/v1/plans');
    const reviews = decided.filter((d) => d.attrs.resource === 'migrationplans').map((d) => ({ user: d.user.username, groups: d.user.groups, ...d.attrs }));
    const who = { user: `system:serviceaccount:${cluster.namespace}:asker`, groups: expect.arrayContaining(['system:serviceaccounts', `system:serviceaccounts:${cluster.namespace}`, 'system:authenticated']) };
    const on = { group: 'trafficshift.io', resource: 'migrationplans', subresource: '' };
    expect(reviews).toEqual([
      { ...who, ...on, verb: 'get', namespace: cluster.namespace, name: 'checkout' },
      { ...who, ...on, verb: 'patch', namespace: cluster.namespace, name: 'checkout' },
      { ...who, ...on, verb: 'list', namespace: cluster.namespace, name: '' },
    ]);
  });

  it('lists across the cluster (namespace "") when the controller watches every namespace and no ?namespace is given', async () => {
    decided.length = 0;
    const a = app({}, null);
    expect((await get(a, ALICE, '/api/v1/plans')).status).toBe(200);
    expect((await get(a, ALICE, `/api/v1/plans?namespace=${cluster.namespace}`)).status).toBe(200);
    expect(decided.filter((d) => d.attrs.resource === 'migrationplans').map((d) => [d.attrs.verb, d.attrs.namespace])).toEqual([
      ['list', ''],
      ['list', cluster.namespace],
    ]);
  });
});

describe('when the API server cannot answer', () => {
  it.each([
    ['TokenReview answers 500', 'tokenreviews', { status: 500, message: 'etcd is down' }],
    ['TokenReview\'s connection drops', 'tokenreviews', 'dropConnection'],
    ['SubjectAccessReview answers 503', 'subjectaccessreviews', { status: 503, message: 'overloaded' }],
    ['SubjectAccessReview is itself forbidden to the controller', 'subjectaccessreviews', { status: 403, message: 'forbidden' }],
  ] as const)('%s: 503, never let through, and not remembered', async (_what, resource, respond) => {
    const a = app();
    const token = await serviceAccountToken(cluster, `down-${resource}-${typeof respond === 'string' ? 'drop' : respond.status}`);
    grants.add(`system:serviceaccount:${cluster.namespace}:down-${resource}-${typeof respond === 'string' ? 'drop' : respond.status}`);
    const fault = cluster.local.faults.inject({ match: { resource }, respond });
    let res: request.Response;
    try {
      res = await get(a, token);
    } finally {
      fault.remove();
    }
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ reason: 'ServiceUnavailable' });
    expect(res.text).not.toMatch(/etcd|overloaded/);
    // Back up: the next request is asked about afresh and goes through.
    expect((await get(a, token)).status).toBe(200);
  });
});

describe('ExpiringLru', () => {
  it('forgets an entry at its expiry, and the least recently used one beyond its size', () => {
    const lru = new ExpiringLru<string>(2);
    lru.set('a', 'A', 100);
    lru.set('b', 'B', 100);
    expect(lru.get('a', 0)).toBe('A');
    lru.set('c', 'C', 100);
    // b was the least recently used: a was just read.
    expect(lru.get('b', 0)).toBeUndefined();
    expect(lru.get('a', 0)).toBe('A');
    expect(lru.get('c', 0)).toBe('C');
    expect(lru.size).toBe(2);
    expect(lru.get('a', 100)).toBeUndefined();
    expect(lru.size).toBe(1);
  });
});
