// A small OpenAPI v3 surface: the root index and one document per group-version listing each
// resource's paths with the `x-kubernetes-group-version-kind` extension and the query
// parameters the real server declares. kubectl 1.32 reads it to decide that the server does
// field validation (`fieldValidation=Strict`) instead of downloading a full schema to validate
// client-side; without it, `kubectl apply` fails with "failed to download openapi".
// Custom resources carry their CRD schema, so `kubectl explain` works for them. PATCH bodies
// list no strategic merge patch, so kubectl computes strategic patches for built-ins from its
// compiled-in types (as with a server without OpenAPI) and merge patches for custom resources.
import { createHash } from 'node:crypto';
import { TypeRegistry } from './discovery';
import { ResourceType } from './resources';

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];

function schemaName(type: ResourceType, version: string): string {
  const reversedGroup = (type.group || 'core').split('.').reverse().join('.');
  return `${reversedGroup}.${version}.${type.kind}`;
}

function gvkExtension(type: ResourceType, version: string): Record<string, unknown> {
  return { 'x-kubernetes-group-version-kind': { group: type.group, version, kind: type.kind } };
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function operation(type: ResourceType, version: string, action: string, withBody: string[] | undefined): Record<string, unknown> {
  const ref = { $ref: `#/components/schemas/${schemaName(type, version)}` };
  const op: Record<string, unknown> = {
    operationId: `${action}${type.kind}`,
    parameters: QUERY_PARAMS.map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } })),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    'x-kubernetes-action': action,
    ...gvkExtension(type, version),
  };
  if (withBody) op.requestBody = { content: Object.fromEntries(withBody.map((m) => [m, { schema: { type: 'object' } }])), required: true };
  return op;
}

function groupVersionDocument(registry: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version).filter((t) => !t.virtual || t.verbs.includes('create'));
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const base = `/${gvPath(group, version)}`;
  for (const type of types) {
    const prefix = type.namespaced ? `${base}/namespaces/{namespace}/${type.plural}` : `${base}/${type.plural}`;
    paths[prefix] = { post: operation(type, version, 'post', ['application/json', 'application/yaml']) };
    if (!type.virtual) {
      paths[`${prefix}/{name}`] = {
        get: operation(type, version, 'get', undefined),
        put: operation(type, version, 'put', ['application/json', 'application/yaml']),
        patch: operation(type, version, 'patch', ['application/json-patch+json', 'application/merge-patch+json']),
        delete: operation(type, version, 'delete', undefined),
      };
    }
    const crdSchema = type.custom?.schemas.get(version);
    schemas[schemaName(type, version)] = {
      ...(crdSchema ?? { type: 'object', description: `${type.kind} (schema not published by localkube)` }),
      'x-kubernetes-group-version-kind': [{ group: type.group, version, kind: type.kind }],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-localkube' }, paths, components: { schemas } };
}

export function openApiDocument(path: string[], registry: TypeRegistry): unknown {
  if (path[0] !== 'v3') return undefined;
  const rest = path.slice(1);
  if (rest.length === 0) {
    const paths: Record<string, unknown> = {};
    const gvs = new Set<string>(['api/v1']);
    for (const type of registry.all()) for (const v of type.versions) gvs.add(gvPath(type.group, v));
    for (const gv of gvs) {
      const [, ...parts] = gv.split('/');
      const doc = gv === 'api/v1' ? groupVersionDocument(registry, '', 'v1') : groupVersionDocument(registry, parts.slice(0, -1).join('/'), parts[parts.length - 1] ?? '');
      const hash = createHash('sha512').update(JSON.stringify(doc ?? {})).digest('hex').slice(0, 32).toUpperCase();
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
    }
    return { paths };
  }
  if (rest[0] === 'api' && rest.length === 2) return groupVersionDocument(registry, '', rest[1] ?? '');
  if (rest[0] === 'apis' && rest.length === 3) return groupVersionDocument(registry, rest[1] ?? '', rest[2] ?? '');
  return undefined;
}
