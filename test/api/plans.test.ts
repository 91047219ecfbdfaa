// The steering REST API against a real in-process API server: bearer tokens checked by its
// TokenReview, permissions by its SubjectAccessReview, plans read from a real plan cache (an
// Informer, as the controller's), and every write checked on the stored object. No controller
// runs here, so nothing but the test and the routes writes: a plan's phase is what the test set.
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { kubernetesAuth, noAuth } from '../../src/api/auth';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { planRoutes } from '../../src/api/plans';
import { PlanList, PlanViewSchema, RollbackResult, SteeringResult, TimeoutBody } from '../../src/api/schemas';
import { ErrorBody } from '../../src/api/errors';
import { controllerKube } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import type { Kube, KubeObject } from '../../src/kube';
import { MESSAGE_LIMIT } from '../../src/engine/bounds';
import { REQUEST_ANNOTATIONS, type MigrationPlanStatus, type Target } from '../../src/plan/schema';
import { liveWeight, planRef, setWeightByHand } from '../support/plans';
import { createObjects, planObject, targetFixture } from '../support/targets';
import { CacheOnlyController, resourceVersionOf, setStatus, startApiCluster, type ApiCluster } from './support';
import { Writable } from 'node:stream';
import * as winston from 'winston';

const STEER = 'steer-token';
const READ = 'read-token';
const NOBODY = 'nobody-token';
const ADMIN = 'admin-token';

let cluster: ApiCluster;
let controller: CacheOnlyController;
let routeKube: Kube;
let app: Express;

const T0 = Date.parse('2026-11-27T10:00:00Z');

beforeAll(async () => {
  cluster = await startApiCluster('plans', (namespace) => ({
    tokens: {
      [STEER]: { username: 'alice', groups: ['sre'] },
      [READ]: { username: 'victor', groups: ['viewers'] },
      [NOBODY]: { username: 'bob' },
      [ADMIN]: { username: 'root', groups: ['system:masters'] },
    },
    rules: [
      { groups: ['sre'], verbs: ['get', 'list', 'patch'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], namespaces: [namespace] },
      { groups: ['viewers'], verbs: ['get', 'list'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], namespaces: [namespace] },
    ],
  }));
  controller = new CacheOnlyController(cluster.kube, cluster.namespace);
  await controller.start();
  routeKube = controllerKube(cluster.kubeConfig);
  app = createApp(
    {
      controller,
      kube: routeKube,
      auth: kubernetesAuth(routeKube, { log: silentLogger() }),
      namespace: cluster.namespace,
      now: () => T0,
      registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
      ready: () => true,
      log: silentLogger(),
    },
    [planRoutes],
  );
});
afterAll(async () => {
  await controller?.stop();
  routeKube?.close();
  await cluster?.close();
});

function url(name: string, action?: string, namespace = cluster.namespace): string {
  return `/api/v1/namespaces/${namespace}/plans/${name}${action ? `/${action}` : ''}`;
}

function get(path: string, token?: string): request.Test {
  const r = request(app).get(path);
  return token ? r.set('authorization', `Bearer ${token}`) : r;
}

function post(path: string, token?: string, body?: unknown): request.Test {
  const r = request(app).post(path);
  if (token) r.set('authorization', `Bearer ${token}`);
  return body === undefined ? r : r.send(body as object);
}

interface PlanSetup {
  labels?: Record<string, string>;
  status?: MigrationPlanStatus;
  /** The live canary weight the target's object holds. */
  weight?: number;
  steps?: unknown[];
  paused?: boolean;
}

/** A plan over one nginx target of its own, its status as the controller would have written it,
 * and the cache caught up with both. */
async function makePlan(name: string, setup: PlanSetup = {}): Promise<{ target: Target; object: KubeObject }> {
  const { target, objects } = targetFixture('nginx', `${name}-web`);
  await createObjects(cluster, objects);
  if (setup.weight !== undefined) await setWeightByHand(cluster, target, setup.weight);
  const body = planObject(name, { targets: [target], steps: setup.steps ?? [{ weight: 30, pause: {} }, { weight: 100 }], ...(setup.paused ? { paused: true } : {}) });
  if (setup.labels) (body['metadata'] as Record<string, unknown>)['labels'] = setup.labels;
  let object = await cluster.kube.create(planRef(cluster), body);
  if (setup.status) object = await setStatus(cluster, name, setup.status);
  await controller.sees({ namespace: cluster.namespace, name }, resourceVersionOf(object));
  return { target, object };
}

