import request from 'supertest';
import { gzipSync } from 'node:zlib';
import { createApp, type AppDeps } from '../../src/api/app';
import { alertRoutes } from '../../src/api/alerts';
import { kubernetesAuth } from '../../src/api/auth';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { Informer, type KubeObject as CachedObject } from '../../src/controller/informer';
import { kubeSource } from '../../src/controller/kubeSource';
import { silentLogger } from '../../src/controller/logger';
import { Kube } from '../../src/kube';
import { REQUEST_ANNOTATIONS } from '../../src/plan/schema';
import { waitFor } from '../support/cluster';
import { planObject, REFS } from '../support/targets';
import { startApiCluster, requestsTo, ACCESS_REVIEWS, type ApiCluster } from './support';

/** Alertmanager's ServiceAccount token: it may patch every plan of the namespace but `protected`. */
const ALERTMANAGER = 'alertmanager-token';

let cluster: ApiCluster;
/** The controller's kind of plan cache (its Informer over a list and a watch) on the same cluster. */
let cache: Informer<CachedObject>;
/** The route's own client. Its list fails: the route must read plans from the cache, as listing
 * them per alert read the whole plan list from the API server every time. */
let routeKube: Kube;
let listCalls: jest.SpyInstance;
const noted: Array<{ name: string; value: string; at: number }> = [];
const enqueued: string[] = [];

function app(overrides: Partial<AppDeps> = {}): ReturnType<typeof createApp> {
  const deps: AppDeps = {
    controller: {
      enqueue: (p) => void enqueued.push(p.name),
      noteRequest: (p, _kind, value, at) => void noted.push({ name: p.name, value, at }),
      isLeader: true,
      cachedPlans: () => cache.list(),
      cachedPlan: (key) => cache.get(key),
      onPlanChange: () => () => undefined,
      planFeed: () => ({ current: () => undefined, nextChange: () => Promise.resolve() }),
    },
    kube: routeKube,
    auth: kubernetesAuth(routeKube, { log: silentLogger() }),
    namespace: cluster.namespace,
    now: () => 1_800_000_000_000,
    registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
    ready: () => true,
    log: silentLogger(),
    ...overrides,
  };
  return createApp(deps, [alertRoutes]);
}

const plan = (name: string, matchLabels?: Record<string, string>) =>
  planObject(name, {
    targets: [{ provider: 'nginx', nginx: { ingress: 'web', canaryIngress: 'web-canary' } }],
    steps: [{ weight: 10 }, { weight: 100 }],
    ...(matchLabels ? { rollback: { alertmanager: { matchLabels } } } : {}),
  });

async function annotation(name: string): Promise<string | undefined> {
  const obj = await cluster.kube.get({ ...REFS.plans, namespace: cluster.namespace, name });
  return (obj['metadata'] as { annotations?: Record<string, string> }).annotations?.[REQUEST_ANNOTATIONS.rollback];
}

/** POST /api/v1/alerts with Alertmanager's token. */
function postAlerts(target: ReturnType<typeof createApp>): request.Test {
  return request(target).post('/api/v1/alerts').set('authorization', `Bearer ${ALERTMANAGER}`);
}

const firing = (labels: Record<string, string>, status = 'firing') => ({
  version: '4', status, receiver: 'trafficshift', groupKey: 'k',
  alerts: [{ status, labels, annotations: {}, startsAt: '2026-11-27T10:00:00Z' }],
});

