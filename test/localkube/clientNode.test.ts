// CRUD semantics through @kubernetes/client-node, exactly as the controller talks to a cluster.
import * as k8s from '@kubernetes/client-node';
import { failure, Harness, jsonPatch, mergePatch, MP, plan, raw, startHarness } from './support';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

const service = (name: string): k8s.V1Service => ({
  metadata: { name, labels: { app: 'checkout', tier: 'web' } },
  spec: { selector: { app: 'monolith' }, ports: [{ port: 80 }] },
});

describe('built-in kinds', () => {
  it('creates, reads, lists by label, patches and deletes a Service', async () => {
    const created = await h.core.createNamespacedService({ namespace: 'shop', body: service('checkout') });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(created.spec?.ports?.[0]).toMatchObject({ port: 80, protocol: 'TCP', targetPort: 80 });

    await h.core.createNamespacedService({ namespace: 'shop', body: { ...service('other'), metadata: { name: 'other', labels: { app: 'other' } } } });
    const selected = await h.core.listNamespacedService({ namespace: 'shop', labelSelector: 'app in (checkout),tier!=db' });
    expect(selected.items.map((s) => s.metadata?.name)).toStrictEqual(['checkout']);
    const byField = await h.core.listServiceForAllNamespaces({ fieldSelector: 'metadata.name=other' });
    expect(byField.items.map((s) => s.metadata?.name)).toStrictEqual(['other']);

    const patched = await h.core.patchNamespacedService({ namespace: 'shop', name: 'checkout', body: { spec: { selector: { app: 'checkout-svc' } } } }, mergePatch);
    expect(patched.spec?.selector).toStrictEqual({ app: 'checkout-svc' });
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));

    await h.core.deleteNamespacedService({ namespace: 'shop', name: 'checkout' });
    expect((await failure(h.core.readNamespacedService({ namespace: 'shop', name: 'checkout' }))).code).toBe(404);
  });

  it('strategic-merge-patches a Service port list by its merge key', async () => {
    await h.core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'smp' }, spec: { ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] } } });
    const patched = await h.core.patchNamespacedService(
      { namespace: 'shop', name: 'smp', body: { spec: { ports: [{ port: 443, name: 'tls' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.ports?.map((p) => `${p.port}:${p.name}`)).toStrictEqual(['80:http', '443:tls']);
  });

  it('CRUDs an Ingress and bumps its generation only on spec changes', async () => {
    const body: k8s.V1Ingress = {
      metadata: { name: 'checkout-canary' },
      spec: { rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'checkout-svc', port: { number: 80 } } } }] } }] },
    };
    const created = await h.networking.createNamespacedIngress({ namespace: 'shop', body });
    expect(created.metadata?.generation).toBe(1);
    const annotated = await h.networking.patchNamespacedIngress(
      { namespace: 'shop', name: 'checkout-canary', body: { metadata: { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': '25' } } } },
      mergePatch,
    );
    expect(annotated.metadata?.generation).toBe(1);
    expect(annotated.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight']).toBe('25');
    const respec = await h.networking.patchNamespacedIngress({ namespace: 'shop', name: 'checkout-canary', body: { spec: { ingressClassName: 'nginx' } } }, mergePatch);
    expect(respec.metadata?.generation).toBe(2);
    const list = await h.networking.listNamespacedIngress({ namespace: 'shop' });
    expect(list.items).toHaveLength(1);
    expect(list.metadata?.resourceVersion).toBeTruthy();
  });

  it('refuses an object in a namespace that does not exist with 404 for the namespace', async () => {
    const { code, body } = await failure(h.core.createNamespacedService({ namespace: 'nowhere', body: service('x') }));
    expect(code).toBe(404);
    expect(body.message).toBe('namespaces "nowhere" not found');
    // The core group is omitted (Go's omitempty), not sent as "group": "" (kube-apiserver 1.25).
    expect(body.details).toStrictEqual({ name: 'nowhere', kind: 'namespaces' });
  });

  it('answers 409 AlreadyExists for a second create of the same name', async () => {
    await h.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'dup' }, data: { a: '1' } } });
    const { code, body } = await failure(h.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'dup' } } }));
    expect(code).toBe(409);
    expect(body).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "dup" already exists' });
  });

  it('decodes built-ins like the Go types: wrong JSON type is 400, unknown fields are dropped or refused', async () => {
    const wrongType = await raw(h.server, 'POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'typed' }, spec: { ports: [{ port: '80' }] } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.message).toBe('Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32');

    const ingress = { metadata: { name: 'typo' }, spec: { rules: [{ hostt: 'shop.example' }] } };
    const strict = await raw(h.server, 'POST', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses?fieldValidation=Strict', ingress);
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('Ingress in version "v1" cannot be handled as a Ingress: strict decoding error: unknown field "spec.rules[0].hostt"');
    const lenient = await raw(h.server, 'POST', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses?fieldValidation=Ignore', ingress);
    expect(lenient.status).toBe(201);
    expect(lenient.json.spec).toStrictEqual({ rules: [{}] });

    const badLabel = await raw(h.server, 'POST', '/api/v1/namespaces/shop/configmaps', { metadata: { name: 'l', labels: { a: 1 } } });
    expect(badLabel.status).toBe(400);
    expect(badLabel.json.message).toContain('json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
  });

  it('turns Secret stringData into base64 data', async () => {
    const secret = await h.core.createNamespacedSecret({ namespace: 'shop', body: { metadata: { name: 'slack' }, stringData: { url: 'http://hook' } } });
    expect(secret.data).toStrictEqual({ url: Buffer.from('http://hook').toString('base64') });
    expect(secret.type).toBe('Opaque');
  });
});

describe('MicroTime fields', () => {
  it('accepts a Lease written with V1MicroTime and refuses a 3-digit time with 400', async () => {
    const lease = await h.coordination.createNamespacedLease({
      namespace: 'shop',
      body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new k8s.V1MicroTime('2026-11-27T09:48:29.142Z'), acquireTime: new k8s.V1MicroTime() } },
    });
    expect(String(lease.spec?.renewTime)).toMatch(/^2026-11-27T09:48:29\.142000Z$/);

    const { status, json } = await raw(h.server, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/shop/leases/leader', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader', resourceVersion: lease.metadata?.resourceVersion },
      spec: { holderIdentity: 'b', renewTime: '2026-11-27T09:48:29.142Z' },
    });
    expect(status).toBe(400);
    expect(json.reason).toBe('BadRequest');
    expect(json.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-11-27T09:48:29.142Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".142Z" as ".000000"',
    );
  });

  it('refuses a core Event whose eventTime has three fractional digits', async () => {
    const event = {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'MigrationPlan', name: 'p', namespace: 'shop' },
      reason: 'Started',
      message: 'started',
      type: 'Normal',
      reportingComponent: 'trafficshift',
      reportingInstance: 'x',
      action: 'Start',
    };
    const bad = await raw(h.server, 'POST', '/api/v1/namespaces/shop/events', { ...event, eventTime: new Date('2026-11-27T09:48:29.142Z').toISOString() });
    expect(bad.status).toBe(400);
    const good = await raw(h.server, 'POST', '/api/v1/namespaces/shop/events', { ...event, eventTime: '2026-11-27T09:48:29.142000Z' });
    expect(good.status).toBe(201);
    const { action: _a, reportingComponent: _r, ...incomplete } = event;
    const missing = await raw(h.server, 'POST', '/api/v1/namespaces/shop/events', { ...incomplete, metadata: { name: 'e2' }, eventTime: '2026-11-27T09:48:29.142000Z' });
    expect(missing.status).toBe(422);
    expect(missing.json.message).toBe('Event "e2" is invalid: [reportingController: Required value, action: Required value]');
  });
});