async function stored(name: string): Promise<KubeObject> {
  return cluster.kube.get(planRef(cluster, name));
}

function annotation(obj: KubeObject, kind: keyof typeof REQUEST_ANNOTATIONS): string | undefined {
  return (obj['metadata'] as { annotations?: Record<string, string> }).annotations?.[REQUEST_ANNOTATIONS[kind]];
}

const waiting = (weight = 30): MigrationPlanStatus => ({ phase: 'WaitingForPromotion', currentStep: 0, canaryWeight: weight });
const rolledBack = (reason: string): MigrationPlanStatus => ({
  phase: 'RolledBack',
  canaryWeight: 0,
  handledRequests: { rollback: reason },
  rollback: { reason, triggeredAt: '2026-11-27T09:00:00Z', completedAt: '2026-11-27T09:00:01Z', recoverySeconds: 0.4 },
});

/** Every route, with a body that would be accepted. */
const ROUTES: ReadonlyArray<{ label: string; method: 'get' | 'post'; path: (name: string) => string; body?: unknown }> = [
  { label: 'GET /plans', method: 'get', path: () => '/api/v1/plans' },
  { label: 'GET …/{name}', method: 'get', path: (n) => url(n) },
  { label: 'POST …/pause', method: 'post', path: (n) => url(n, 'pause') },
  { label: 'POST …/resume', method: 'post', path: (n) => url(n, 'resume') },
  { label: 'POST …/promote', method: 'post', path: (n) => url(n, 'promote') },
  { label: 'POST …/rollback', method: 'post', path: (n) => url(n, 'rollback'), body: { reason: 'test' } },
  { label: 'POST …/retry', method: 'post', path: (n) => url(n, 'retry') },
];

function call(route: (typeof ROUTES)[number], name: string, token?: string): request.Test {
  return route.method === 'get' ? get(route.path(name), token) : post(route.path(name), token, route.body);
}

describe('who may call', () => {
  beforeAll(async () => {
    await makePlan('guarded', { status: waiting(), weight: 30 });
  });

  it.each(ROUTES.map((r) => [r.label, r] as const))(
    '%s: 401 with WWW-Authenticate: Bearer without a token, with a malformed header and with a token the cluster refuses; the same body for a plan that exists and one that does not',
    async (_label, route) => {
      const bodies: unknown[] = [];
      for (const name of ['guarded', 'no-such-plan']) {
        for (const header of [undefined, 'Basic YWxpY2U6cHc=', 'Bearer', `Bearer ${STEER} extra`]) {
          const r = route.method === 'get' ? request(app).get(route.path(name)) : request(app).post(route.path(name)).send((route.body ?? {}) as object);
          const res = header === undefined ? await r : await r.set('authorization', header);
          expect(res.status).toBe(401);
          expect(res.headers['www-authenticate']).toBe('Bearer');
          expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'Unauthorized' });
          bodies.push(res.body);
        }
        const refused = await call(route, name, 'not-a-token-the-cluster-knows');
        expect(refused.status).toBe(401);
        expect(refused.headers['www-authenticate']).toBe('Bearer');
        bodies.push(refused.body);
      }
      // The missing-plan answers equal the existing-plan ones, one for one.
      expect(bodies.slice(5)).toStrictEqual(bodies.slice(0, 5));
    },
  );

  it.each(ROUTES.map((r) => [r.label, r] as const))(
    '%s: 403 for a user without a grant, the same body for a plan that exists and one that does not',
    async (_label, route) => {
      const existing = await call(route, 'guarded', NOBODY);
      const missing = await call(route, 'no-such-plan', NOBODY);
      expect(existing.status).toBe(403);
      expect(ErrorBody.parse(existing.body)).toMatchObject({ reason: 'Forbidden' });
      expect(existing.body.error).toContain('User "bob" cannot');
      if (route.label !== 'GET /plans') expect(missing.body).toStrictEqual({ ...existing.body, error: existing.body.error.replace('"guarded"', '"no-such-plan"') });
      expect(missing.status).toBe(403);
    },
  );

  it('lets a reader read but not steer (patch is its own verb)', async () => {
    expect((await get(url('guarded'), READ)).status).toBe(200);
    expect((await get('/api/v1/plans', READ)).status).toBe(200);
    for (const action of ['pause', 'resume', 'promote', 'retry']) {
      const res = await post(url('guarded', action), READ);
      expect(res.status).toBe(403);
      expect(res.body).toStrictEqual({ error: `User "victor" cannot patch migrationplans.trafficshift.io "guarded" in the namespace "${cluster.namespace}"`, reason: 'Forbidden' });
    }
    expect((await post(url('guarded', 'rollback'), READ, { reason: 'x' })).status).toBe(403);
    expect(annotation(await stored('guarded'), 'rollback')).toBeUndefined();
  });

  it('asks about the plan\'s own namespace: a grant in one namespace does not reach another', async () => {
    const res = await get(url('guarded', undefined, 'kube-system'), STEER);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('User "alice" cannot get migrationplans.trafficshift.io "guarded" in the namespace "kube-system"');
  });

  it('authorizes before it validates a body: a caller who may not steer learns nothing from a 400', async () => {
    const res = await post(url('guarded', 'rollback'), NOBODY, { nonsense: true });
    expect(res.status).toBe(403);
  });
});