beforeAll(async () => {
  cluster = await startApiCluster('alerts', (namespace) => ({
    tokens: { [ALERTMANAGER]: { username: 'system:serviceaccount:monitoring:alertmanager', groups: ['system:serviceaccounts'] } },
    // system:masters (the test's own client) may do anything; Alertmanager may patch plans in the
    // run's namespace, except `protected`.
    authorize: (user, attrs) =>
      user.groups.includes('system:masters') ||
      (user.username === 'system:serviceaccount:monitoring:alertmanager' && attrs.resource === 'migrationplans' && attrs.verb === 'patch' && attrs.namespace === namespace && attrs.name !== 'protected'),
  }));
  for (const [name, labels] of [['checkout', { migration: 'checkout' }], ['payments', { migration: 'payments' }], ['unwatched', undefined], ['protected', { migration: 'protected' }]] as const) {
    await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, plan(name, labels));
  }
  // Steps out of order: the API server accepts it, our schema does not.
  const broken = plan('broken', { migration: 'broken' });
  (broken['spec'] as { steps: unknown }).steps = [{ weight: 50 }, { weight: 10 }, { weight: 100 }];
  await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, broken);
  cache = new Informer<CachedObject>(kubeSource(cluster.kube, { ...REFS.plans, namespace: cluster.namespace }), { onChange: () => undefined, resyncMs: 0 });
  await cache.start();
  routeKube = new Kube(cluster.kubeConfig, { fieldManager: 'trafficshift-controller' });
  listCalls = jest.spyOn(routeKube, 'list').mockRejectedValue(new Error('the alerts route listed plans from the API server'));
});
afterAll(async () => {
  await cache?.stop();
  await cluster.close();
});

describe('POST /api/v1/alerts', () => {
  it('still reaches a plan whose spec is invalid elsewhere: only its rollback block is read', async () => {
    const res = await postAlerts(app()).send(firing({ alertname: 'Burn', migration: 'broken' }));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack.map((r: { name: string }) => r.name)).toEqual(['broken']);
    expect(await annotation('broken')).toBe('alert Burn firing since 2026-11-27T10:00:00Z');
  });

  it('answers 400 naming the field for a payload that is not Alertmanager\'s', async () => {
    const res = await postAlerts(app()).send({ version: '4', status: 'firing', alerts: [{ status: 'firing' }] });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('alerts[0].labels');
    expect(res.body.error).toContain('alerts[0].labels');
  });

  it('does nothing for a resolved alert', async () => {
    const res = await postAlerts(app()).send(firing({ migration: 'payments' }, 'resolved'));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack).toEqual([]);
    expect(await annotation('payments')).toBeUndefined();
  });

  it('asks exactly the matching plan to roll back, noting the receipt time before the write', async () => {
    const res = await postAlerts(app()).send(firing({ alertname: 'HighErrorRate', migration: 'checkout' }));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack).toEqual([{ namespace: cluster.namespace, name: 'checkout', reason: 'alert HighErrorRate firing since 2026-11-27T10:00:00Z' }]);
    expect(await annotation('checkout')).toBe('alert HighErrorRate firing since 2026-11-27T10:00:00Z');
    expect(await annotation('payments')).toBeUndefined();
    expect(await annotation('unwatched')).toBeUndefined();
    expect(noted).toContainEqual({ name: 'checkout', value: 'alert HighErrorRate firing since 2026-11-27T10:00:00Z', at: 1_800_000_000_000 });
    expect(enqueued).toContain('checkout');
  });

  it('matches from the controller\'s plan cache, with no list from the API server, and follows it', async () => {
    await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, plan('late', { migration: 'late' }));
    await waitFor(() => cache.get(`${cluster.namespace}/late`) !== undefined, 10_000, 'the cache to see the new plan');
    const res = await postAlerts(app()).send(firing({ alertname: 'Burn', migration: 'late' }));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack.map((r: { name: string }) => r.name)).toEqual(['late']);
    expect(await annotation('late')).toBe('alert Burn firing since 2026-11-27T10:00:00Z');
    expect(listCalls).not.toHaveBeenCalled();
  });

  it('skips a plan the cache shows already rolled back or done', async () => {
    const settled = (name: string, phase: string): CachedObject => ({ ...plan(name, { migration: 'settled' }), metadata: { name, namespace: cluster.namespace }, status: { phase } }) as CachedObject;
    const controller = {
      enqueue: () => undefined,
      noteRequest: () => undefined,
      isLeader: true,
      cachedPlans: () => [settled('gone', 'RolledBack'), settled('done', 'Succeeded')], cachedPlan: () => undefined, onPlanChange: () => () => undefined,
      planFeed: () => ({ current: () => undefined, nextChange: () => Promise.resolve() }),
    };
    const res = await postAlerts(app({ controller })).send(firing({ migration: 'settled' }));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack).toEqual([]);
  });

  it('answers 503 until the plan cache has synced, so Alertmanager sends the alert again', async () => {
    const res = await postAlerts(app({ ready: () => false })).send(firing({ alertname: 'Early', migration: 'payments' }));
    expect(res.status).toBe(503);
    expect(res.body).toStrictEqual({ error: 'the plan cache has not synced yet; retry later', reason: 'ServiceUnavailable' });
    expect(await annotation('payments')).toBeUndefined();
  });

  /** POSTs `body` as it is, marked `content-encoding: gzip`. */
  function postGzipMarked(body: Buffer) {
    return postAlerts(app())
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      // superagent would JSON-encode a Buffer sent as application/json; send the bytes as they are.
      .serialize(() => body as unknown as string)
      .send(body);
  }

  it('answers 400, not 500, for a gzip-encoded body that is not gzip', async () => {
    const res = await postGzipMarked(Buffer.from(JSON.stringify(firing({ migration: 'payments' }))));
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual({ error: 'request body is not valid gzip: it does not decompress (Z_DATA_ERROR)', reason: 'BadRequest' });
  });

  it('reads a gzip-encoded payload', async () => {
    const res = await postGzipMarked(gzipSync(JSON.stringify(firing({ migration: 'payments' }, 'resolved'))));
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ rolledBack: [], skipped: [], alerts: 1 });
  });
});