describe('MigrationPlans through CustomObjectsApi', () => {
  it('creates a plan with defaults applied, status dropped and generation 1', async () => {
    const body = plan('create');
    delete (body.spec as Record<string, unknown>).strategy;
    const created = (await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: { ...body, status: { phase: 'Succeeded' } } })) as Record<string, any>;
    expect(created.metadata.generation).toBe(1);
    expect(created.spec.strategy).toBe('Canary');
    expect(created.spec.paused).toBe(false);
    expect(created.status).toBeUndefined();
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('answers 404 with the real Status body', async () => {
    const { code, body } = await failure(h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'x' }));
    expect(code).toBe(404);
    expect(body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'migrationplans.trafficshift.io "x" not found',
      reason: 'NotFound',
      details: { name: 'x', group: 'trafficshift.io', kind: 'migrationplans' },
      code: 404,
    });
  });

  it('answers 409 Conflict to an update with a stale resourceVersion', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('stale') })) as Record<string, any>;
    await h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'stale', body: { spec: { paused: true } } }, mergePatch);
    const { code, body } = await failure(h.custom.replaceNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'stale', body: { ...created, spec: { ...created.spec, paused: false } } }));
    expect(code).toBe(409);
    expect(body.reason).toBe('Conflict');
    expect(body.message).toBe(
      'Operation cannot be fulfilled on migrationplans.trafficshift.io "stale": the object has been modified; please apply your changes to the latest version and try again',
    );
    const viaPatch = await failure(
      h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'stale', body: { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { paused: false } } }, mergePatch),
    );
    expect(viaPatch.code).toBe(409);
  });

  it('merge patch replaces lists whole and null deletes', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('merge', { description: 'd', steps: [{ weight: 5 }, { weight: 50 }, { weight: 100 }] }) });
    const patched = (await h.custom.patchNamespacedCustomObject(
      { ...MP, namespace: 'shop', name: 'merge', body: { spec: { steps: [{ weight: 100 }], description: null } } },
      mergePatch,
    )) as Record<string, any>;
    expect(patched.spec.steps).toStrictEqual([{ weight: 100 }]);
    expect(patched.spec.description).toBeUndefined();
  });

  it('json patch applies by index, and a failing test op is a 422', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('jp') });
    const patched = (await h.custom.patchNamespacedCustomObject(
      { ...MP, namespace: 'shop', name: 'jp', body: [{ op: 'test', path: '/spec/steps/0/weight', value: 10 }, { op: 'replace', path: '/spec/steps/0/weight', value: 20 }, { op: 'add', path: '/metadata/labels', value: { a: 'b' } }] },
      jsonPatch,
    )) as Record<string, any>;
    expect(patched.spec.steps[0].weight).toBe(20);
    const { code, body } = await failure(
      h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'jp', body: [{ op: 'test', path: '/spec/steps/0/weight', value: 10 }, { op: 'replace', path: '/spec/steps/0/weight', value: 30 }] }, jsonPatch),
    );
    expect(code).toBe(422);
    expect(body.reason).toBe('Invalid');
    // As kube-apiserver 1.25 answers: the generic 422 text, and no cause naming the failed op.
    expect(body.message).toBe('the server rejected our request due to an error in our request');
    expect(body.details).toStrictEqual({});
    const after = (await h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'jp' })) as Record<string, any>;
    expect(after.spec.steps[0].weight).toBe(20);
  });

  it('answers 415 to a strategic merge patch of a custom resource', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('smp') });
    const { code, body } = await failure(
      h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'smp', body: { spec: { paused: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch)),
    );
    expect(code).toBe(415);
    // Word for word as kube-apiserver 1.25: it names server-side apply too, and sends no details.
    expect(body).toStrictEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'UnsupportedMediaType', code: 415,
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    });
  });

  it('answers a server-side apply with a 415 that says it is not implemented here', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('ssa') });
    const answer = await raw(h.server, 'PATCH', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans/ssa?fieldManager=me', plan('ssa'), { 'content-type': 'application/apply-patch+yaml' });
    expect(answer.status).toBe(415);
    expect(answer.json.message).toMatch(/^server-side apply \(application\/apply-patch\+yaml\) is not implemented/);
  });

  it('answers a create in an unknown format with 415 naming json, yaml and protobuf', async () => {
    const answer = await raw(h.server, 'POST', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans', plan('text'), { 'content-type': 'text/plain' });
    expect(answer.status).toBe(415);
    expect(answer.json.message).toBe('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
    expect(answer.json).not.toHaveProperty('details');
  });

  it('status writes change only status; spec writes ignore status; generation follows spec only', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('status') });
    const statusWrite = (await h.custom.patchNamespacedCustomObjectStatus(
      { ...MP, namespace: 'shop', name: 'status', body: { spec: { paused: true }, status: { phase: 'Progressing', canaryWeight: 10 } } },
      mergePatch,
    )) as Record<string, any>;
    expect(statusWrite.status).toStrictEqual({ phase: 'Progressing', canaryWeight: 10 });
    expect(statusWrite.spec.paused).toBe(false);
    expect(statusWrite.metadata.generation).toBe(1);

    const specWrite = (await h.custom.patchNamespacedCustomObject(
      { ...MP, namespace: 'shop', name: 'status', body: { spec: { paused: true }, status: { phase: 'Failed' } } },
      mergePatch,
    )) as Record<string, any>;
    expect(specWrite.status.phase).toBe('Progressing');
    expect(specWrite.spec.paused).toBe(true);
    expect(specWrite.metadata.generation).toBe(2);

    const labelWrite = (await h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'status', body: { metadata: { labels: { team: 'a' } } } }, mergePatch)) as Record<string, any>;
    expect(labelWrite.metadata.generation).toBe(2);

    const noop = (await h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'status', body: { spec: { paused: true } } }, mergePatch)) as Record<string, any>;
    expect(noop.metadata.resourceVersion).toBe(labelWrite.metadata.resourceVersion);
  });

  it('keeps an object with finalizers until the last one is removed', async () => {
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: { ...plan('fin'), metadata: { name: 'fin', finalizers: ['trafficshift.io/restore-stable'] } } });
    const deleting = await raw(h.server, 'DELETE', `/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans/fin`);
    expect(deleting.status).toBe(200);
    const marked = (await h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'fin' })) as Record<string, any>;
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    // The registry's BeforeDelete bumps generation when it sets deletionTimestamp (kube-apiserver 1.25: 1 -> 2).
    expect(marked.metadata.generation).toBe(2);
    const again = await raw(h.server, 'DELETE', `/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans/fin`);
    expect((again.json.metadata as Record<string, unknown>).resourceVersion).toBe(marked.metadata.resourceVersion);
    const addFinalizer = await failure(
      h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'fin', body: { metadata: { finalizers: ['trafficshift.io/restore-stable', 'other'] } } }, mergePatch),
    );
    expect(addFinalizer.code).toBe(422);
    await h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'fin', body: { metadata: { finalizers: null } } }, mergePatch);
    expect((await failure(h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'fin' }))).code).toBe(404);
  });

  it('prunes unknown fields and warns about them', async () => {
    const response = await raw(h.server, 'POST', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans?fieldValidation=Warn', {
      ...plan('pruned', { bogus: 1, steps: [{ weight: 100, extra: true }] }),
      topLevel: 'x',
    });
    expect(response.status).toBe(201);
    const spec = response.json.spec as Record<string, unknown>;
    expect(spec.bogus).toBeUndefined();
    expect(spec.steps).toStrictEqual([{ weight: 100 }]);
    expect(response.json.topLevel).toBeUndefined();
    expect(response.headers.get('warning')).toContain('unknown field \\"spec.bogus\\"');

    const strict = await raw(h.server, 'POST', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans?fieldValidation=Strict', plan('strict', { bogus: 1 }));
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('MigrationPlan in version "v1alpha1" cannot be handled as a MigrationPlan: strict decoding error: unknown field "spec.bogus"');
  });

  it('type-checks by the schema with a 422 listing the causes', async () => {
    const { code, body } = await failure(
      h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('typed', { strategy: 'Sideways', steps: [{ weight: 'ten' }] }) }),
    );
    expect(code).toBe(422);
    expect(body.reason).toBe('Invalid');
    expect(body.message).toBe(
      'MigrationPlan.trafficshift.io "typed" is invalid: [spec.strategy: Unsupported value: "Sideways": supported values: "Canary", "BlueGreen", spec.steps[0].weight: Invalid value: "string": spec.steps[0].weight in body must be of type integer: "string"]',
    );
    // A wrong JSON type is field.TypeInvalid on a real server, not plain Invalid.
    expect((body.details as Record<string, unknown>).causes).toContainEqual({
      reason: 'FieldValueTypeInvalid',
      message: 'Invalid value: "string": spec.steps[0].weight in body must be of type integer: "string"',
      field: 'spec.steps[0].weight',
    });
  });

  it('supports dryRun=All without storing', async () => {
    const dry = await raw(h.server, 'POST', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans?dryRun=All', plan('dry'));
    expect(dry.status).toBe(201);
    expect((await failure(h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'dry' }))).code).toBe(404);
  });

  it('lists across namespaces at the cluster-wide path', async () => {
    await h.core.createNamespace({ body: { metadata: { name: 'other-ns' } } });
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'other-ns', body: { ...plan('elsewhere'), metadata: { name: 'elsewhere', namespace: 'other-ns', labels: { pick: 'me' } } } });
    const all = (await h.custom.listClusterCustomObject({ ...MP, labelSelector: 'pick' })) as Record<string, any>;
    expect(all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toStrictEqual(['other-ns/elsewhere']);
    expect(all.kind).toBe('MigrationPlanList');
  });
});