describe('GET /api/v1/plans', () => {
  beforeAll(async () => {
    await makePlan('list-b', { labels: { team: 'checkout', tier: 'web' }, status: waiting(20) });
    await makePlan('list-a', { labels: { team: 'payments', tier: 'api' } });
    await makePlan('list-c', { labels: { team: 'search' }, status: rolledBack('errors') });
  });

  const names = (body: unknown): string[] => PlanList.parse(body).items.map((p) => p.name).filter((n) => n.startsWith('list-'));

  it('lists summary views from the cache, sorted by namespace and name', async () => {
    const res = await get('/api/v1/plans', STEER);
    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(['list-a', 'list-b', 'list-c']);
    const b = PlanList.parse(res.body).items.find((p) => p.name === 'list-b');
    expect(b).toMatchObject({ namespace: cluster.namespace, phase: 'WaitingForPromotion', canaryWeight: 20, step: { number: 1, count: 2, weight: 30, promotionGate: true } });
    // Summary: the weight the status says, no live read of the target.
    expect(b?.targets).toEqual([{ target: `nginx Ingress ${cluster.namespace}/list-b-web-canary`, provider: 'nginx', weight: 20 }]);
  });

  it('filters by ?namespace= (none in another namespace)', async () => {
    expect(names((await get(`/api/v1/plans?namespace=${cluster.namespace}`, STEER)).body)).toEqual(['list-a', 'list-b', 'list-c']);
    // Empty, as SPEC.md writes it: every namespace watched.
    expect(names((await get('/api/v1/plans?namespace=', STEER)).body)).toEqual(['list-a', 'list-b', 'list-c']);
    const other = await get('/api/v1/plans?namespace=default', STEER);
    // alice has no grant in default.
    expect(other.status).toBe(403);
  });

  it.each([
    ['team=checkout', ['list-b']],
    ['team==checkout', ['list-b']],
    ['team!=checkout', ['list-a', 'list-c']],
    ['team in (checkout, search)', ['list-b', 'list-c']],
    ['team notin (checkout,search)', ['list-a']],
    ['tier', ['list-a', 'list-b']],
    ['!tier', ['list-c']],
    ['team=checkout,tier=web', ['list-b']],
    ['team=checkout,tier=api', []],
    ['', ['list-a', 'list-b', 'list-c']],
  ])('?labelSelector=%s selects %j', async (selector, expected) => {
    const res = await get(`/api/v1/plans?labelSelector=${encodeURIComponent(selector)}`, STEER);
    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(expected);
  });

  it.each(['team=', 'team in checkout', 'team in ()', '=x', 'Bad Key=1', 'team=a,', 'a=b=c', 'team=' + 'x'.repeat(64)])('?labelSelector=%s is a 400 naming the field', async (selector) => {
    const res = await get(`/api/v1/plans?labelSelector=${encodeURIComponent(selector)}`, STEER);
    if (selector === 'team=') {
      // An empty value is a value: `team=` selects plans whose team label is empty.
      expect(res.status).toBe(200);
      return;
    }
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'BadRequest', field: 'labelSelector' });
  });

  it('a bad ?namespace= is a 400 naming the field', async () => {
    const res = await get('/api/v1/plans?namespace=Not_A_Namespace', STEER);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ reason: 'BadRequest', field: 'namespace' });
  });

  it('answers 503 until the plan cache has synced, rather than an empty list', async () => {
    const early = createApp(
      { controller, kube: routeKube, auth: kubernetesAuth(routeKube), namespace: cluster.namespace, registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry, ready: () => false },
      [planRoutes],
    );
    const res = await request(early).get('/api/v1/plans').set('authorization', `Bearer ${STEER}`);
    expect(res.status).toBe(503);
    expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'ServiceUnavailable' });
  });

  it('reads the cache, never lists from the API server', async () => {
    const list = jest.spyOn(routeKube, 'list');
    try {
      await get('/api/v1/plans', STEER);
      expect(list).not.toHaveBeenCalled();
    } finally {
      list.mockRestore();
    }
  });
});

