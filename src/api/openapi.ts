// GET /api/v1/openapi.json: an OpenAPI 3.1 document of every route the process serves, generated
// from the zod schemas the routes parse with (src/api/schemas.ts, through z.toJSONSchema) and the
// route declarations they are mounted from (src/api/routes.ts).
import { z } from 'zod';
import type { AuthMode } from './auth';
import { ErrorBody } from './errors';
import type { RouteSpec } from './routes';
import { Info, NAMED_SCHEMAS } from './schemas';

/** Relative to /api/v1. */
export const OPENAPI_PATH = '/openapi.json';
export const INFO_PATH = '/info';
export const API_PREFIX = '/api/v1';

export interface DocumentInfo {
  version: string;
  authMode: AuthMode;
}

type Json = Record<string, unknown>;

/** The routes createApp serves itself, outside any RouteFactory. */
export const BUILTIN_ROUTES: readonly RouteSpec[] = [
  { method: 'get', path: OPENAPI_PATH, operationId: 'getOpenApi', summary: 'This document', tags: ['meta'], public: true, responses: { 200: { description: 'The OpenAPI 3.1 document.' } } },
  {
    method: 'get',
    path: INFO_PATH,
    operationId: 'getInfo',
    summary: 'The controller\'s version and how it authenticates callers',
    description: 'Served without a token: the dashboard reads it before it has one (to show the --auth=none banner).',
    tags: ['meta'],
    public: true,
    responses: { 200: { description: 'The version and auth mode.', schema: Info } },
  },
];

/** Outside /api/v1: their paths are absolute. */
export const PROBE_PATHS: ReadonlyArray<{ path: string; operationId: string; summary: string; responses: Record<number, string> }> = [
  { path: '/healthz', operationId: 'healthz', summary: 'Liveness: the process answers', responses: { 200: '`ok`' } },
  { path: '/readyz', operationId: 'readyz', summary: 'Readiness: the plan cache has synced', responses: { 200: '`ok`', 503: 'not synced yet' } },
  { path: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics (text exposition format)', responses: { 200: 'The metrics.' } },
];

function stripMeta(schema: Json): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** An inline JSON schema of something a client sends (parameters, bodies). */
function inputSchema(schema: z.ZodType): Json {
  return stripMeta(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Json);
}

/** express's `/namespaces/:namespace/plans/:name` as OpenAPI's `/namespaces/{namespace}/plans/{name}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(spec: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
    if (!schema) continue;
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const json = inputSchema(field);
      const { description, ...rest } = json;
      out.push({
        name,
        in: where,
        required: where === 'path' || !field.safeParse(undefined).success,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

export function openApiDocument(routes: readonly RouteSpec[], info: DocumentInfo): Json {
  const registry = z.registry<{ id: string }>();
  const ids = new Map<z.ZodType, string>();
  for (const [id, schema] of NAMED_SCHEMAS) {
    registry.add(schema, { id });
    ids.set(schema, id);
  }
  const all = [...BUILTIN_ROUTES, ...routes];
  // Answer schemas not named above get a name from their route.
  for (const spec of all) {
    for (const [status, response] of Object.entries(spec.responses)) {
      if (response.schema && !ids.has(response.schema)) {
        const id = `${spec.operationId[0]?.toUpperCase() ?? ''}${spec.operationId.slice(1)}${status}`;
        registry.add(response.schema, { id });
        ids.set(response.schema, id);
      }
    }
  }
  const components = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, io: 'output', target: 'draft-2020-12', unrepresentable: 'any' }) as { schemas: Record<string, Json> };
  const schemas = Object.fromEntries(Object.entries(components.schemas).map(([id, s]) => [id, stripMeta(s)]));
  const ref = (schema: z.ZodType): Json => ({ $ref: `#/components/schemas/${ids.get(schema) ?? 'Error'}` });
  const errorResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: ref(ErrorBody) } } });

  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of all) {
    const responses: Record<string, Json> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      const content = response.schema
        ? { content: { [response.mediaType ?? 'application/json']: { schema: ref(response.schema) } } }
        : response.mediaType !== undefined
          ? { content: { [response.mediaType]: { schema: { type: 'string' } } } }
          : {};
      responses[status] = { description: response.description, ...content };
    }
    const shared: Array<[number, string, boolean]> = [
      [400, 'A bad request: `field` names the parameter or body field.', spec.params !== undefined || spec.query !== undefined || spec.method === 'post'],
      [401, 'No bearer token, or one the cluster does not accept (TokenReview). Comes with `WWW-Authenticate: Bearer`.', !spec.public],
      [403, `The caller may not ${spec.verb ?? 'do this'} migrationplans here (SubjectAccessReview). The same answer whether or not the plan exists.`, !spec.public && spec.verb !== undefined],
      [413, 'The request body is over 1 MiB.', spec.method === 'post'],
      [415, 'The request body is not application/json, or its content encoding is not gzip, deflate or br.', spec.method === 'post'],
      [500, 'A bug: the controller log has the details; the answer has none.', true],
      [503, 'The Kubernetes API server did not answer (the token or the permission could not be checked, or a write failed), or the plan cache has not synced yet.', !spec.public],
    ];
    for (const [status, description, applies] of shared) {
      if (applies && responses[status] === undefined) responses[status] = errorResponse(description);
    }
    const operation: Json = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.tags ? { tags: spec.tags } : {}),
      ...(spec.public ? { security: [] } : {}),
      parameters: parameters(spec),
      ...(spec.body
        ? { requestBody: { required: !spec.body.safeParse(undefined).success, content: { 'application/json': { schema: inputSchema(spec.body) } } } }
        : {}),
      responses,
    };
    const path = `${API_PREFIX}${openApiPath(spec.path)}`;
    paths[path] = { ...(paths[path] ?? {}), [spec.method]: operation };
  }
  for (const probe of PROBE_PATHS) {
    paths[probe.path] = {
      get: {
        operationId: probe.operationId,
        summary: probe.summary,
        tags: ['probes'],
        security: [],
        responses: Object.fromEntries(Object.entries(probe.responses).map(([status, description]) => [status, { description, content: { 'text/plain': { schema: { type: 'string' } } } }])),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'trafficshift',
      version: info.version,
      description:
        'Steer MigrationPlans (trafficshift.io/v1alpha1): list, inspect, pause, resume, promote, roll back and retry, and the Alertmanager webhook. ' +
        'Every route under /api/v1 but this document takes a bearer token, checked with the Kubernetes TokenReview API, and is authorized with ' +
        'SubjectAccessReview on migrationplans (list/get to read, patch to steer), so cluster RBAC decides. ' +
        `Every failure answers {"error", "reason", "field"?}.${info.authMode === 'none' ? ' This process runs with --auth=none: nothing is checked.' : ''}`,
    },
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A Kubernetes bearer token (a ServiceAccount token, `kubectl create token NAME`).' } },
      schemas,
    },
  };
}
