// The MigrationPlan CustomResourceDefinition, generated from the zod schemas in ./schema so the
// two never drift. `trafficshift crd` prints it; manifests/crd.yaml is that output, and a test
// fails when the committed file differs from what this module generates.
//
// A kube-apiserver (checked against v1.24) accepts only a *structural* schema, which a plain
// zod-to-JSON-Schema dump is not. So this walks zod's own definitions and emits the OpenAPI v3.0
// subset the API server wants:
// - every node has a `type`, except a union (zod checks its shape): that node is
//   `x-kubernetes-preserve-unknown-fields: true` with no type, and no anyOf at all;
// - a strict object gets `properties` and never `additionalProperties: false` (the API server
//   prunes unknown fields instead); a record gets `additionalProperties` and no `properties`;
// - nullable is `nullable: true`, `.int()` is `type: integer`, a datetime is `format: date-time`;
// - nothing outside OpenAPI v3.0: no `$schema`, `const`, numeric `exclusiveMinimum`, `$ref`;
// - no x-kubernetes-validations: CEL is ignored before v1.25, so cross-field rules stay in zod.
// The CRD is never stricter than zod: refinements that have no OpenAPI form are left out.
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { GROUP, KIND, MigrationPlanSpec, MigrationPlanStatus, PLURAL, SHORT_NAME, VERSION } from './schema';

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The part of Kubernetes' JSONSchemaProps that this generator emits. */
export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  enum?: JsonValue[];
  default?: JsonValue;
  nullable?: boolean;
  minimum?: number;
  exclusiveMinimum?: boolean;
  maximum?: number;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  additionalProperties?: OpenApiSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export class UnsupportedSchema extends Error {
  constructor(readonly path: string, readonly zodType: string, detail = '') {
    super(`cannot express the zod ${zodType} at ${path || '(root)'} in a structural CRD schema${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedSchema';
  }
}

export class UnknownDescriptionPath extends Error {
  constructor(readonly path: string) {
    super(`a CRD description names ${path}, which the schema does not have`);
    this.name = 'UnknownDescriptionPath';
  }
}

// Descriptions shown by `kubectl explain mp.spec...`. Paths use `[]` for "every item"; a path
// that no longer exists in the schema makes generateCrd throw, so a rename cannot orphan one.
// A `.describe()` in schema.ts wins over an entry here.
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  '': 'MigrationPlan moves traffic from a stable backend to a canary backend step by step, gated on checks, with one-step rollback.',
  spec: 'The traffic migration: targets, steps, checks, rollback triggers.',
  'spec.description': 'Free text shown by the CLI.',
  'spec.strategy': 'Canary moves traffic in weighted steps; BlueGreen switches 0 -> 100 in one step after a passing analysis round.',
  'spec.targets': 'The routes moved in lockstep. A rollback reverts all of them.',
  'spec.targets[].provider': 'Which kind of route this target writes; the block of the same name holds its objects.',
  'spec.steps': 'Canary weights in increasing order, the last one 100. BlueGreen takes exactly one step of 100.',
  'spec.steps[].weight': 'Percent of traffic on the canary backend during this step.',
  'spec.steps[].pause': 'How long to hold this weight with checks passing before the next step, as a duration (30s, 5m); {} waits for a promotion by a person.',
  'spec.analysis': 'The checks run while the plan progresses.',
  'spec.analysis.interval': 'How often checks run, as a duration.',
  'spec.analysis.noData': 'What a query that returns no series counts as: hold keeps the weight, fail counts a breach. Never a pass.',
  'spec.analysis.checks[].severity': 'critical: a breach counts toward rollback; warning: the plan holds its weight; info: recorded only.',
  'spec.analysis.checks[].failureLimit': 'Consecutive breaches before the severity action is taken.',
  'spec.analysis.checks[].template': 'A built-in query for the target provider; query overrides it.',
  'spec.rollback': 'When traffic goes back to the stable backend.',
  'spec.rollback.automatic': 'Roll back when a critical check reaches its failureLimit.',
  'spec.rollback.rto': 'Recovery time objective; a slower rollback is recorded as an Event.',
  'spec.rollback.alertmanager': 'A firing Alertmanager alert with these labels rolls back at once.',
  'spec.successCriteria.bakeTime': 'How long checks must keep passing at 100% before the plan Succeeds.',
  'spec.schedule': 'Change windows: steps advance only inside one.',
  'spec.notifications': 'Slack-compatible JSON POSTs on plan events.',
  'spec.paused': 'Holds the plan at its current weight while true. Set by the REST API and CLI pause/resume.',
  status: 'Written by the controller alone.',
  'status.currentStep': 'Index into spec.steps.',
  'status.canaryWeight': 'The canary weight the targets hold now.',
};

type AnyZod = z.core.$ZodType;

interface WalkContext {
  /** Dotted path with `[]` for array items, used for descriptions and error messages. */
  path: string;
  /** Descriptions by path; the ones found are recorded in `used`. */
  descriptions: Readonly<Record<string, string>>;
  used: Set<string>;
}

function describe(schema: AnyZod, ctx: WalkContext): string | undefined {
  const own = z.globalRegistry.get(schema)?.description;
  if (own !== undefined) return own;
  const fromTable = ctx.descriptions[ctx.path];
  if (fromTable !== undefined) ctx.used.add(ctx.path);
  return fromTable;
}

function child(ctx: WalkContext, key: string): WalkContext {
  return { ...ctx, path: ctx.path === '' ? key : `${ctx.path}.${key}` };
}

function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value as Record<string, unknown>).every(isJsonValue);
  }
  return false;
}

/** Whether an object key may be left out of the input (optional, or filled by a default). */
function isOptionalInput(schema: AnyZod): boolean {
  return schema._zod.optin !== undefined; // 'optional' or 'defaulted'
}

// zod types a schema's checks as the base $ZodCheck. The built-in ones form the $ZodChecks union,
// told apart by def.check; a refinement (check 'custom') falls through every case below.
function checksOf(def: { checks?: ReadonlyArray<z.core.$ZodCheck<never>> | undefined }): ReadonlyArray<z.core.$ZodChecks> {
  return (def.checks ?? []) as unknown as ReadonlyArray<z.core.$ZodChecks>;
}

function applyLengthChecks(out: OpenApiSchema, def: { checks?: ReadonlyArray<z.core.$ZodCheck<never>> | undefined }, kind: 'string' | 'array'): void {
  for (const check of checksOf(def)) {
    const def = check._zod.def;
    switch (def.check) {
      case 'min_length':
        if (kind === 'string') out.minLength = def.minimum;
        else out.minItems = def.minimum;
        break;
      case 'max_length':
        if (kind === 'string') out.maxLength = def.maximum;
        else out.maxItems = def.maximum;
        break;
      case 'length_equals':
        if (kind === 'string') out.minLength = out.maxLength = def.length;
        else out.minItems = out.maxItems = def.length;
        break;
      default:
        break; // refinements without an OpenAPI form: zod enforces them
    }
  }
}

function stringSchema(schema: z.core.$ZodString | z.core.$ZodStringFormat): OpenApiSchema {
  const out: OpenApiSchema = { type: 'string' };
  const def = schema._zod.def;
  // A format schema (z.iso.datetime(), z.url()) carries its own format; its pattern is zod's
  // implementation of that format and is left out: the API server checks `format` itself.
  if ('format' in def && def.format === 'datetime') out.format = 'date-time';
  applyLengthChecks(out, def, 'string');
  const patterns: string[] = [];
  for (const check of checksOf(def)) {
    const cdef = check._zod.def;
    if (cdef.check === 'string_format' && cdef.format === 'regex' && cdef.pattern) patterns.push(cdef.pattern.source);
  }
  // OpenAPI has one `pattern` per node; a second would need allOf. Leaving it to zod keeps the
  // CRD no stricter than the schema.
  if (patterns.length === 1) out.pattern = patterns[0];
  return out;
}

function numberSchema(schema: z.core.$ZodNumber): OpenApiSchema {
  const def = schema._zod.def;
  const integer = ['safeint', 'int32', 'uint32'].includes((def as { format?: string }).format ?? '');
  const out: OpenApiSchema = { type: integer ? 'integer' : 'number' };
  for (const check of checksOf(def)) {
    const cdef = check._zod.def;
    if (cdef.check === 'number_format' && ['safeint', 'int32', 'uint32'].includes(cdef.format)) out.type = 'integer';
    if (cdef.check === 'greater_than' && typeof cdef.value === 'number') {
      out.minimum = cdef.value;
      if (!cdef.inclusive) out.exclusiveMinimum = true; // OpenAPI v3.0: a flag beside minimum
    }
    if (cdef.check === 'less_than' && typeof cdef.value === 'number') {
      out.maximum = cdef.value;
      if (!cdef.inclusive) out.exclusiveMaximum = true;
    }
  }
  return out;
}

function literalSchema(values: ReadonlyArray<unknown>, ctx: WalkContext): OpenApiSchema {
  const types = new Set(values.map((v) => typeof v));
  const [only] = [...types];
  if (types.size !== 1 || (only !== 'string' && only !== 'number' && only !== 'boolean')) {
    throw new UnsupportedSchema(ctx.path, 'literal', `values ${JSON.stringify(values)} are not all of one JSON type`);
  }
  const type = only === 'number' ? (values.every((v) => Number.isInteger(v)) ? 'integer' : 'number') : only;
  return { type, enum: values as JsonValue[] };
}

function objectSchema(schema: z.core.$ZodObject, ctx: WalkContext): OpenApiSchema {
  const def = schema._zod.def;
  const properties: Record<string, OpenApiSchema> = {};
  const required: string[] = [];
  for (const [key, value] of Object.entries(def.shape)) {
    properties[key] = walk(value, child(ctx, key));
    if (!isOptionalInput(value)) required.push(key);
  }
  const out: OpenApiSchema = { type: 'object', properties };
  if (required.length > 0) out.required = required;
  const catchall = def.catchall?._zod.def.type;
  // strictObject (catchall never) and plain object (no catchall) both end in pruning, which
  // drops the same fields zod would reject or strip. A loose object keeps what it does not know.
  if (catchall !== undefined && catchall !== 'never') out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

function walk(schema: AnyZod, ctx: WalkContext): OpenApiSchema {
  const description = describe(schema, ctx);
  const out = walkType(schema as z.core.$ZodTypes, ctx);
  // The description leads, after the type, so the YAML reads naturally.
  if (description === undefined || out.description !== undefined) return out;
  const { type, ...rest } = out;
  return type === undefined ? { description, ...rest } : { type, description, ...rest };
}

function walkType(schema: z.core.$ZodTypes, ctx: WalkContext): OpenApiSchema {
  const def = schema._zod.def;
  switch (def.type) {
    case 'string':
      return stringSchema(schema as z.core.$ZodString);
    case 'number':
      return numberSchema(schema as z.core.$ZodNumber);
    case 'boolean':
      return { type: 'boolean' };
    case 'enum':
      return literalSchema(Object.values(def.entries), ctx);
    case 'literal':
      return literalSchema(def.values, ctx);
    case 'object':
      return objectSchema(schema as z.core.$ZodObject, ctx);
    case 'record': {
      const keyType = def.keyType._zod.def.type;
      if (keyType !== 'string') throw new UnsupportedSchema(ctx.path, 'record', `keys are ${keyType}, not string`);
      return { type: 'object', additionalProperties: walk(def.valueType, child(ctx, '*')) };
    }
    case 'array': {
      const out: OpenApiSchema = { type: 'array', items: walk(def.element, { ...ctx, path: `${ctx.path}[]` }) };
      applyLengthChecks(out, def, 'array');
      return out;
    }
    case 'optional':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return walk(def.innerType, ctx);
    case 'nullable':
      return { ...walk(def.innerType, ctx), nullable: true };
    case 'default':
    case 'prefault': {
      const inner = walk(def.innerType, ctx);
      const value: unknown = def.defaultValue;
      // Only plain JSON defaults go to the API server; zod applies every default anyway.
      if (!isJsonValue(value) || inner['x-kubernetes-preserve-unknown-fields'] === true) return inner;
      return { ...inner, default: value };
    }
    case 'pipe':
      // The CRD describes what a user writes: the input side of a transform.
      return walk(def.in, ctx);
    case 'union':
    case 'unknown':
    case 'any':
      // Several shapes (pause: a duration or {}) cannot be structural; zod checks them.
      return { 'x-kubernetes-preserve-unknown-fields': true };
    default:
      throw new UnsupportedSchema(ctx.path, def.type);
  }
}

/** The OpenAPI v3 schema of a zod schema, as a CRD's structural schema wants it. */
export function openApiSchemaOf(schema: AnyZod): OpenApiSchema {
  return walk(schema, { path: '', descriptions: {}, used: new Set() });
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
}

export const PRINTER_COLUMNS: ReadonlyArray<PrinterColumn> = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Weight', type: 'integer', jsonPath: '.status.canaryWeight', description: 'Percent of traffic on the canary backend' },
  { name: 'Step', type: 'integer', jsonPath: '.status.currentStep', description: 'Index into spec.steps' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: OpenApiSchema };
    }>;
  };
}

/** The root: apiVersion and kind as plain strings, and metadata as a bare object, since a CRD
 * may not describe metadata beyond name and generateName. */
function planSchema(): OpenApiSchema {
  const used = new Set<string>();
  const spec = walk(MigrationPlanSpec, { path: 'spec', descriptions: DESCRIPTIONS, used });
  const status = walk(MigrationPlanStatus, { path: 'status', descriptions: DESCRIPTIONS, used });
  const root: OpenApiSchema = {
    type: 'object',
    description: DESCRIPTIONS[''] ?? '',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec,
      status,
    },
    required: ['spec'],
  };
  used.add('');
  for (const path of Object.keys(DESCRIPTIONS)) {
    if (!used.has(path)) throw new UnknownDescriptionPath(path);
  }
  return root;
}

export function generateCrd(): CustomResourceDefinition {
  const singular = KIND.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'trafficshift' } },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular, shortNames: [SHORT_NAME], categories: ['trafficshift'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: planSchema() },
        },
      ],
    },
  };
}

export const CRD_YAML_HEADER = [
  '# Generated from src/plan/schema.ts by `trafficshift crd`. Do not edit: run `make manifests`.',
  '',
].join('\n');

/** manifests/crd.yaml, byte for byte. */
export function renderCrdYaml(): string {
  return CRD_YAML_HEADER + yaml.dump(generateCrd(), { lineWidth: -1, noRefs: true, sortKeys: false });
}
