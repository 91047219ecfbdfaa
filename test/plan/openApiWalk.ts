// Test helpers that read an OpenAPI v3 schema the way a kube-apiserver does: which nodes break
// the structural rules, and which fields of an object pruning would drop.
import type { OpenApiSchema } from '../../src/plan/crd';

type Node = Record<string, unknown>;

// The words a CRD's openAPIV3Schema may use (apiextensions.k8s.io/v1 JSONSchemaProps), minus the
// ones this generator must never emit: $ref/definitions are forbidden in CRDs, and anyOf/oneOf/
// allOf/not are allowed by the server only in forms we do not need.
const ALLOWED_KEYS = new Set([
  'type', 'description', 'format', 'enum', 'default', 'nullable', 'title', 'example',
  'minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
  'items', 'properties', 'required', 'additionalProperties',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type',
]);
const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function matchesType(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return isNode(value);
    default: return true;
  }
}

/** Every way `schema` breaks what kube-apiserver v1.24 demands of a CRD schema, as `path: why`. */
export function structuralViolations(schema: unknown, path = '', isRoot = true): string[] {
  const at = path || '(root)';
  if (!isNode(schema)) return [`${at}: not a schema object`];
  const out: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!ALLOWED_KEYS.has(key)) out.push(`${at}: "${key}" is not allowed in a CRD schema`);
  }
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.type === undefined && !preserve && schema['x-kubernetes-int-or-string'] !== true) out.push(`${at}: has no type`);
  if (schema.type !== undefined && !TYPES.has(String(schema.type))) out.push(`${at}: type ${JSON.stringify(schema.type)} is not one of ${[...TYPES].join(', ')}`);
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) out.push(`${at}: properties and additionalProperties together`);
  if (schema.additionalProperties === false || schema.additionalProperties === true) out.push(`${at}: additionalProperties must be a schema, not ${String(schema.additionalProperties)}`);
  for (const flag of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (schema[flag] !== undefined && typeof schema[flag] !== 'boolean') out.push(`${at}: ${flag} must be a boolean in OpenAPI v3.0`);
  }
  if ((schema.properties !== undefined || schema.additionalProperties !== undefined) && schema.type !== 'object') out.push(`${at}: has fields but type is not object`);
  if (schema.type === 'array' && !isNode(schema.items)) out.push(`${at}: an array needs items`);
  if (schema.items !== undefined && schema.type !== 'array') out.push(`${at}: items on a non-array`);
  if (Array.isArray(schema.enum)) {
    for (const value of schema.enum) if (!matchesType(value, schema.type)) out.push(`${at}: enum value ${JSON.stringify(value)} is not a ${String(schema.type)}`);
  }
  if (schema.required !== undefined) {
    if (!Array.isArray(schema.required) || schema.required.length === 0) out.push(`${at}: required must be a non-empty list`);
    else for (const name of schema.required) if (!isNode(schema.properties) || !(String(name) in schema.properties)) out.push(`${at}: required field ${String(name)} has no property`);
  }
  if (schema.default !== undefined) {
    if (!matchesType(schema.default, schema.type)) out.push(`${at}: default ${JSON.stringify(schema.default)} is not a ${String(schema.type)}`);
    const dropped = prunedFields(schema.default, schema as OpenApiSchema, `${path}(default)`);
    if (dropped.length > 0) out.push(`${at}: default has fields the schema prunes: ${dropped.join(', ')}`);
  }
  if (isRoot) {
    const props = isNode(schema.properties) ? schema.properties : {};
    const metadata = props.metadata;
    if (isNode(metadata)) {
      const metaProps = isNode(metadata.properties) ? Object.keys(metadata.properties) : [];
      const extra = metaProps.filter((p) => p !== 'name' && p !== 'generateName');
      if (extra.length > 0) out.push(`metadata: a CRD may describe only name and generateName, not ${extra.join(', ')}`);
    }
  }
  if (isNode(schema.properties)) {
    for (const [key, value] of Object.entries(schema.properties)) out.push(...structuralViolations(value, path ? `${path}.${key}` : key, false));
  }
  if (isNode(schema.additionalProperties)) out.push(...structuralViolations(schema.additionalProperties, `${path}.*`, false));
  if (isNode(schema.items)) out.push(...structuralViolations(schema.items, `${path}[]`, false));
  return out;
}

/** The paths of every field in `value` that an API server would prune, or whose type the
 * schema refuses, were `value` written under `schema`. */
export function prunedFields(value: unknown, schema: OpenApiSchema, path = ''): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && schema.properties === undefined) return [];
  if (value === null) return schema.nullable ? [] : [`${path} (null)`];
  if (schema.type !== undefined && !matchesType(value, schema.type)) return [`${path} (${typeof value}, schema says ${schema.type})`];
  const out: string[] = [];
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => out.push(...prunedFields(item, schema.items as OpenApiSchema, `${path}[${i}]`)));
  } else if (isNode(value)) {
    for (const [key, child] of Object.entries(value)) {
      // The API server keeps a custom object's metadata as ObjectMeta, whatever the schema says.
      if (path === '' && key === 'metadata') continue;
      const childPath = path ? `${path}.${key}` : key;
      const childSchema = schema.properties?.[key] ?? schema.additionalProperties;
      if (childSchema) out.push(...prunedFields(child, childSchema, childPath));
      else if (schema['x-kubernetes-preserve-unknown-fields'] !== true) out.push(childPath);
    }
  }
  return out;
}
