import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { generateCrd, openApiSchemaOf, type OpenApiSchema, renderCrdYaml, UnsupportedSchema } from '../../src/plan/crd';
import * as schema from '../../src/plan/schema';
import { parseYamlDocuments } from '../../src/plan/loadFile';
import { prunedFields, structuralViolations } from './openApiWalk';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLES = path.join(ROOT, 'manifests/examples');
const INVALID = path.join(ROOT, 'test/fixtures/invalid');

function planSchema(): OpenApiSchema {
  const version = generateCrd().spec.versions[0];
  if (!version) throw new Error('the CRD has no version');
  return version.schema.openAPIV3Schema;
}

function at(root: OpenApiSchema, dotted: string): OpenApiSchema {
  let node: OpenApiSchema | undefined = root;
  for (const part of dotted.split('.')) {
    node = part === '[]' ? node?.items : part === '*' ? node?.additionalProperties : node?.properties?.[part];
    if (!node) throw new Error(`no schema node at ${dotted} (stopped at ${part})`);
  }
  return node;
}

describe('manifests/crd.yaml', () => {
  it('is exactly what generateCrd() produces', () => {
    const committed = readFileSync(path.join(ROOT, 'manifests/crd.yaml'), 'utf8');
    if (!isDeepStrictEqual(yaml.load(committed), generateCrd())) {
      throw new Error('manifests/crd.yaml has drifted from src/plan/schema.ts: run `make manifests` and commit the result');
    }
    expect(committed).toBe(renderCrdYaml());
  });
});

describe('generateCrd', () => {
  const crd = generateCrd();

  it('names the resource as the SPEC says', () => {
    expect(crd.metadata.name).toBe('migrationplans.trafficshift.io');
    expect(crd.spec.group).toBe('trafficshift.io');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toStrictEqual({
      kind: 'MigrationPlan', listKind: 'MigrationPlanList', plural: 'migrationplans', singular: 'migrationplan',
      shortNames: ['mp'], categories: ['trafficshift'],
    });
    expect(crd.spec.versions).toHaveLength(1);
    const [version] = crd.spec.versions;
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    expect(version?.additionalPrinterColumns.map(({ name, type, jsonPath }) => ({ name, type, jsonPath }))).toStrictEqual([
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Weight', type: 'integer', jsonPath: '.status.canaryWeight' },
      { name: 'Step', type: 'integer', jsonPath: '.status.currentStep' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
  });

  it('has a structural schema on every node', () => {
    expect(structuralViolations(planSchema())).toStrictEqual([]);
  });

  it('carries no CEL rules, which servers before v1.25 ignore', () => {
    expect(JSON.stringify(crd)).not.toContain('x-kubernetes-validations');
  });

  it('describes apiVersion and kind as strings and metadata as a bare object', () => {
    const root = planSchema();
    expect(root.properties?.apiVersion).toStrictEqual({ type: 'string' });
    expect(root.properties?.kind).toStrictEqual({ type: 'string' });
    expect(root.properties?.metadata).toStrictEqual({ type: 'object' });
    expect(root.required).toStrictEqual(['spec']);
  });

  it('marks pause, a duration or {}, as preserved with no type', () => {
    const pause = at(planSchema(), 'spec.steps.[].pause');
    expect(pause['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(pause.type).toBeUndefined();
  });

  it('maps records, nullables, datetimes, integers and enums', () => {
    const root = planSchema();
    expect(at(root, 'spec.targets.[].service.stableSelector')).toStrictEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(at(root, 'status.checks.[].value')).toStrictEqual({ type: 'number', nullable: true });
    expect(at(root, 'status.checks.[].at')).toStrictEqual({ type: 'string', format: 'date-time' });
    expect(at(root, 'spec.steps.[].weight')).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(at(root, 'status.observedGeneration')).toStrictEqual({ type: 'integer' });
    expect(at(root, 'spec.analysis.noData')).toMatchObject({ type: 'string', enum: ['hold', 'fail'], default: 'hold' });
    expect(at(root, 'spec.steps.[].weight').required).toBeUndefined();
  });

  it('requires exactly the fields zod requires, and not those with defaults', () => {
    const root = planSchema();
    expect(at(root, 'spec').required).toStrictEqual(['targets', 'steps']);
    expect(at(root, 'spec.analysis.checks.[]').required).toStrictEqual(['name']);
    expect(at(root, 'spec.steps.[]').required).toStrictEqual(['weight']);
  });

  it('turns an exclusive bound into the OpenAPI v3.0 boolean form', () => {
    expect(openApiSchemaOf(z.number().positive())).toStrictEqual({ type: 'number', minimum: 0, exclusiveMinimum: true });
  });

  it('keeps the unknown fields of a loose object and refuses shapes it cannot express', () => {
    expect(openApiSchemaOf(z.looseObject({ a: z.string() }))).toStrictEqual({
      type: 'object', properties: { a: { type: 'string' } }, required: ['a'], 'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(() => openApiSchemaOf(z.strictObject({ when: z.date() }))).toThrow(UnsupportedSchema);
    expect(() => openApiSchemaOf(z.strictObject({ when: z.date() }))).toThrow(/when/);
  });

  it('is something a naive zod-to-JSON-Schema dump is not', () => {
    // The walker must catch what the API server refuses, or the structural test proves nothing.
    const naive = z.toJSONSchema(schema.MigrationPlanSpec, { io: 'input', unrepresentable: 'any' });
    const problems = structuralViolations(naive).join('\n');
    expect(problems).toContain('"$schema" is not allowed');
    expect(problems).toContain('"anyOf" is not allowed');
    expect(problems).toContain('additionalProperties must be a schema, not false');
  });
});

describe('the examples under the generated schema', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('cover every provider', () => {
    const providers = new Set<string>();
    for (const file of files) {
      for (const doc of parseYamlDocuments(readFileSync(path.join(EXAMPLES, file), 'utf8'))) {
        const parsed = schema.MigrationPlan.parse(doc.value);
        for (const t of parsed.spec.targets) providers.add(t.provider);
      }
    }
    expect([...providers].sort()).toStrictEqual([...schema.PROVIDERS].sort());
  });

  it.each(files)('%s loses no field to pruning', (file) => {
    const docs = parseYamlDocuments(readFileSync(path.join(EXAMPLES, file), 'utf8'));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(prunedFields(doc.value, planSchema())).toStrictEqual([]);
  });

  it('would lose a misspelt field, which is why validate reports it', () => {
    const [doc] = parseYamlDocuments(readFileSync(path.join(INVALID, 'unknown-field.yaml'), 'utf8'));
    expect(prunedFields(doc?.value, planSchema())).toStrictEqual(['spec.rollback.automatc']);
  });
});
