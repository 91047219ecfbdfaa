// CustomResourceDefinitions: the vendored third-party CRDs validate their objects, a CRD
// created through the API is served at once, and a non-structural one is refused.
import * as k8s from '@kubernetes/client-node';
import { structuralErrors } from '../../src/localkube';
import { defaultCrdFiles, readCrdFile } from '../../src/localkube/crd';
import { failure, Harness, HTTPROUTE_CRD, mergePatch, PLAN_CRD, raw, startHarness } from './support';

const ROUTE = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;

function route(weight: unknown): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'checkout' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [{ backendRefs: [{ name: 'monolith', port: 80, weight }, { name: 'checkout-svc', port: 80, weight: 0 }] }],
    },
  };
}

function widgetCrd(schema: Record<string, unknown>, name = 'widgets.example.com'): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema }, subresources: { status: {} } },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: schema } },
      ],
    },
  };
}

const structural = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
        at: { type: 'string', format: 'date-time' },
        tags: { type: 'array', maxItems: 2, items: { type: 'string', maxLength: 5, pattern: '^[a-z]+$' } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        port: { 'x-kubernetes-int-or-string': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        maybe: { type: 'string', nullable: true },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

describe('vendored third-party CRDs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ crdFiles: [PLAN_CRD, HTTPROUTE_CRD] });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('serves HTTPRoute at v1 and v1beta1 from one stored object', async () => {
    await h.custom.createNamespacedCustomObject({ ...ROUTE, namespace: 'shop', body: route(100) });
    const beta = (await h.custom.getNamespacedCustomObject({ ...ROUTE, version: 'v1beta1', namespace: 'shop', name: 'checkout' })) as Record<string, any>;
    expect(beta.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    expect(beta.spec.rules[0].backendRefs[0].weight).toBe(100);
  });

  it('refuses a string weight with a 422 naming the field', async () => {
    const { code, body } = await failure(h.custom.createNamespacedCustomObject({ ...ROUTE, namespace: 'shop', body: { ...route('50'), metadata: { name: 'bad' } } }));
    expect(code).toBe(422);
    expect(body.message).toContain('HTTPRoute.gateway.networking.k8s.io "bad" is invalid: spec.rules[0].backendRefs[0].weight: Invalid value: "string": spec.rules[0].backendRefs[0].weight in body must be of type integer: "string"');
  });

  it('applies the CRD defaults (a backendRef weight defaults to 1)', async () => {
    const created = (await h.custom.createNamespacedCustomObject({
      ...ROUTE,
      namespace: 'shop',
      body: { ...route(5), metadata: { name: 'defaults' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'monolith', port: 80 }] }] } },
    })) as Record<string, any>;
    expect(created.spec.rules[0].backendRefs[0].weight).toBe(1);
  });

  it('merge-patches a whole backendRefs list', async () => {
    const patched = (await h.custom.patchNamespacedCustomObject(
      { ...ROUTE, namespace: 'shop', name: 'checkout', body: { spec: { rules: [{ backendRefs: [{ name: 'monolith', port: 80, weight: 75 }, { name: 'checkout-svc', port: 80, weight: 25 }] }] } } },
      mergePatch,
    )) as Record<string, any>;
    expect(patched.spec.rules[0].backendRefs.map((b: any) => b.weight)).toStrictEqual([75, 25]);
  });
});