describe('GET /api/v1/namespaces/{ns}/plans/{name}', () => {
  it('answers the view with each target\'s live weight, checks and events', async () => {
    const { target } = await makePlan('detail', {
      weight: 30,
      status: {
        ...waiting(10),
        checks: [{ name: 'errors', value: 0.01, threshold: '<= 0.05', result: 'Pass', consecutiveFailures: 0, at: '2026-11-27T09:59:00Z' }],
        history: [{ at: '2026-11-27T09:58:00Z', event: 'StepStarted', weight: 30, message: 'step 1 of 2' }],
      },
    });
    const res = await get(url('detail'), READ);
    expect(res.status).toBe(200);
    const view = PlanViewSchema.parse(res.body);
    expect(view).toMatchObject({ name: 'detail', phase: 'WaitingForPromotion', canaryWeight: 10, paused: false });
    // Live: the object holds 30 though the status says 10.
    expect(view.targets).toEqual([{ target: `nginx Ingress ${cluster.namespace}/${target.nginx?.canaryIngress}`, provider: 'nginx', weight: 30 }]);
    expect(view.checks).toEqual([expect.objectContaining({ name: 'errors', value: 0.01, threshold: '<= 0.05' })]);
    expect(view.events.map((e) => e.event)).toEqual(['StepStarted']);
  });

  it('answers 404 for a plan that does not exist', async () => {
    const res = await get(url('nowhere'), STEER);
    expect(res.status).toBe(404);
    expect(res.body).toStrictEqual({ error: `migrationplan ${cluster.namespace}/nowhere not found`, reason: 'NotFound' });
  });

  it('answers 400 naming the path parameter for a name no plan can have', async () => {
    const res = await get(url('Not_A_Name'), STEER);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ reason: 'BadRequest', field: 'name' });
  });
});

describe('pause and resume', () => {
  it('pause writes spec.paused: true once; asked again it answers 200 and writes nothing', async () => {
    await makePlan('pause', { status: waiting() });
    const first = await post(url('pause', 'pause'), STEER);
    expect(first.status).toBe(200);
    expect(SteeringResult.parse(first.body)).toMatchObject({ changed: true, plan: { name: 'pause', paused: true } });
    const after = await stored('pause');
    expect((after['spec'] as { paused?: boolean }).paused).toBe(true);
    expect(controller.enqueued).toContainEqual({ name: 'pause', urgent: false });
    await controller.sees({ namespace: cluster.namespace, name: 'pause' }, resourceVersionOf(after));

    const second = await post(url('pause', 'pause'), STEER);
    expect(second.status).toBe(200);
    expect(SteeringResult.parse(second.body)).toMatchObject({ changed: false, plan: { paused: true } });
    expect(resourceVersionOf(await stored('pause'))).toBe(resourceVersionOf(after));
  });

  it('a pause right after a resume is not mistaken for a repeat while the cache lags', async () => {
    await makePlan('flip', { status: waiting(), paused: true });
    expect((await post(url('flip', 'resume'), STEER)).body.changed).toBe(true);
    // No wait for the cache: it may still say paused.
    const res = await post(url('flip', 'pause'), STEER);
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    expect(((await stored('flip'))['spec'] as { paused?: boolean }).paused).toBe(true);
  });

  it('resume writes spec.paused: false; a plan not paused is a no-write 200', async () => {
    const { object } = await makePlan('resume', { status: { phase: 'Paused', canaryWeight: 30 }, paused: true });
    const res = await post(url('resume', 'resume'), STEER);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: true, plan: { paused: false } });
    const after = await stored('resume');
    expect(resourceVersionOf(after)).not.toBe(resourceVersionOf(object));
    await controller.sees({ namespace: cluster.namespace, name: 'resume' }, resourceVersionOf(after));
    const again = await post(url('resume', 'resume'), STEER);
    expect(again.body.changed).toBe(false);
    expect(resourceVersionOf(await stored('resume'))).toBe(resourceVersionOf(after));
  });

  it('answers 404 for a plan that does not exist, and writes nothing', async () => {
    const res = await post(url('ghost', 'pause'), STEER);
    expect(res.status).toBe(404);
    expect(res.body.reason).toBe('NotFound');
  });

  it('takes no body but {}: anything else is a 400 naming the field', async () => {
    await makePlan('nobody-body', { status: waiting() });
    expect((await post(url('nobody-body', 'pause'), STEER, {})).status).toBe(200);
    const res = await post(url('nobody-body', 'resume'), STEER, { paused: false });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ reason: 'BadRequest', field: 'paused' });
  });
});

