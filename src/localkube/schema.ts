// The parts of apiextensions-apiserver that decide what a custom object may hold: the
// structural-schema check a CRD must pass, pruning of unknown fields, defaulting, and the
// OpenAPI v3 value validation (kube-openapi's rules and error wording, as of v1.24: CEL
// `x-kubernetes-validations` is ignored, as servers before v1.25 do).
import { FieldError } from './errors';

export interface JSONSchemaProps {
  type?: string;
  format?: string;
  description?: string;
  title?: string;
  default?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  maximum?: number;
  minimum?: number;
  exclusiveMaximum?: boolean;
  exclusiveMinimum?: boolean;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  maxItems?: number;
  minItems?: number;
  uniqueItems?: boolean;
  multipleOf?: number;
  maxProperties?: number;
  minProperties?: number;
  required?: string[];
  items?: JSONSchemaProps;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [extension: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys a v1 JSONSchemaProps accepts; anything else is not OpenAPI v3.0 as Kubernetes reads it. */
const KNOWN_KEYS = new Set([
  'id', '$schema', '$ref', 'description', 'type', 'format', 'title', 'default', 'maximum',
  'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems',
  'minItems', 'uniqueItems', 'multipleOf', 'enum', 'maxProperties', 'minProperties', 'required', 'items',
  'allOf', 'oneOf', 'anyOf', 'not', 'properties', 'additionalProperties', 'patternProperties',
  'dependencies', 'additionalItems', 'definitions', 'externalDocs', 'example', 'nullable',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);

const UNSUPPORTED_KEYS: Record<string, string> = {
  id: 'id is not supported',
  $schema: '$schema is not supported',
  $ref: '$ref is not supported',
  patternProperties: 'patternProperties is not supported',
  dependencies: 'dependencies is not supported',
  additionalItems: 'additionalItems is not supported',
  definitions: 'definitions is not supported',
};

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

/**
 * Why a CRD version's openAPIV3Schema is not structural (or not decodable as a v1
 * JSONSchemaProps), in the wording of apiextensions validation, with paths rooted at `root`.
 * Empty when the schema would be accepted.
 */
export function structuralErrors(schema: unknown, root = 'openAPIV3Schema'): string[] {
  const out: string[] = [];
  if (!isObject(schema)) return [`${root}: Required value: must be an object`];
  checkNode(schema, root, out, { valueValidation: false, atRoot: true, inMetadata: false });
  if (schema.type !== 'object') {
    out.push(`${root}.type: Invalid value: ${JSON.stringify(schema.type ?? '')}: must be object at the root`);
  }
  return out;
}

interface NodeContext {
  valueValidation: boolean;
  atRoot: boolean;
  inMetadata: boolean;
}

function checkNode(node: JsonObject, path: string, out: string[], ctx: NodeContext): void {
  for (const key of Object.keys(node)) {
    if (!KNOWN_KEYS.has(key)) out.push(`${path}: Invalid value: ${JSON.stringify(key)}: unknown field "${key}" is not an OpenAPI v3.0 schema keyword`);
    else if (UNSUPPORTED_KEYS[key]) out.push(`${path}.${key}: Forbidden: ${UNSUPPORTED_KEYS[key]}`);
  }
  for (const flag of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    if (node[flag] !== undefined && typeof node[flag] !== 'boolean') {
      out.push(`${path}.${flag}: Invalid value: ${JSON.stringify(node[flag])}: must be a boolean in OpenAPI v3.0`);
    }
  }
  if (node.uniqueItems === true) {
    out.push(`${path}.uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`);
  }
  const type = node.type;
  if (type !== undefined && (typeof type !== 'string' || !TYPES.has(type))) {
    out.push(`${path}.type: Unsupported value: ${JSON.stringify(type)}: supported values: "array", "boolean", "integer", "number", "object", "string"`);
  }
  const preserve = node['x-kubernetes-preserve-unknown-fields'];
  const intOrString = node['x-kubernetes-int-or-string'];
  if (preserve === false) out.push(`${path}.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`);
  if (ctx.valueValidation) {
    for (const key of ['type', 'default', 'nullable', 'additionalProperties', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource', 'description', 'title']) {
      if (node[key] !== undefined && !(key === 'description' || key === 'title')) {
        out.push(`${path}.${key}: Forbidden: must be empty to be structural`);
      }
    }
  } else {
    if (type === undefined && preserve !== true && intOrString !== true) {
      out.push(`${path}.type: Required value: must not be empty for specified object fields`);
    }
    if (intOrString === true && type !== undefined) {
      out.push(`${path}.type: Invalid value: ${JSON.stringify(type)}: must be empty if x-kubernetes-int-or-string is true`);
    }
  }
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    out.push(`${path}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`);
  }
  if (node.additionalProperties === false) {
    out.push(`${path}.additionalProperties: Forbidden: additionalProperties cannot be set to false`);
  }
  if (node.type === 'array' && node.items === undefined && !ctx.valueValidation) {
    out.push(`${path}.items: Required value: must be specified`);
  }
  if (node.items !== undefined && !isObject(node.items)) {
    out.push(`${path}.items: Forbidden: items must be a schema object and not an array`);
  }
  if (node.properties !== undefined && node.type !== undefined && node.type !== 'object') {
    out.push(`${path}.properties: Forbidden: properties must only be specified for type object`);
  }

  if (isObject(node.properties)) {
    for (const [name, child] of Object.entries(node.properties)) {
      const childPath = `${path}.properties[${name}]`;
      if (!isObject(child)) {
        out.push(`${childPath}: Invalid value: must be a schema object`);
        continue;
      }
      if (ctx.atRoot && name === 'metadata' && !ctx.valueValidation) {
        checkMetadata(child, childPath, out);
        continue;
      }
      checkNode(child, childPath, out, { ...ctx, atRoot: false });
    }
  }
  if (isObject(node.items)) checkNode(node.items, `${path}.items`, out, { ...ctx, atRoot: false });
  if (isObject(node.additionalProperties)) {
    checkNode(node.additionalProperties, `${path}.additionalProperties`, out, { ...ctx, atRoot: false });
  }
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = node[key];
    if (branches === undefined) continue;
    if (!Array.isArray(branches)) {
      out.push(`${path}.${key}: Invalid value: must be a list of schemas`);
      continue;
    }
    branches.forEach((branch, i) => {
      if (!isObject(branch)) return;
      // x-kubernetes-int-or-string may spell out its two types (anyOf: [{type: integer}, {type: string}]).
      if (intOrString === true && isIntOrStringBranch(branch)) return;
      checkNode(branch, `${path}.${key}[${i}]`, out, { ...ctx, valueValidation: true, atRoot: false });
    });
  }
  if (isObject(node.not)) checkNode(node.not, `${path}.not`, out, { ...ctx, valueValidation: true, atRoot: false });
}

function isIntOrStringBranch(branch: JsonObject): boolean {
  return Object.keys(branch).every((k) => k === 'type') && (branch.type === 'integer' || branch.type === 'string');
}

/** The root's `metadata` may only narrow name and generateName: the server owns ObjectMeta. */
function checkMetadata(node: JsonObject, path: string, out: string[]): void {
  const allowed = new Set(['type', 'properties', 'description']);
  const props = isObject(node.properties) ? node.properties : {};
  const extraKeys = Object.keys(node).filter((k) => !allowed.has(k));
  const extraProps = Object.keys(props).filter((k) => k !== 'name' && k !== 'generateName');
  const propsOk = Object.entries(props).every(
    ([k, v]) => (k !== 'name' && k !== 'generateName') || (isObject(v) && Object.keys(v).every((kk) => kk === 'type' || kk === 'pattern' || kk === 'maxLength' || kk === 'description') && (v.type === undefined || v.type === 'string')),
  );
  if (node.type !== undefined && node.type !== 'object') {
    out.push(`${path}.type: Invalid value: ${JSON.stringify(node.type)}: must be object`);
  }
  if (extraKeys.length > 0 || extraProps.length > 0 || !propsOk) {
    out.push(`${path}: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pruning and defaulting

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
  'managedFields',
]);

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Removes fields the schema does not know, in place, and returns their paths
 * (`spec.foo`, `spec.steps[0].bar`): what `fieldValidation=Strict|Warn` reports.
 * apiVersion, kind and metadata at the root (and in embedded resources) always survive;
 * unknown ObjectMeta fields are dropped.
 */
export function prune(obj: JsonObject, schema: JSONSchemaProps): string[] {
  const pruned: string[] = [];
  pruneObject(obj, schema, '', pruned, true);
  return pruned;
}

function pruneObject(obj: JsonObject, schema: JSONSchemaProps, path: string, pruned: string[], isResource: boolean): void {
  for (const key of Object.keys(obj)) {
    if (isResource && (key === 'apiVersion' || key === 'kind')) continue;
    if (isResource && key === 'metadata') {
      const meta = obj[key];
      if (isObject(meta)) {
        for (const mk of Object.keys(meta)) {
          if (!OBJECT_META_FIELDS.has(mk)) {
            delete meta[mk];
            pruned.push(`metadata.${mk}`);
          }
        }
      }
      continue;
    }
    const propSchema = schema.properties?.[key];
    const additional = schema.additionalProperties;
    const child = obj[key] as Json;
    if (propSchema) {
      if (dropNull(obj, key, propSchema)) continue;
      pruneValue(child, propSchema, childPath(path, key), pruned);
    } else if (isObject(additional)) {
      pruneValue(child, additional, childPath(path, key), pruned);
    } else if (schema['x-kubernetes-preserve-unknown-fields'] || additional === true) {
      continue;
    } else {
      delete obj[key];
      pruned.push(childPath(path, key));
    }
  }
}

/** Nulls of non-nullable fields without a default are dropped before defaulting (apiextensions ≥1.20). */
function dropNull(obj: JsonObject, key: string, schema: JSONSchemaProps): boolean {
  if (obj[key] === null && !schema.nullable && schema.default === undefined) {
    delete obj[key];
    return true;
  }
  return false;
}

function pruneValue(value: Json, schema: JSONSchemaProps, path: string, pruned: string[]): void {
  if (isObject(value)) {
    if (schema.type === 'object' || schema.properties || schema.additionalProperties !== undefined || schema['x-kubernetes-embedded-resource']) {
      pruneObject(value, schema, path, pruned, schema['x-kubernetes-embedded-resource'] === true);
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.type === undefined && !schema['x-kubernetes-int-or-string']) {
      pruneObject(value, schema, path, pruned, false);
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => pruneValue(item, schema.items as JSONSchemaProps, `${path}[${i}]`, pruned));
  }
}

/** Applies `default`s to absent fields (and to nulls of non-nullable fields), in place. */
export function applyDefaults(value: Json, schema: JSONSchemaProps): void {
  if (isObject(value)) {
    if (schema.properties) {
      for (const [key, propSchema] of Object.entries(schema.properties)) {
        const present = key in value;
        if ((!present || (value[key] === null && !propSchema.nullable)) && propSchema.default !== undefined) {
          value[key] = structuredClone(propSchema.default) as Json;
        }
        if (key in value) applyDefaults(value[key] as Json, propSchema);
      }
    } else if (isObject(schema.additionalProperties)) {
      for (const key of Object.keys(value)) applyDefaults(value[key] as Json, schema.additionalProperties);
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) applyDefaults(item, schema.items);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

const patternCache = new Map<string, RegExp | null>();
function compilePattern(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    patternCache.set(pattern, re);
  }
  return re;
}

/** kube-openapi's strfmt date: Go's time.Parse("2006-01-02"). */
function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

/** kube-openapi's strfmt.IsDateTime, character for character (its `.` before the fraction is unescaped). */
export function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0] ?? '')) return false;
  const m = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/.exec(parts[1] ?? '');
  if (!m) return false;
  return (m[1] ?? '') <= '23' && (m[2] ?? '') <= '59' && (m[3] ?? '') <= '59';
}

function jsonType(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: Json, type: string): boolean {
  const actual = jsonType(v);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

function invalid(field: string, value: unknown, detail: string): FieldError {
  return { reason: 'FieldValueInvalid', field, value, detail };
}

/** kube-openapi's InvalidType (a wrong JSON type, a null, a bad format) maps to field.TypeInvalid. */
function typeInvalid(field: string, value: unknown, detail: string): FieldError {
  return { reason: 'FieldValueTypeInvalid', field, value, detail };
}

/** Validates `value` against `schema`; returns field errors with kube-openapi's messages. */
export function validateValue(value: Json, schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  validateNode(value, schema, path, errs);
  return errs;
}

function validateNode(value: Json, schema: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const name = path || '<root>';
  if (value === null) {
    if (schema.nullable) return;
    if (schema.type) {
      errs.push(typeInvalid(name, 'null', `${name} in body must be of type ${schema.type}: "null"`));
      return;
    }
  }
  if (schema['x-kubernetes-int-or-string']) {
    const t = jsonType(value);
    if (t !== 'integer' && t !== 'string') {
      errs.push(typeInvalid(name, t, `${name} in body must be of type integer,string: ${JSON.stringify(t)}`));
      return;
    }
  } else if (schema.type && !typeMatches(value, schema.type)) {
    const t = jsonType(value);
    errs.push(typeInvalid(name, t, `${name} in body must be of type ${schema.type}: ${JSON.stringify(t)}`));
    return;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push({
      reason: 'FieldValueNotSupported',
      field: name,
      value,
      detail: `supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`,
    });
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (schema.maxLength !== undefined && len > schema.maxLength) {
      errs.push({ reason: 'FieldValueTooLong', field: name, value, detail: `may not be longer than ${schema.maxLength}` });
    }
    if (schema.minLength !== undefined && len < schema.minLength) {
      errs.push(invalid(name, value, `${name} in body should be at least ${schema.minLength} chars long`));
    }
    if (schema.pattern !== undefined) {
      const re = compilePattern(schema.pattern);
      if (re && !re.test(value)) errs.push(invalid(name, value, `${name} in body should match '${schema.pattern}'`));
    }
    if (schema.format === 'date-time' && !isDateTime(value)) {
      errs.push(typeInvalid(name, value, `${name} in body must be of type date-time: ${JSON.stringify(value)}`));
    }
  }
  if (typeof value === 'number') {
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      errs.push(invalid(name, value, `${name} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      errs.push(invalid(name, value, `${name} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
    if (schema.multipleOf !== undefined && schema.multipleOf !== 0 && !Number.isInteger(value / schema.multipleOf)) {
      errs.push(invalid(name, value, `${name} in body should be a multiple of ${schema.multipleOf}`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errs.push({ reason: 'FieldValueTooMany', field: name, value: value.length, detail: `must have at most ${schema.maxItems} items` });
    }
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errs.push(invalid(name, value.length, `${name} in body should have at least ${schema.minItems} items`));
    }
    if (schema.items) value.forEach((item, i) => validateNode(item, schema.items as JSONSchemaProps, `${path}[${i}]`, errs));
    errs.push(...listTypeErrors(value, schema, path));
  }
  if (isObject(value)) {
    const count = Object.keys(value).length;
    if (schema.maxProperties !== undefined && count > schema.maxProperties) {
      errs.push({ reason: 'FieldValueTooMany', field: name, value: count, detail: `must have at most ${schema.maxProperties} items` });
    }
    if (schema.minProperties !== undefined && count < schema.minProperties) {
      errs.push(invalid(name, count, `${name} in body should have at least ${schema.minProperties} properties`));
    }
    for (const req of schema.required ?? []) {
      if (!(req in value)) errs.push({ reason: 'FieldValueRequired', field: childPath(path, req) });
    }
    for (const [key, child] of Object.entries(value)) {
      const propSchema = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (propSchema) validateNode(child, propSchema, childPath(path, key), errs);
    }
  }
  validateCombinators(value, schema, path, name, errs);
}

/** x-kubernetes-list-type set/map: items (or their map keys) must be unique ("Duplicate value"). */
function listTypeErrors(value: Json[], schema: JSONSchemaProps, path: string): FieldError[] {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== 'set' && listType !== 'map') return [];
  const keys = Array.isArray(schema['x-kubernetes-list-map-keys']) ? (schema['x-kubernetes-list-map-keys'] as string[]) : [];
  const seen = new Set<string>();
  const out: FieldError[] = [];
  value.forEach((item, i) => {
    const identity = listType === 'map' && isObject(item) ? Object.fromEntries(keys.filter((k) => k in item).map((k) => [k, item[k]])) : item;
    const key = JSON.stringify(identity);
    if (seen.has(key)) out.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, value: identity });
    seen.add(key);
  });
  return out;
}

function validateCombinators(value: Json, schema: JSONSchemaProps, path: string, name: string, errs: FieldError[]): void {
  if (schema.allOf) for (const branch of schema.allOf) validateNode(value, branch, path, errs);
  if (schema.anyOf) {
    const results = schema.anyOf.map((b) => validateValue(value, b, path));
    if (!results.some((r) => r.length === 0)) {
      errs.push(invalid(name, value, `${name} in body must validate at least one schema (anyOf)`));
      errs.push(...(results[0] ?? []));
    }
  }
  if (schema.oneOf) {
    const passing = schema.oneOf.map((b) => validateValue(value, b, path)).filter((r) => r.length === 0).length;
    if (passing !== 1) {
      errs.push(invalid(name, value, `${name} in body must validate one and only one schema (oneOf)${passing === 0 ? '' : '. Found ' + passing + ' valid alternatives'}`));
    }
  }
  if (schema.not && validateValue(value, schema.not, path).length === 0) {
    errs.push(invalid(name, value, `${name} in body must not validate the schema (not)`));
  }
}