describe('CRDs through the API', () => {
  let h: Harness;
  let ext: k8s.ApiextensionsV1Api;
  beforeAll(async () => {
    h = await startHarness({ crdFiles: [] });
    ext = h.kc.makeApiClient(k8s.ApiextensionsV1Api);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('serves a CRD created through the API, validates by its schema, and stops serving it on delete', async () => {
    // Raw POST: client-node's typed CRD model expects camelCase keys (xKubernetesIntOrString)
    // and silently drops the dashed ones a YAML manifest has.
    const createdCrd = await raw(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd(structural));
    expect(createdCrd.status).toBe(201);
    const discovery = await raw(h.server, 'GET', '/apis/example.com/v1');
    expect(discovery.json.resources).toContainEqual(expect.objectContaining({ name: 'widgets', kind: 'Widget', namespaced: true, shortNames: ['wd'] }));
    expect(discovery.json.resources).toContainEqual(expect.objectContaining({ name: 'widgets/status' }));

    const W = { group: 'example.com', version: 'v1', plural: 'widgets' };
    const created = (await h.custom.createNamespacedCustomObject({
      ...W,
      namespace: 'shop',
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 2, free: { any: { thing: 1 } }, port: 'http', labels: { a: 'b' }, maybe: null, unknown: 1 } },
    })) as Record<string, any>;
    expect(created.spec).toStrictEqual({ size: 2, color: 'red', free: { any: { thing: 1 } }, port: 'http', labels: { a: 'b' }, maybe: null });

    const invalid = await failure(
      h.custom.createNamespacedCustomObject({ ...W, namespace: 'shop', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' }, spec: { size: 11, at: '2026-11-27 10:00', tags: ['a', 'b', 'c'], port: 1.5 } } }),
    );
    expect(invalid.code).toBe(422);
    const causes = ((invalid.body.details as Record<string, unknown>).causes as Array<Record<string, string>>).map((c) => `${c.field}: ${c.message}`);
    expect(causes).toEqual(
      expect.arrayContaining([
        'spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10',
        'spec.at: Invalid value: "2026-11-27 10:00": spec.at in body must be of type date-time: "2026-11-27 10:00"',
        'spec.tags: Too many: 3: must have at most 2 items',
      ]),
    );
    const missing = await failure(h.custom.createNamespacedCustomObject({ ...W, namespace: 'shop', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'y' }, spec: {} } }));
    expect(missing.body.message).toBe('Widget.example.com "y" is invalid: spec.size: Required value');

    await ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    expect((await failure(h.custom.listNamespacedCustomObject({ ...W, namespace: 'shop' }))).code).toBe(404);
  });

  it('deleting a CRD waits for its instances\' finalizers, refuses new instances meanwhile, then stops serving', async () => {
    expect((await raw(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd(structural, 'widgets.example.com'))).status).toBe(201);
    const W = { group: 'example.com', version: 'v1', plural: 'widgets' };
    const widget = (name: string, finalizers: string[] = []) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, finalizers }, spec: { size: 1 } });
    await h.custom.createNamespacedCustomObject({ ...W, namespace: 'shop', body: widget('held', ['example.com/hold']) });
    await h.custom.createNamespacedCustomObject({ ...W, namespace: 'shop', body: widget('free') });

    await ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    const terminating = await raw(h.server, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    expect((terminating.json.metadata as Record<string, unknown>).deletionTimestamp).toBeTruthy();
    const left = (await h.custom.listNamespacedCustomObject({ ...W, namespace: 'shop' })) as Record<string, any>;
    expect(left.items.map((i: any) => i.metadata.name)).toStrictEqual(['held']);
    expect((await failure(h.custom.createNamespacedCustomObject({ ...W, namespace: 'shop', body: widget('late') }))).code).toBe(405);

    await h.custom.patchNamespacedCustomObject({ ...W, namespace: 'shop', name: 'held', body: { metadata: { finalizers: null } } }, mergePatch);
    expect((await raw(h.server, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).status).toBe(404);
    expect((await failure(h.custom.listNamespacedCustomObject({ ...W, namespace: 'shop' }))).code).toBe(404);
  });

  it.each([
    ['a field without a type', { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } }, 'properties[spec].type: Required value: must not be empty for specified object fields'],
    ['properties next to additionalProperties', { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } } } }, 'properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive'],
    ['a type inside anyOf', { type: 'object', properties: { spec: { type: 'object', properties: { pause: { anyOf: [{ type: 'string' }, { type: 'object' }] } } } } }, 'properties[spec].properties[pause].anyOf[0].type: Forbidden: must be empty to be structural'],
    ['metadata described beyond name', { type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }, 'properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified'],
    ['$schema', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }, '$schema: Forbidden: $schema is not supported'],
    ['a numeric exclusiveMinimum', { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'number', exclusiveMinimum: 0 } } } } }, 'properties[spec].properties[n].exclusiveMinimum: Invalid value: 0: must be a boolean'],
  ])('refuses a non-structural CRD: %s', async (_what, schema, expected) => {
    expect(structuralErrors(schema).join('\n')).toContain(expected);
    const { status: code, json: body } = await raw(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd(schema));
    expect(code).toBe(422);
    expect(body.reason).toBe('Invalid');
    expect(body.message).toContain('CustomResourceDefinition.apiextensions.k8s.io "widgets.example.com" is invalid: ');
    expect(body.message).toContain(`spec.versions[0].schema.openAPIV3Schema.${expected}`);
  });

  it('accepts every vendored route CRD and the project CRD as structural', async () => {
    const files = defaultCrdFiles();
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      for (const crd of readCrdFile(file)) {
        for (const v of (crd.spec as any).versions) expect(structuralErrors(v.schema.openAPIV3Schema)).toStrictEqual([]);
      }
    }
  });
});