describe('promote', () => {
  it('writes the promote annotation at a promotion gate; a second promote while it is pending writes nothing', async () => {
    await makePlan('promote', { status: waiting() });
    const first = await post(url('promote', 'promote'), STEER);
    expect(first.status).toBe(200);
    expect(SteeringResult.parse(first.body)).toMatchObject({ changed: true, plan: { pendingRequests: { promote: 'promoted at 2026-11-27T10:00:00.000Z' } } });
    const after = await stored('promote');
    expect(annotation(after, 'promote')).toBe('promoted at 2026-11-27T10:00:00.000Z');
    await controller.sees({ namespace: cluster.namespace, name: 'promote' }, resourceVersionOf(after));
    const second = await post(url('promote', 'promote'), STEER);
    expect(second.status).toBe(200);
    expect(second.body.changed).toBe(false);
    expect(resourceVersionOf(await stored('promote'))).toBe(resourceVersionOf(after));
  });

  it.each([['Succeeded'], ['RolledBack'], ['Pending'], ['Failed'], ['RollingBack']] as const)('answers 409 NotPromotable for a plan that is %s, and writes nothing', async (phase) => {
    const name = `promote-${phase.toLowerCase()}`;
    const { object } = await makePlan(name, { status: { phase, canaryWeight: phase === 'Succeeded' ? 100 : 0 } });
    const res = await post(url(name, 'promote'), STEER);
    expect(res.status).toBe(409);
    expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'NotPromotable' });
    expect(res.body.error).toContain(phase);
    expect(resourceVersionOf(await stored(name))).toBe(resourceVersionOf(object));
  });
});

describe('retry', () => {
  it('writes the retry annotation on a rolled-back plan; again while pending: no write', async () => {
    await makePlan('retry', { status: rolledBack('errors') });
    const res = await post(url('retry', 'retry'), STEER);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: true, plan: { pendingRequests: { retry: 'retried at 2026-11-27T10:00:00.000Z' } } });
    const after = await stored('retry');
    expect(annotation(after, 'retry')).toBe('retried at 2026-11-27T10:00:00.000Z');
    await controller.sees({ namespace: cluster.namespace, name: 'retry' }, resourceVersionOf(after));
    expect((await post(url('retry', 'retry'), STEER)).body.changed).toBe(false);
    expect(resourceVersionOf(await stored('retry'))).toBe(resourceVersionOf(after));
  });

  it('writes it for a Failed plan too', async () => {
    await makePlan('retry-failed', { status: { phase: 'Failed', canaryWeight: 30 } });
    expect((await post(url('retry-failed', 'retry'), STEER)).body.changed).toBe(true);
  });

  it.each([['Pending'], ['Progressing'], ['WaitingForPromotion'], ['Paused']] as const)('answers 200 with no write for a plan that is already running (%s)', async (phase) => {
    const name = `retry-${phase.toLowerCase()}`;
    const { object } = await makePlan(name, { status: { phase, canaryWeight: 30 } });
    const res = await post(url(name, 'retry'), STEER);
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(false);
    expect(resourceVersionOf(await stored(name))).toBe(resourceVersionOf(object));
  });

  it.each([['RollingBack'], ['Succeeded']] as const)('answers 409 NotRetryable for a plan that is %s', async (phase) => {
    const name = `retry-no-${phase.toLowerCase()}`;
    await makePlan(name, { status: { phase, canaryWeight: 30 } });
    const res = await post(url(name, 'retry'), STEER);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: 'NotRetryable' });
  });
});

