// What the dashboard reads from the controller: its pages and static files (with a CSP that lets
// them load nothing from elsewhere), /api/v1/info, the plan event stream fed by the plan cache,
// and each plan's timeline. Real HTTP against the app, a real in-process API server answering the
// TokenReviews and SubjectAccessReviews, and a real plan cache (an Informer, as the controller's).
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { createApp, type AppDeps } from '../../src/api/app';
import { kubernetesAuth, noAuth } from '../../src/api/auth';
import { CheckHistory, recordingCheckMetrics } from '../../src/api/checkHistory';
import { DASHBOARD_HEADERS } from '../../src/api/dashboard';
import { dashboardApiRoutes } from '../../src/api/dashboardApi';
import { ErrorBody } from '../../src/api/errors';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { followPlans, PlanDiff } from '../../src/api/planChanges';
import { planRoutes } from '../../src/api/plans';
import { Info, PlanViewSchema, Timeline } from '../../src/api/schemas';
import { NO_HISTORY_NOTE } from '../../src/api/timeline';
import { controllerKube } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import type { Kube, KubeObject } from '../../src/kube';
import type { MigrationPlanStatus } from '../../src/plan/schema';
import { planRef } from '../support/plans';
import { createObjects, planObject, targetFixture } from '../support/targets';
import { CacheOnlyController, resourceVersionOf, setStatus, startApiCluster, type ApiCluster } from './support';

const READ = 'read-token';
const GET_ONLY = 'get-only-token';
const NOBODY = 'nobody-token';

let cluster: ApiCluster;
let controller: CacheOnlyController;
let routeKube: Kube;
let assets: string;
let history: CheckHistory;
let app: Express;
let server: http.Server;
let base: string;

function deps(overrides: Partial<AppDeps> = {}): AppDeps {
  return {
    controller,
    kube: routeKube,
    auth: kubernetesAuth(routeKube, { log: silentLogger() }),
    namespace: cluster.namespace,
    registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
    ready: () => true,
    log: silentLogger(),
    version: '0.1.0',
    checkHistory: history,
    dashboardAssets: assets,
    stream: { pingMs: 200 },
    ...overrides,
  };
}

beforeAll(async () => {
  cluster = await startApiCluster('dash', (namespace) => ({
    tokens: { [READ]: { username: 'victor', groups: ['viewers'] }, [GET_ONLY]: { username: 'gina', groups: ['getters'] }, [NOBODY]: { username: 'bob' } },
    rules: [
      { groups: ['viewers'], verbs: ['get', 'list'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], namespaces: [namespace] },
      { groups: ['getters'], verbs: ['get'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], namespaces: [namespace] },
    ],
  }));
  controller = new CacheOnlyController(cluster.kube, cluster.namespace);
  await controller.start();
  routeKube = controllerKube(cluster.kubeConfig);
  assets = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-dashboard-assets-'));
  fs.writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>trafficshift</title><script type="module" src="/assets/app.js"></script>');
  fs.writeFileSync(path.join(assets, 'app.js'), 'export {};\n');
  fs.mkdirSync(path.join(assets, 'views'));
  fs.writeFileSync(path.join(assets, 'views', 'plan.js'), 'export const plan = 1;\n');
  fs.writeFileSync(path.join(assets, 'dashboard.css'), 'body { margin: 0 }\n');
  fs.writeFileSync(path.join(assets, '.secret'), 'hidden\n');
  history = new CheckHistory();
  app = createApp(deps(), [planRoutes, dashboardApiRoutes]);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await controller?.stop();
  routeKube?.close();
  await cluster?.close();
  if (assets) fs.rmSync(assets, { recursive: true, force: true });
});

async function makePlan(name: string, status?: MigrationPlanStatus, spec: Record<string, unknown> = {}): Promise<KubeObject> {
  const { target, objects } = targetFixture('nginx', `${name}-web`);
  await createObjects(cluster, objects);
  let object = await cluster.kube.create(planRef(cluster), planObject(name, { targets: [target], steps: [{ weight: 30, pause: {} }, { weight: 100 }], ...spec }));
  if (status) object = await setStatus(cluster, name, status);
  await controller.sees({ namespace: cluster.namespace, name }, resourceVersionOf(object));
  return object;
}

function expectDashboardHeaders(res: request.Response): void {
  for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) expect([name, res.headers[name.toLowerCase()]]).toEqual([name, value]);
}