describe('who may roll back by alert', () => {
  it('needs a bearer token: 401 with WWW-Authenticate: Bearer without one, or with one the cluster refuses', async () => {
    for (const header of [undefined, 'Bearer not-a-token']) {
      const r = request(app()).post('/api/v1/alerts');
      const res = await (header ? r.set('authorization', header) : r).send(firing({ alertname: 'Burn', migration: 'payments' }));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body.reason).toBe('Unauthorized');
    }
    expect(await annotation('payments')).toBeUndefined();
  });

  it('rolls back only the plans the caller may patch, and names the skipped ones', async () => {
    const res = await postAlerts(app()).send({
      version: '4', status: 'firing', receiver: 'trafficshift', groupKey: 'k',
      alerts: [
        { status: 'firing', labels: { alertname: 'Burn', migration: 'protected' }, startsAt: '2026-11-27T10:00:00Z' },
        { status: 'firing', labels: { alertname: 'Burn', migration: 'payments' }, startsAt: '2026-11-27T10:00:00Z' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      rolledBack: [{ namespace: cluster.namespace, name: 'payments', reason: 'alert Burn firing since 2026-11-27T10:00:00Z' }],
      skipped: [{ namespace: cluster.namespace, name: 'protected', reason: 'Forbidden' }],
      alerts: 2,
    });
    expect(await annotation('protected')).toBeUndefined();
    expect(await annotation('payments')).toBe('alert Burn firing since 2026-11-27T10:00:00Z');
  });

  it('answers 503 and writes nothing when a permission cannot be checked, so Alertmanager sends it again', async () => {
    await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, plan('unchecked', { migration: 'unchecked' }));
    await waitFor(() => cache.get(`${cluster.namespace}/unchecked`) !== undefined, 10_000, 'the cache to see the new plan');
    const before = requestsTo(cluster, ACCESS_REVIEWS);
    const fault = cluster.local.faults.inject({ match: { resource: 'subjectaccessreviews' }, respond: { status: 500, message: 'etcd is down' } });
    try {
      const res = await postAlerts(app()).send(firing({ alertname: 'Burn', migration: 'unchecked' }));
      expect(res.status).toBe(503);
      expect(res.body.reason).toBe('ServiceUnavailable');
    } finally {
      fault.remove();
    }
    expect(requestsTo(cluster, ACCESS_REVIEWS)).toBeGreaterThan(before);
    expect(await annotation('unchecked')).toBeUndefined();
  });
});