describe('rollback', () => {
  it('without ?wait: writes the request (noting its time first, then waking the controller urgently) and answers 202 with the view', async () => {
    await makePlan('rb', { status: waiting(), weight: 30 });
    const res = await post(url('rb', 'rollback'), STEER, { reason: 'error budget burning' });
    expect(res.status).toBe(202);
    const body = RollbackResult.parse(res.body);
    expect(body).toMatchObject({ changed: true, rollback: { reason: 'error budget burning', done: false, written: true }, plan: { pendingRequests: { rollback: 'error budget burning' } } });
    expect(body.plan.targets.map((t) => t.weight)).toEqual([30]);
    expect(annotation(await stored('rb'), 'rollback')).toBe('error budget burning');
    expect(controller.noted).toContainEqual({ name: 'rb', kind: 'rollback', value: 'error budget burning', at: T0 });
    expect(controller.enqueued).toContainEqual({ name: 'rb', urgent: true });
  });

  it('the same rollback asked again while it is pending is not written twice', async () => {
    const before = await stored('rb');
    await controller.sees({ namespace: cluster.namespace, name: 'rb' }, resourceVersionOf(before));
    const res = await post(url('rb', 'rollback'), STEER, { reason: 'error budget burning' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ changed: false, rollback: { written: false } });
    expect(resourceVersionOf(await stored('rb'))).toBe(resourceVersionOf(before));
  });

  it('?wait=1s with no controller to act: 504 in the error shape, naming the target that still carries traffic', async () => {
    const { target } = await makePlan('stuck', { status: waiting(), weight: 30 });
    const started = Date.now();
    const res = await post(`${url('stuck', 'rollback')}?wait=1s`, STEER, { reason: 'stuck' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(res.status).toBe(504);
    const body = TimeoutBody.parse(res.body);
    expect(body.reason).toBe('Timeout');
    expect(body.targets).toEqual([{ target: `nginx Ingress ${cluster.namespace}/${target.nginx?.canaryIngress}`, provider: 'nginx', weight: 30 }]);
    expect(body.error).toContain(`${target.nginx?.canaryIngress}`);
    expect(await liveWeight(cluster, target)).toBe(30);
  });

  it('a plan already rolled back with every target at 0: 200, nothing written', async () => {
    const { object } = await makePlan('rb-done', { status: rolledBack('earlier'), weight: 0 });
    for (const query of ['', '?wait=5s']) {
      const res = await post(`${url('rb-done', 'rollback')}${query}`, STEER, { reason: 'again' });
      expect(res.status).toBe(200);
      expect(RollbackResult.parse(res.body)).toMatchObject({ changed: false, rollback: { reason: 'earlier', done: true, written: false, recoverySeconds: 0.4 }, plan: { phase: 'RolledBack' } });
    }
    expect(resourceVersionOf(await stored('rb-done'))).toBe(resourceVersionOf(object));
  });

  it('answers 409 NotRollbackable for a Succeeded plan', async () => {
    await makePlan('rb-succeeded', { status: { phase: 'Succeeded', canaryWeight: 100 } });
    const res = await post(url('rb-succeeded', 'rollback'), STEER, { reason: 'too late' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: 'NotRollbackable' });
    expect(annotation(await stored('rb-succeeded'), 'rollback')).toBeUndefined();
  });

  it('answers 404 for a plan that does not exist', async () => {
    const res = await post(url('ghost', 'rollback'), STEER, { reason: 'x' });
    expect(res.status).toBe(404);
    expect(res.body).toStrictEqual({ error: `migrationplan ${cluster.namespace}/ghost not found`, reason: 'NotFound' });
  });

  it.each([
    ['no body', undefined, 'reason'],
    ['no reason', {}, 'reason'],
    ['an empty reason', { reason: '' }, 'reason'],
    ['a blank reason', { reason: '   ' }, 'reason'],
    ['a reason that is not a string', { reason: 42 }, 'reason'],
    ['a reason over the bound', { reason: 'x'.repeat(MESSAGE_LIMIT + 1) }, 'reason'],
    ['an unknown field', { reason: 'x', force: true }, 'force'],
    ['a body that is not an object', ['x'], '(body)'],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    await controller.sees({ namespace: cluster.namespace, name: 'rb' });
    const res = await post(url('rb', 'rollback'), STEER, body);
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'BadRequest', field });
  });

  it.each([['abc'], ['-1s'], ['10m'], ['30']])('?wait=%s is a 400 naming the field', async (wait) => {
    const res = await post(`${url('rb', 'rollback')}?wait=${encodeURIComponent(wait)}`, STEER, { reason: 'x' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ reason: 'BadRequest', field: 'wait' });
  });

  it('a body over 1 MiB is a 413 in the error shape', async () => {
    const res = await post(url('rb', 'rollback'), STEER, { reason: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'RequestEntityTooLarge' });
  });

  it('a body that is not JSON is a 415 in the error shape, also on a route that takes no body', async () => {
    for (const path of [url('rb', 'rollback'), url('rb', 'pause')]) {
      const res = await request(app).post(path).set('authorization', `Bearer ${STEER}`).set('content-type', 'text/plain').send('reason=x');
      expect(res.status).toBe(415);
      expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'UnsupportedMediaType' });
    }
    const form = await request(app).post(url('rb', 'rollback')).set('authorization', `Bearer ${STEER}`).type('form').send({ reason: 'x' });
    expect(form.status).toBe(415);
  });

  it('malformed JSON is a 400 in the error shape', async () => {
    const res = await request(app).post(url('rb', 'rollback')).set('authorization', `Bearer ${STEER}`).set('content-type', 'application/json').send('{"reason": ');
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(res.body)).toMatchObject({ reason: 'BadRequest' });
  });
});