describe('the pages and their files', () => {
  it('serves index.html at / and at a plan\'s address, with the CSP and no token', async () => {
    for (const page of ['/', `/plans/${cluster.namespace}/checkout`]) {
      const res = await request(app).get(page);
      expect([page, res.status]).toEqual([page, 200]);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<title>trafficshift</title>');
      expectDashboardHeaders(res);
    }
    expect(DASHBOARD_HEADERS['Content-Security-Policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('serves the built scripts and styles as what they are, nested ones too', async () => {
    const cases: Array<[string, string, string]> = [
      ['/assets/app.js', 'text/javascript; charset=utf-8', 'export {};\n'],
      ['/assets/views/plan.js', 'text/javascript; charset=utf-8', 'export const plan = 1;\n'],
      ['/assets/dashboard.css', 'text/css; charset=utf-8', 'body { margin: 0 }\n'],
    ];
    for (const [file, type, body] of cases) {
      const res = await request(app).get(file);
      expect([file, res.status, res.headers['content-type'], res.text]).toEqual([file, 200, type, body]);
      expectDashboardHeaders(res);
    }
  });

  it('answers 404 for files it does not have, hidden files and every way out of the assets directory', async () => {
    const outside = path.join(path.dirname(assets), `${path.basename(assets)}-outside.txt`);
    fs.writeFileSync(outside, 'outside\n');
    try {
      const probes = [
        '/assets/missing.js',
        '/assets/.secret',
        '/assets/',
        '/assets',
        '/assets/views',
        '/assets/../package.json',
        `/assets/../${path.basename(outside)}`,
        `/assets/..%2f${path.basename(outside)}`,
        `/assets/%2e%2e/${path.basename(outside)}`,
        '/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
        '/assets/views/..%2f..%2fapp.js',
        '/assets/%00app.js',
      ];
      for (const probe of probes) {
        const res = await rawGet(probe);
        expect([probe, res.status]).toEqual([probe, 404]);
        expect(res.body).not.toContain('outside');
        expect(res.body).not.toContain('root:');
        if (probe.startsWith('/assets/')) expect([probe, res.headers['content-security-policy']]).toEqual([probe, DASHBOARD_HEADERS['Content-Security-Policy']]);
      }
    } finally {
      fs.rmSync(outside, { force: true });
    }
  });

  it('says the dashboard is not built when index.html is missing', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-dashboard-empty-'));
    try {
      const res = await request(createApp(deps({ dashboardAssets: empty }), [])).get('/');
      expect(res.status).toBe(404);
      expect(res.text).toContain('the dashboard is not in this build');
      expectDashboardHeaders(res);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('leaves the API and the probes without the dashboard\'s headers', async () => {
    const res = await request(app).get('/healthz');
    expect(res.headers['content-security-policy']).toBeUndefined();
  });
});

function rawGet(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    // `path` goes out as written: a URL would have its `..` resolved before it is sent.
    const { hostname, port } = new URL(base);
    const req = http.get({ hostname, port, path: pathname, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('GET /api/v1/info', () => {
  it('answers the version and the auth mode without a token', async () => {
    const res = await request(app).get('/api/v1/info');
    expect(res.status).toBe(200);
    expect(Info.parse(res.body)).toEqual({ version: '0.1.0', authMode: 'kubernetes' });
    const none = await request(createApp(deps({ auth: noAuth() }), [])).get('/api/v1/info');
    expect(none.body).toEqual({ version: '0.1.0', authMode: 'none' });
  });
});

interface SseEvent {
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** A reader of an event stream over a real connection, as the browser's fetch reader is. */
class EventStream {
  readonly events: SseEvent[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  private buffer = '';
  private req: http.ClientRequest | undefined;
  private waiters: Array<() => void> = [];

  open(pathname: string, token?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = http.get(`${base}${pathname}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.take(chunk));
        res.on('end', () => {
          this.ended = true;
          this.wake();
        });
        resolve();
      });
      this.req.on('error', (error) => (this.ended ? undefined : reject(error)));
    });
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.comment = line.slice(1).trim();
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) event.data = line.slice(6);
        else if (line.startsWith('retry: ')) event.retry = line.slice(7);
      }
      this.events.push(event);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The first event from index `from` on that `test` accepts. */
  async next(test: (e: SseEvent) => boolean, from = 0, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(test);
      if (found) return found;
      if (this.ended || Date.now() > deadline) throw new Error(`no such event; got ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.ended = true;
    this.req?.destroy();
  }
}

describe('GET /api/v1/stream', () => {
  it('refuses a missing token with 401 and a caller who may not list with 403, as JSON, before any event', async () => {
    const missing = await rawGet('/api/v1/stream');
    expect(missing.status).toBe(401);
    expect(missing.headers['content-type']).toContain('application/json');
    expect(ErrorBody.parse(JSON.parse(missing.body)).reason).toBe('Unauthorized');
    for (const token of [NOBODY, GET_ONLY]) {
      const res = await rawGet('/api/v1/stream', { authorization: `Bearer ${token}` });
      expect([token, res.status]).toEqual([token, 403]);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'Forbidden', error: expect.stringContaining(`list migrationplans.trafficshift.io in the namespace "${cluster.namespace}"`) });
    }
    const elsewhere = await rawGet('/api/v1/stream?namespace=kube-system', { authorization: `Bearer ${READ}` });
    expect(elsewhere.status).toBe(403);
    const bad = await rawGet('/api/v1/stream?namespace=Not_A_Namespace', { authorization: `Bearer ${READ}` });
    expect(bad.status).toBe(400);
  });

  it('answers 503 until the plan cache has synced', async () => {
    const res = await request(createApp(deps({ ready: () => false }), [dashboardApiRoutes])).get('/api/v1/stream').set('authorization', `Bearer ${READ}`);
    expect(res.status).toBe(503);
  });

  it('sends a snapshot, then each change and deletion as the cache sees it, and pings', async () => {
    await makePlan('stream-a', { phase: 'Progressing', currentStep: 0, canaryWeight: 30 });
    const stream = new EventStream();
    await stream.open(`/api/v1/stream?namespace=${cluster.namespace}`, READ);
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
      expect(stream.headers['content-encoding']).toBeUndefined();
      const first = await stream.next(() => true);
      expect(first.retry).toBe('2000');
      const snapshot = await stream.next((e) => e.event === 'snapshot');
      const plans = (JSON.parse(snapshot.data as string) as { plans: unknown[] }).plans.map((p) => PlanViewSchema.parse(p));
      const a = plans.find((p) => p.name === 'stream-a');
      // The status's weights, as GET /plans has them.
      expect(a).toMatchObject({ namespace: cluster.namespace, phase: 'Progressing', canaryWeight: 30, targets: [expect.objectContaining({ weight: 30 })] });

      const seen = stream.events.length;
      await makePlan('stream-b');
      const added = await stream.next((e) => e.event === 'plan' && (JSON.parse(e.data as string) as { name: string }).name === 'stream-b', seen);
      expect(PlanViewSchema.parse(JSON.parse(added.data as string)).phase).toBe('Pending');

      const beforeUpdate = stream.events.length;
      await setStatus(cluster, 'stream-a', { phase: 'RolledBack', canaryWeight: 0, rollback: { reason: 'bad', triggeredAt: '2026-12-01T10:00:00Z' } });
      const changed = await stream.next((e) => e.event === 'plan' && (JSON.parse(e.data as string) as { name: string; phase: string }).phase === 'RolledBack', beforeUpdate);
      expect(PlanViewSchema.parse(JSON.parse(changed.data as string))).toMatchObject({ name: 'stream-a', canaryWeight: 0 });

      const beforeDelete = stream.events.length;
      await cluster.kube.delete(planRef(cluster, 'stream-b'));
      const deleted = await stream.next((e) => e.event === 'deleted', beforeDelete);
      expect(JSON.parse(deleted.data as string)).toEqual({ namespace: cluster.namespace, name: 'stream-b' });

      await stream.next((e) => e.comment === 'ping', beforeDelete);
      // Nothing but these: no event for a plan that did not change.
      expect(stream.events.filter((e) => e.event === 'plan' && (JSON.parse(e.data as string) as { name: string }).name === 'stream-a')).toHaveLength(1);
    } finally {
      stream.close();
    }
  });

  it('ends when the process stops, and after its lifetime (the client reconnects and is checked again)', async () => {
    const stopping = new AbortController();
    const local = http.createServer(createApp(deps({ stopping: stopping.signal, stream: { pingMs: 60_000, lifetimeMs: 60_000 } }), [dashboardApiRoutes]));
    const short = http.createServer(createApp(deps({ stream: { pingMs: 60_000, lifetimeMs: 300 } }), [dashboardApiRoutes]));
    await Promise.all([local, short].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
    const saved = base;
    try {
      for (const [srv, end] of [[local, () => stopping.abort()], [short, () => undefined]] as const) {
        base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
        const stream = new EventStream();
        await stream.open('/api/v1/stream', READ);
        await stream.next((e) => e.event === 'snapshot');
        end();
        const deadline = Date.now() + 5000;
        while (!stream.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(stream.ended).toBe(true);
      }
    } finally {
      base = saved;
      for (const s of [local, short]) {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
    }
  });
});

describe('GET …/timeline', () => {
  const timeline = (name: string, token?: string): request.Test => {
    const r = request(app).get(`/api/v1/namespaces/${cluster.namespace}/plans/${name}/timeline`);
    return token ? r.set('authorization', `Bearer ${token}`) : r;
  };

  const analysis = {
    interval: '10s',
    prometheus: { address: 'http://prometheus.monitoring:9090' },
    checks: [
      { name: 'error-rate', query: 'sum(rate(errors[1m]))', max: 0.01 },
      { name: 'latency', query: 'p99', min: 0, max: 250 },
    ],
  };
  const events = [
    { at: '2026-12-01T10:00:00Z', event: 'Started', weight: 10, message: 'step 1 of 2' },
    { at: '2026-12-01T10:01:00Z', event: 'StepAdvanced', weight: 30, message: 'step 2 of 2' },
    { at: '2026-12-01T10:02:00Z', event: 'RollingBack', weight: 30, message: 'error-rate above 0.01' },
    { at: '2026-12-01T10:02:01Z', event: 'RolledBack', weight: 0, message: 'every target at 0' },
  ];

  it('refuses without a token (401) and without get on the plan (403), the same whether or not it exists', async () => {
    expect((await timeline('nope')).status).toBe(401);
    for (const name of ['nope', 'stream-a']) {
      const res = await timeline(name, NOBODY);
      expect([name, res.status, res.body.reason]).toEqual([name, 403, 'Forbidden']);
    }
    const missing = await timeline('nope', READ);
    expect(missing.status).toBe(404);
  });

  it('draws the weight from status.history, each check from this replica\'s recent values, and the rollback against the RTO', async () => {
    await makePlan(
      'timeline-a',
      {
        phase: 'RolledBack',
        canaryWeight: 0,
        history: events,
        checks: [{ name: 'error-rate', value: 0.05, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: '2026-12-01T10:02:00Z' }],
        rollback: { reason: 'error-rate above 0.01', triggeredAt: '2026-12-01T10:02:00Z', completedAt: '2026-12-01T10:02:01Z', recoverySeconds: 0.8 },
      },
      { analysis, rollback: { rto: '30s' } },
    );
    const plan = { namespace: cluster.namespace, name: 'timeline-a' };
    const observed: string[] = [];
    const metrics = recordingCheckMetrics({ observe: (_plan, check) => observed.push(check) }, history);
    metrics.observe(plan, 'error-rate', 0.001, 'Pass', 0.1);
    metrics.observe(plan, 'error-rate', 0.05, 'Fail', 0.1);
    metrics.observe(plan, 'latency', null, 'NoData', 0.1);
    expect(observed).toEqual(['error-rate', 'error-rate', 'latency']);

    const res = await timeline('timeline-a', GET_ONLY);
    expect(res.status).toBe(200);
    const body = Timeline.parse(res.body);
    expect(body.plan).toMatchObject({ name: 'timeline-a', phase: 'RolledBack', targets: [expect.objectContaining({ weight: 0 })] });
    expect(body.weights).toEqual(events);
    expect(body.checks).toEqual([
      { name: 'error-rate', threshold: { max: 0.01 }, points: [expect.objectContaining({ value: 0.001, result: 'Pass' }), expect.objectContaining({ value: 0.05, result: 'Fail' })] },
      { name: 'latency', threshold: { min: 0, max: 250 }, points: [expect.objectContaining({ value: null, result: 'NoData' })] },
    ]);
    for (const check of body.checks) for (const point of check.points) expect(Number.isNaN(Date.parse(point.at))).toBe(false);
    expect(body.rollback).toEqual({ triggeredAt: '2026-12-01T10:02:00Z', completedAt: '2026-12-01T10:02:01Z', recoverySeconds: 0.8, rtoSeconds: 30 });
    expect(body.note).toBeUndefined();
    expect(body.specYaml).toContain('rto: 30s');
    expect(body.specYaml).toContain('name: error-rate');
  });

  it('falls back to the status\'s latest value, and says so, on a replica with no history for the plan', async () => {
    await makePlan(
      'timeline-b',
      {
        phase: 'Progressing',
        currentStep: 0,
        canaryWeight: 30,
        history: events.slice(0, 2),
        checks: [{ name: 'latency', value: 120, threshold: '0 <= value <= 250', result: 'Pass', consecutiveFailures: 0, at: '2026-12-01T10:01:30Z' }],
      },
      { analysis },
    );
    const body = Timeline.parse((await timeline('timeline-b', READ)).body);
    expect(body.checks).toEqual([
      { name: 'error-rate', threshold: { max: 0.01 }, points: [] },
      { name: 'latency', threshold: { min: 0, max: 250 }, points: [{ at: '2026-12-01T10:01:30Z', value: 120, result: 'Pass' }] },
    ]);
    expect(body.note).toBe(NO_HISTORY_NOTE);
    expect(body.rollback).toBeUndefined();
  });
});

describe('the check history', () => {
  it('keeps the last points of each check, oldest first', () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const h = new CheckHistory({ capacity: 3, now: () => (now += 1000) });
    const plan = { namespace: 'ns', name: 'p' };
    for (let i = 1; i <= 5; i++) h.record(plan, 'c', i, 'Pass');
    expect(h.points(plan, 'c').map((p) => p.value)).toEqual([3, 4, 5]);
    expect(h.points(plan, 'c')[2]?.at).toBe('2026-12-01T00:00:05.000Z');
    expect(h.points(plan, 'other')).toEqual([]);
    h.forget(plan);
    expect(h.points(plan, 'c')).toEqual([]);
  });

  it('is forgotten when its plan is deleted, followed through the plan cache (as compose.ts wires it)', async () => {
    await makePlan('forgotten');
    const h = new CheckHistory();
    const plan = { namespace: cluster.namespace, name: 'forgotten' };
    const stop = new AbortController();
    const diff = new PlanDiff();
    diff.update(controller.cachedPlans());
    const following = followPlans(controller, diff, (changes) => {
      for (const change of changes) if (change.kind === 'deleted') h.forget(change.plan);
    }, stop.signal);
    try {
      h.record(plan, 'error-rate', 0.1, 'Pass');
      await cluster.kube.delete(planRef(cluster, 'forgotten'));
      const deadline = Date.now() + 5000;
      while (h.points(plan, 'error-rate').length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(h.planKeys()).not.toContain(`${cluster.namespace}/forgotten`);
    } finally {
      stop.abort();
      await following;
    }
  });

  it('reports a plan deleted and created again under the same name as both', () => {
    const diff = new PlanDiff();
    const obj = (uid: string, rv: string) => ({ metadata: { namespace: 'ns', name: 'p', uid, resourceVersion: rv } });
    expect(diff.update([obj('u1', '1')]).map((c) => c.kind)).toEqual(['changed']);
    expect(diff.update([obj('u1', '1')])).toEqual([]);
    expect(diff.update([obj('u2', '5')]).map((c) => c.kind)).toEqual(['deleted', 'changed']);
    expect(diff.update([]).map((c) => c.kind)).toEqual(['deleted']);
  });

  it('looks only at the plans named as changed, and reports the deleted, changed and recreated among them', () => {
    const diff = new PlanDiff();
    const obj = (name: string, uid: string, rv: string) => ({ metadata: { namespace: 'ns', name, uid, resourceVersion: rv } });
    const cache = new Map([['ns/a', obj('a', 'ua', '1')], ['ns/b', obj('b', 'ub', '2')]]);
    diff.update([...cache.values()]);
    const looked: string[] = [];
    const lookup = (key: string) => {
      looked.push(key);
      return cache.get(key);
    };
    cache.set('ns/a', obj('a', 'ua', '3'));
    cache.set('ns/b', obj('b', 'ub2', '4'));
    expect(diff.updateKeys(['ns/a'], lookup)).toEqual([{ kind: 'changed', plan: { namespace: 'ns', name: 'a' }, object: obj('a', 'ua', '3') }]);
    expect(looked).toEqual(['ns/a']);
    expect(diff.updateKeys(['ns/b'], lookup).map((c) => c.kind)).toEqual(['deleted', 'changed']);
    cache.delete('ns/a');
    expect(diff.updateKeys(['ns/a', 'ns/never'], lookup)).toEqual([{ kind: 'deleted', plan: { namespace: 'ns', name: 'a' } }]);
    expect(diff.updateKeys(['ns/a'], lookup)).toEqual([]);
  });
});
