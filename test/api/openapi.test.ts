// GET /api/v1/openapi.json: generated from the routes' own declarations and zod schemas. The
// walk below reads the routes express really serves in the controller process (compose.ts's
// API_ROUTES on createApp), so a route added without a description fails here.
import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { createApp } from '../../src/api/app';
import { kubernetesAuth } from '../../src/api/auth';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { DASHBOARD_PATHS } from '../../src/api/dashboard';
import { openApiPath } from '../../src/api/openapi';
import { RollbackBody } from '../../src/api/schemas';
import { API_ROUTES } from '../../src/compose';
import { silentLogger } from '../../src/controller/logger';
import { idleKube } from '../support/idleKube';


function processApp(): Express {
  const kube = idleKube();
  return createApp(
    {
      controller: { enqueue: () => undefined, noteRequest: () => undefined, isLeader: true, cachedPlans: () => [], cachedPlan: () => undefined, onPlanChange: () => () => undefined, planFeed: () => ({ current: () => undefined, nextChange: () => Promise.resolve() }) },
      kube,
      auth: kubernetesAuth(kube, { log: silentLogger() }),
      registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
      ready: () => true,
      log: silentLogger(),
      version: '1.2.3',
    },
    API_ROUTES,
  );
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Every (method, path) express routes, nested routers included, from the router's layers. */
function servedRoutes(app: Express): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push({ method, path: `${prefix}${layer.route.path}` });
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

type Doc = { openapi: string; info: { version: string }; paths: Record<string, Record<string, Record<string, any>>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }; security: unknown[] };

let app: Express;
let doc: Doc;

beforeAll(async () => {
  app = processApp();
  const res = await request(app).get('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as Doc;
});

it('is served without a token, as OpenAPI 3.1 with the process version and bearer security', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.info.version).toBe('1.2.3');
  expect(doc.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
  expect(doc.security).toEqual([{ bearerAuth: [] }]);
});

it('describes every route express serves, and nothing it does not', () => {
  const served = servedRoutes(app);
  // The walk itself must have found the steering routes, or it proves nothing.
  expect(served).toEqual(expect.arrayContaining([{ method: 'post', path: '/api/v1/namespaces/:namespace/plans/:name/rollback' }, { method: 'get', path: '/healthz' }]));
  // The dashboard's pages and static files are not API: outside /api/v1 and the document.
  expect(served).toEqual(expect.arrayContaining(DASHBOARD_PATHS.map((path) => ({ method: 'get', path }))));
  const api = served.filter((r) => !(DASHBOARD_PATHS as readonly string[]).includes(r.path));
  const missing = api.filter((r) => doc.paths[openApiPath(r.path)]?.[r.method] === undefined);
  expect(missing).toEqual([]);
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
  expect(documented.sort()).toEqual(api.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
});

it('lists the routes of SPEC.md "Steering it", and what the dashboard reads', () => {
  const plan = '/api/v1/namespaces/{namespace}/plans/{name}';
  expect(Object.keys(doc.paths).sort()).toEqual(
    [
      '/api/v1/plans',
      plan,
      `${plan}/pause`,
      `${plan}/resume`,
      `${plan}/promote`,
      `${plan}/rollback`,
      `${plan}/retry`,
      `${plan}/timeline`,
      '/api/v1/stream',
      '/api/v1/info',
      '/api/v1/alerts',
      '/api/v1/openapi.json',
      '/healthz',
      '/readyz',
      '/metrics',
    ].sort(),
  );
});

it('says the stream is an event stream, and what /info and the timeline answer', () => {
  const stream = doc.paths['/api/v1/stream']?.['get'] as Record<string, any>;
  expect(stream['responses']['200'].content).toEqual({ 'text/event-stream': { schema: { type: 'string' } } });
  expect(stream['parameters'].map((p: { name: string }) => p.name)).toEqual(['namespace']);
  expect(stream['responses']['403']).toEqual(expect.anything());
  const info = doc.paths['/api/v1/info']?.['get'] as Record<string, any>;
  expect(info['security']).toEqual([]);
  expect(info['responses']['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Info' });
  const timeline = doc.paths['/api/v1/namespaces/{namespace}/plans/{name}/timeline']?.['get'] as Record<string, any>;
  expect(timeline['responses']['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Timeline' });
});

it('gives every route under /api/v1 its parameters, the error answers in the one shape, and security but the document itself', () => {
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(ops)) {
      const where = `${method} ${path}`;
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect([where, op['parameters'].filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name)]).toEqual([where, pathParams]);
      if (path === '/api/v1/openapi.json' || path === '/api/v1/info') {
        expect(op['security']).toEqual([]);
        continue;
      }
      expect(op['security']).toBeUndefined();
      for (const status of ['401', '500', '503']) expect([where, status, op['responses'][status]?.content?.['application/json']?.schema]).toEqual([where, status, { $ref: '#/components/schemas/Error' }]);
      if (path.includes('{name}') || path === '/api/v1/plans') expect([where, op['responses']['403']]).toEqual([where, expect.anything()]);
      if (method === 'post') for (const status of ['400', '413', '415']) expect([where, status, op['responses'][status]]).toEqual([where, status, expect.anything()]);
    }
  }
});

it('says what each steering route answers', () => {
  const rollback = doc.paths['/api/v1/namespaces/{namespace}/plans/{name}/rollback']?.['post'] as Record<string, any>;
  expect(Object.keys(rollback['responses']).sort()).toEqual(['200', '202', '400', '401', '403', '404', '409', '413', '415', '500', '503', '504']);
  expect(rollback['responses']['504'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/TimeoutError' });
  expect(rollback['parameters']).toContainEqual(expect.objectContaining({ name: 'wait', in: 'query', required: false }));
  const list = doc.paths['/api/v1/plans']?.['get'] as Record<string, any>;
  expect(list['parameters'].map((p: { name: string }) => p.name)).toEqual(['namespace', 'labelSelector']);
  expect(list['responses']['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PlanList' });
});

it('takes the request body schema from the zod schema the route parses with', () => {
  const rollback = doc.paths['/api/v1/namespaces/{namespace}/plans/{name}/rollback']?.['post'] as Record<string, any>;
  const { $schema: _s, ...fromZod } = z.toJSONSchema(RollbackBody, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  expect(rollback['requestBody']).toEqual({ required: true, content: { 'application/json': { schema: fromZod } } });
  expect(fromZod).toMatchObject({ type: 'object', required: ['reason'], additionalProperties: false });
});

it('resolves every $ref to a schema it carries', () => {
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
  expect(refs.length).toBeGreaterThan(10);
  for (const ref of new Set(refs)) expect([ref, doc.components.schemas[ref]]).toEqual([ref, expect.any(Object)]);
});