describe('a controller watching one namespace', () => {
  it('answers 404 for a plan in another namespace, once the caller may ask there', async () => {
    await cluster.kube.create({ ...planRef(cluster), namespace: 'default' }, planObject('elsewhere', { targets: [targetFixture('nginx', 'elsewhere').target], steps: [{ weight: 100 }] }));
    // alice has no grant in default: 403 before anything else.
    expect((await post(url('elsewhere', 'pause', 'default'), STEER)).status).toBe(403);
    for (const action of [undefined, 'pause', 'promote', 'retry']) {
      const res = action ? await post(url('elsewhere', action, 'default'), ADMIN) : await get(url('elsewhere', undefined, 'default'), ADMIN);
      expect(res.status).toBe(404);
      expect(res.body).toStrictEqual({ error: `migrationplan default/elsewhere not found: this controller watches namespace "${cluster.namespace}" only`, reason: 'NotFound' });
    }
    expect((await post(url('elsewhere', 'rollback', 'default'), ADMIN, { reason: 'x' })).status).toBe(404);
    const list = await get('/api/v1/plans?namespace=default', ADMIN);
    expect(list.status).toBe(200);
    expect(list.body).toStrictEqual({ items: [] });
    expect(annotation(await cluster.kube.get({ ...planRef(cluster, 'elsewhere'), namespace: 'default' }), 'rollback')).toBeUndefined();
  });
});

describe('--auth=none', () => {
  it('serves every route without a token and logs a warning for each request', async () => {
    const levels: string[] = [];
    const sink = new Writable({
      objectMode: true,
      write(info: { level: string }, _encoding, done) {
        levels.push(info.level);
        done();
      },
    });
    const log = winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] });
    await makePlan('open', { status: waiting(), weight: 30 });
    const open = createApp(
      { controller, kube: routeKube, auth: noAuth(log), namespace: cluster.namespace, registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry, ready: () => true, log },
      [planRoutes],
    );
    expect((await request(open).get('/api/v1/plans')).status).toBe(200);
    expect((await request(open).get(url('open'))).status).toBe(200);
    expect((await request(open).post(url('open', 'pause'))).status).toBe(200);
    expect(((await stored('open'))['spec'] as { paused?: boolean }).paused).toBe(true);
    expect(levels).toEqual(['warn', 'warn', 'warn']);
  });
});
