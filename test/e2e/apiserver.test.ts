// API server conformance: the semantics trafficshift relies on, pinned down by what real
// kube-apiservers (v1.24 and v1.25) answer, and held to by the in-process one. Where two minors
// answer differently, the test asks the server its version and expects what that version does. The same file runs against
// both (TRAFFICSHIFT_E2E_KUBECONFIG picks a real cluster), through the kubeconfig only: a
// difference between the two is a bug in the fake. Bodies are compared field by field where
// clients read them (kind, reason, code, details, causes), messages where users see them.
import * as fs from 'node:fs';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, ServerConfiguration, Watch } from '@kubernetes/client-node';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { REFS } from '../support/targets';
import { loadKubeConfig, microTime, resourcePath, type KubeObject, type ResourceRef } from '../../src/kube';

const UNPRIVILEGED_KUBECONFIG = process.env['TRAFFICSHIFT_E2E_KUBECONFIG_UNPRIVILEGED'];

let cluster: TestCluster;
let ns: string;
/** The server's minor version (`/version`), for the few answers that changed between minors. */
let minor: number;

beforeAll(async () => {
  cluster = await startCluster('conformance');
  ns = cluster.namespace;
  const version = (await raw(HttpMethod.GET, '/version')).body as { major?: string; minor?: string };
  // A distribution may write the minor as "25+".
  minor = Number.parseInt(version.minor ?? '', 10);
  if (version.major !== '1' || !Number.isInteger(minor)) throw new Error(`cannot read the server's version from /version: ${JSON.stringify(version)}`);
}, 60_000);

/** The unknown-field warnings a write draws: server-side field validation (Warn by default) came
 * in v1.25; a v1.24 server prunes the same fields without a word. */
function expectedUnknownFieldWarnings(fields: string[]): string[] {
  return minor >= 25 ? fields : [];
}

afterAll(async () => {
  await cluster?.close();
});

// ---------------------------------------------------------------------------------------------
// Plumbing: raw requests (status, headers and body as sent) and watches, through the kubeconfig.

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const http = new IsomorphicFetchHttpLibrary();

async function raw(
  method: HttpMethod,
  path: string,
  options: { query?: Record<string, string>; contentType?: string; body?: unknown; kubeConfig?: KubeConfig } = {},
): Promise<RawAnswer> {
  const kc = options.kubeConfig ?? cluster.kubeConfig;
  const server = kc.getCurrentCluster()?.server ?? '';
  const ctx = new ServerConfiguration(server.replace(/\/+$/, ''), {}).makeRequestContext(path, method);
  for (const [k, v] of Object.entries(options.query ?? {})) ctx.setQueryParam(k, v);
  ctx.setHeaderParam('Accept', 'application/json');
  if (options.body !== undefined) {
    ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
    ctx.setBody(JSON.stringify(options.body));
  }
  await kc.applySecurityAuthentication(ctx);
  const response = await http.send(ctx).toPromise();
  const text = await response.body.text();
  return { status: response.httpStatusCode, headers: response.headers, body: text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

interface WatchEvent {
  type: string;
  object: KubeObject;
}

/** Collects a watch's events until the server ends it (or stop() is called). */
async function startWatch(path: string, query: Record<string, string | boolean | number>): Promise<{ events: WatchEvent[]; ended: Promise<unknown>; stop(): void }> {
  const events: WatchEvent[] = [];
  let finish: (err: unknown) => void = () => undefined;
  const ended = new Promise<unknown>((resolve) => (finish = resolve));
  const controller = await new Watch(cluster.kubeConfig).watch(path, query, (type, object) => events.push({ type, object: object as KubeObject }), (err) => finish(err));
  return { events, ended, stop: () => controller.abort() };
}

function until(events: WatchEvent[], ok: (e: WatchEvent[]) => boolean, what: string): Promise<void> {
  return waitFor(() => ok(events), 10_000, what);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const GROUP = 'trafficshift.io';

function plans(name?: string): ResourceRef {
  return name === undefined ? { ...REFS.plans, namespace: ns } : { ...REFS.plans, namespace: ns, name };
}

function planPath(name?: string, subresource?: string): string {
  return resourcePath(plans(name), subresource);
}

const TARGET = { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } };

function plan(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'trafficshift.io/v1alpha1',
    kind: 'MigrationPlan',
    metadata: { name, ...metadata },
    spec: { targets: [TARGET], steps: [{ weight: 50 }, { weight: 100 }], ...spec },
  };
}

interface Meta {
  name: string;
  resourceVersion: string;
  generation?: number;
  uid: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  annotations?: Record<string, string>;
}

function meta(obj: KubeObject): Meta {
  return obj['metadata'] as Meta;
}

function spec(obj: KubeObject): Record<string, unknown> {
  return obj['spec'] as Record<string, unknown>;
}

async function createPlan(name: string, specFields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Promise<KubeObject> {
  return cluster.kube.create(plans(), plan(name, specFields, metadata));
}

/** The warnings of a response, unquoted: `299 - "unknown field \"spec.x\""` -> `unknown field "spec.x"`. */
function warnings(answer: RawAnswer): string[] {
  const header = answer.headers['warning'];
  if (!header) return [];
  return [...header.matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1] ?? ''}"`) as string);
}

interface Cause {
  reason: string;
  message: string;
  field: string;
}

/** Causes in a stable order: a real server lists them in Go map order, which varies. */
function sortedCauses(body: Record<string, unknown>): Cause[] {
  const causes = ((body['details'] as { causes?: Cause[] } | undefined)?.causes ?? []).slice();
  return causes.sort((a, b) => (a.field + a.message < b.field + b.message ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------

describe('defaulting', () => {
  it('fills spec fields that carry a default in the CRD: strategy Canary, paused false, rollback.automatic true', async () => {
    const created = await createPlan('defaults');
    expect(spec(created)).toMatchObject({ strategy: 'Canary', paused: false, rollback: { automatic: true } });
    // An absent object without a default stays absent: analysis is not invented.
    expect(spec(created)['analysis']).toBeUndefined();
    expect(spec(created)['successCriteria']).toBeUndefined();
    const read = await cluster.kube.get(plans('defaults'));
    expect(spec(read)).toEqual(spec(created));
  });

  it('defaults inside objects and list items that are present', async () => {
    const created = await createPlan('defaults-nested', {
      analysis: { checks: [{ name: 'error-rate', query: 'up', max: 0.01 }] },
      successCriteria: {},
      rollback: {},
    });
    expect(spec(created)['analysis']).toEqual({ interval: '30s', noData: 'hold', checks: [{ name: 'error-rate', query: 'up', max: 0.01, severity: 'critical', failureLimit: 1 }] });
    expect(spec(created)['successCriteria']).toEqual({ bakeTime: '0s' });
    expect(spec(created)['rollback']).toEqual({ automatic: true });
  });

  it('defaults on update too: a merge patch that deletes a defaulted field gets the default back', async () => {
    await createPlan('defaults-update', { strategy: 'BlueGreen', steps: [{ weight: 100 }], paused: true });
    const patched = await cluster.kube.mergePatch(plans('defaults-update'), { spec: { paused: null, strategy: null } });
    expect(spec(patched)).toMatchObject({ paused: false, strategy: 'Canary' });
  });
});

describe('pruning of unknown fields', () => {
  it('drops unknown fields on create (from v1.25 with a warning per field), and ignores status on create', async () => {
    const body = plan('prune-create', { bogus: true, targets: [{ ...TARGET, extra: 1, nginx: { ...TARGET.nginx, zz: 'x' } }] }, { junk: 'x' });
    body['status'] = { phase: 'Succeeded', canaryWeight: 100 };
    const answer = await raw(HttpMethod.POST, planPath(), { body });
    expect(answer.status).toBe(201);
    expect(spec(answer.body)['bogus']).toBeUndefined();
    expect((spec(answer.body)['targets'] as unknown[])[0]).toEqual(TARGET);
    expect(answer.body['metadata']).not.toHaveProperty('junk');
    expect(answer.body['status']).toBeUndefined();
    expect(warnings(answer).sort()).toEqual(expectedUnknownFieldWarnings([
      'unknown field "metadata.junk"',
      'unknown field "spec.bogus"',
      'unknown field "spec.targets[0].extra"',
      'unknown field "spec.targets[0].nginx.zz"',
    ]));
    const read = await cluster.kube.get(plans('prune-create'));
    expect(spec(read)['bogus']).toBeUndefined();
    expect(read['status']).toBeUndefined();
  });

  it('drops unknown fields on update (PUT)', async () => {
    const created = await createPlan('prune-update');
    const updated = await cluster.kube.replace(plans('prune-update'), { ...created, spec: { ...spec(created), bogus: 1, description: 'kept' } });
    expect(spec(updated)['bogus']).toBeUndefined();
    expect(spec(updated)['description']).toBe('kept');
  });

  it('drops unknown fields on a merge patch and a JSON patch', async () => {
    await createPlan('prune-patch');
    const merged = await cluster.kube.mergePatch(plans('prune-patch'), { spec: { bogus: 1, description: 'merge' } });
    expect(spec(merged)['bogus']).toBeUndefined();
    expect(spec(merged)['description']).toBe('merge');
    const patched = await cluster.kube.jsonPatch(plans('prune-patch'), [{ op: 'add', path: '/spec/other', value: { a: 1 } }, { op: 'replace', path: '/spec/description', value: 'json' }]);
    expect(spec(patched)['other']).toBeUndefined();
    expect(spec(patched)['description']).toBe('json');
  });

  it('drops unknown fields written through the status subresource', async () => {
    await createPlan('prune-status');
    const answer = await raw(HttpMethod.PATCH, planPath('prune-status', 'status'), { contentType: MERGE, body: { status: { phase: 'Progressing', canaryWeight: 5, junk: 1, checks: [] } } });
    expect(answer.status).toBe(200);
    expect(answer.body['status']).toEqual({ phase: 'Progressing', canaryWeight: 5, checks: [] });
    expect(warnings(answer)).toEqual(expectedUnknownFieldWarnings(['unknown field "status.junk"']));
    const read = await cluster.kube.get(plans('prune-status'));
    expect(read['status']).toEqual({ phase: 'Progressing', canaryWeight: 5, checks: [] });
  });

  it('a write that only carries unknown fields is a no-op: same resourceVersion', async () => {
    const created = await createPlan('prune-noop');
    const patched = await cluster.kube.mergePatch(plans('prune-noop'), { metadata: { junk: 1 }, spec: { bogus: 1 } });
    expect(meta(patched).resourceVersion).toBe(meta(created).resourceVersion);
  });
});

describe('422 Invalid for schema violations', () => {
  const invalidBody = (name: string): Record<string, unknown> => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: expect.stringMatching(new RegExp(`^MigrationPlan\\.trafficshift\\.io "${name}" is invalid: `)),
    reason: 'Invalid',
    details: { name, group: GROUP, kind: 'MigrationPlan', causes: expect.any(Array) },
    code: 422,
  });

  it('a wrong type: FieldValueTypeInvalid naming the type, not the value', async () => {
    await createPlan('invalid-type');
    const answer = await raw(HttpMethod.PATCH, planPath('invalid-type'), { contentType: MERGE, body: { spec: { paused: 'yes' } } });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(invalidBody('invalid-type'));
    expect(answer.body['message']).toBe('MigrationPlan.trafficshift.io "invalid-type" is invalid: spec.paused: Invalid value: "string": spec.paused in body must be of type boolean: "string"');
    expect(sortedCauses(answer.body)).toEqual([
      { reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.paused in body must be of type boolean: "string"', field: 'spec.paused' },
    ]);
  });

  it('an enum value: FieldValueNotSupported with the supported values in schema order', async () => {
    const answer = await raw(HttpMethod.POST, planPath(), { body: plan('invalid-enum', { strategy: 'Linear' }) });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(invalidBody('invalid-enum'));
    expect(answer.body['message']).toBe('MigrationPlan.trafficshift.io "invalid-enum" is invalid: spec.strategy: Unsupported value: "Linear": supported values: "Canary", "BlueGreen"');
    expect(sortedCauses(answer.body)).toEqual([
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Linear": supported values: "Canary", "BlueGreen"', field: 'spec.strategy' },
    ]);
    await expect(cluster.kube.get(plans('invalid-enum'))).rejects.toMatchObject({ status: 404 });
  });

  it('minimum and maximum, several at once: one cause each, all listed in the message', async () => {
    await createPlan('invalid-many');
    const answer = await raw(HttpMethod.PATCH, planPath('invalid-many'), {
      contentType: MERGE,
      body: { spec: { steps: [{ weight: 0 }, { weight: 101 }, { weight: 'x' }], targets: [{ provider: 'nope' }] } },
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(invalidBody('invalid-many'));
    const expected: Cause[] = [
      { reason: 'FieldValueInvalid', message: 'Invalid value: 0: spec.steps[0].weight in body should be greater than or equal to 1', field: 'spec.steps[0].weight' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: 101: spec.steps[1].weight in body should be less than or equal to 100', field: 'spec.steps[1].weight' },
      { reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.steps[2].weight in body must be of type integer: "string"', field: 'spec.steps[2].weight' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "nope": supported values: "nginx", "gatewayAPI", "istio", "smi", "service"', field: 'spec.targets[0].provider' },
    ];
    expect(sortedCauses(answer.body)).toEqual(expected.sort((a, b) => (a.field + a.message < b.field + b.message ? -1 : 1)));
    const message = String(answer.body['message']);
    expect(message.startsWith('MigrationPlan.trafficshift.io "invalid-many" is invalid: [')).toBe(true);
    for (const c of expected) expect(message).toContain(`${c.field}: ${c.message}`);
  });

  it('a malformed date-time and a null list item are type errors too (FieldValueTypeInvalid)', async () => {
    await createPlan('invalid-format');
    const answer = await raw(HttpMethod.PATCH, planPath('invalid-format', 'status'), { contentType: MERGE, body: { status: { stepStartedAt: 'yesterday', checks: [null] } } });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(invalidBody('invalid-format'));
    expect(sortedCauses(answer.body)).toEqual([
      { reason: 'FieldValueTypeInvalid', message: 'Invalid value: "null": status.checks[0] in body must be of type object: "null"', field: 'status.checks[0]' },
      { reason: 'FieldValueTypeInvalid', message: 'Invalid value: "yesterday": status.stepStartedAt in body must be of type date-time: "yesterday"', field: 'status.stepStartedAt' },
    ]);
  });

  it('a required field: FieldValueRequired', async () => {
    const answer = await raw(HttpMethod.POST, planPath(), { body: { ...plan('invalid-required'), spec: { targets: [TARGET] } } });
    expect(answer.status).toBe(422);
    expect(answer.body['message']).toBe('MigrationPlan.trafficshift.io "invalid-required" is invalid: spec.steps: Required value');
    expect(sortedCauses(answer.body)).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.steps' }]);
  });
});

describe('status subresource', () => {
  it('a write to /status changes status only; spec and metadata changes in it are ignored', async () => {
    const created = await createPlan('sub-status');
    const answer = await raw(HttpMethod.PATCH, planPath('sub-status', 'status'), {
      contentType: MERGE,
      body: { metadata: { labels: { a: 'b' } }, spec: { paused: true }, status: { phase: 'Paused' } },
    });
    expect(answer.status).toBe(200);
    expect(spec(answer.body)['paused']).toBe(false);
    expect((answer.body['metadata'] as { labels?: unknown }).labels).toBeUndefined();
    expect(answer.body['status']).toEqual({ phase: 'Paused' });
    expect(meta(answer.body).generation).toBe(meta(created).generation);
  });

  it('a write to the main resource leaves status alone (PUT and merge patch)', async () => {
    await createPlan('sub-main');
    await cluster.kube.mergePatch(plans('sub-main'), { status: { phase: 'Progressing' } }, { subresource: 'status' });
    const patched = await cluster.kube.mergePatch(plans('sub-main'), { spec: { paused: true }, status: { phase: 'Failed' } });
    expect(patched['status']).toEqual({ phase: 'Progressing' });
    expect(spec(patched)['paused']).toBe(true);
    const replaced = await cluster.kube.replace(plans('sub-main'), { ...patched, status: { phase: 'Succeeded' } });
    expect(replaced['status']).toEqual({ phase: 'Progressing' });
  });

  it('a status-only change through the main resource is a no-op', async () => {
    const created = await createPlan('sub-noop');
    const patched = await cluster.kube.mergePatch(plans('sub-noop'), { status: { phase: 'Failed' } });
    expect(meta(patched).resourceVersion).toBe(meta(created).resourceVersion);
    expect(patched['status']).toBeUndefined();
  });
});

describe('generation and resourceVersion', () => {
  it('generation starts at 1 and moves on spec changes only', async () => {
    const created = await createPlan('gen');
    expect(meta(created).generation).toBe(1);
    const spec1 = await cluster.kube.mergePatch(plans('gen'), { spec: { paused: true } });
    expect(meta(spec1).generation).toBe(2);
    const annotated = await cluster.kube.mergePatch(plans('gen'), { metadata: { annotations: { a: '1' }, labels: { l: 'v' } } });
    expect(meta(annotated).generation).toBe(2);
    const finalized = await cluster.kube.mergePatch(plans('gen'), { metadata: { finalizers: ['trafficshift.io/test'] } });
    expect(meta(finalized).generation).toBe(2);
    const status = await cluster.kube.mergePatch(plans('gen'), { status: { phase: 'Paused' } }, { subresource: 'status' });
    expect(meta(status).generation).toBe(2);
    const spec2 = await cluster.kube.jsonPatch(plans('gen'), [{ op: 'replace', path: '/spec/paused', value: false }]);
    expect(meta(spec2).generation).toBe(3);
    await cluster.kube.mergePatch(plans('gen'), { metadata: { finalizers: null } });
  });

  it('resourceVersion changes on every write that changes something, and not on a no-op', async () => {
    const created = await createPlan('rv');
    const seen = [meta(created).resourceVersion];
    const writes: Array<() => Promise<KubeObject>> = [
      () => cluster.kube.mergePatch(plans('rv'), { spec: { paused: true } }),
      () => cluster.kube.mergePatch(plans('rv'), { metadata: { annotations: { a: '1' } } }),
      () => cluster.kube.mergePatch(plans('rv'), { status: { phase: 'Paused' } }, { subresource: 'status' }),
      async () => {
        const current = await cluster.kube.get(plans('rv'));
        return cluster.kube.replace(plans('rv'), { ...current, spec: { ...spec(current), description: 'x' } });
      },
    ];
    for (const write of writes) {
      const rv = meta(await write()).resourceVersion;
      expect(seen).not.toContain(rv);
      seen.push(rv);
    }
    const last = seen[seen.length - 1];
    // No-ops: the same merge patch again, a PUT of what was read, a status patch with the same status.
    expect(meta(await cluster.kube.mergePatch(plans('rv'), { spec: { paused: true } })).resourceVersion).toBe(last);
    expect(meta(await cluster.kube.replace(plans('rv'), await cluster.kube.get(plans('rv')))).resourceVersion).toBe(last);
    expect(meta(await cluster.kube.mergePatch(plans('rv'), { status: { phase: 'Paused' } }, { subresource: 'status' })).resourceVersion).toBe(last);
    expect(meta(await cluster.kube.get(plans('rv'))).resourceVersion).toBe(last);
  });
});

describe('patches', () => {
  it('a merge patch replaces an HTTPRoute\'s backendRefs list whole', async () => {
    const ref = { ...REFS.httproutes, namespace: ns };
    await cluster.kube.create(ref, {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'route' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'monolith', port: 80, weight: 100 }, { name: 'checkout-svc', port: 80, weight: 0 }] }] },
    });
    const patched = await cluster.kube.mergePatch({ ...ref, name: 'route' }, { spec: { rules: [{ backendRefs: [{ name: 'checkout-svc', port: 80, weight: 100 }] }] } });
    const rules = spec(patched)['rules'] as Array<{ backendRefs: unknown[]; matches?: unknown }>;
    expect(rules).toHaveLength(1);
    expect(rules[0]?.backendRefs).toEqual([{ group: '', kind: 'Service', name: 'checkout-svc', port: 80, weight: 100 }]);
    // The rule was replaced too, so its defaults come back fresh.
    expect(rules[0]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  it('a merge patch replaces a VirtualService\'s http[].route whole', async () => {
    const ref = { ...REFS.virtualservices, namespace: ns };
    await cluster.kube.create(ref, {
      apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'vs' },
      spec: { hosts: ['checkout'], http: [{ name: 'primary', route: [{ destination: { host: 'monolith' }, weight: 100 }, { destination: { host: 'checkout-svc' }, weight: 0 }] }] },
    });
    const patched = await cluster.kube.mergePatch({ ...ref, name: 'vs' }, { spec: { http: [{ name: 'primary', route: [{ destination: { host: 'checkout-svc' }, weight: 100 }] }] } });
    expect(spec(patched)['http']).toEqual([{ name: 'primary', route: [{ destination: { host: 'checkout-svc' }, weight: 100 }] }]);
  });

  it('a merge patch of a Service selector merges the map: a key goes only with null', async () => {
    const ref = { ...REFS.services, namespace: ns };
    await cluster.kube.create(ref, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { app: 'monolith', tier: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    const merged = await cluster.kube.mergePatch({ ...ref, name: 'svc' }, { spec: { selector: { app: 'checkout-svc' } } });
    expect(spec(merged)['selector']).toEqual({ app: 'checkout-svc', tier: 'web' });
    const nulled = await cluster.kube.mergePatch({ ...ref, name: 'svc' }, { spec: { selector: { tier: null } } });
    expect(spec(nulled)['selector']).toEqual({ app: 'checkout-svc' });
  });

  it('an Ingress annotation patch changes resourceVersion but not generation; a spec patch bumps it', async () => {
    const ref = { ...REFS.ingresses, namespace: ns };
    const created = await cluster.kube.create(ref, {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'ing', annotations: { 'nginx.ingress.kubernetes.io/canary': 'true' } },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'checkout-svc', port: { number: 80 } } } }] } }] },
    });
    expect(meta(created).generation).toBe(1);
    const annotated = await cluster.kube.mergePatch({ ...ref, name: 'ing' }, { metadata: { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': '25' } } });
    expect(meta(annotated).generation).toBe(1);
    expect(meta(annotated).resourceVersion).not.toBe(meta(created).resourceVersion);
    expect(meta(annotated).annotations).toEqual({ 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '25' });
    const same = await cluster.kube.mergePatch({ ...ref, name: 'ing' }, { metadata: { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': '25' } } });
    expect(meta(same).resourceVersion).toBe(meta(annotated).resourceVersion);
    const respec = await cluster.kube.mergePatch({ ...ref, name: 'ing' }, { spec: { ingressClassName: 'other' } });
    expect(meta(respec).generation).toBe(2);
  });

  it('null in a merge patch deletes a key (annotation, spec field)', async () => {
    await createPlan('nulls', { description: 'gone soon' }, { annotations: { keep: '1', drop: '2' } });
    const patched = await cluster.kube.mergePatch(plans('nulls'), { metadata: { annotations: { drop: null } }, spec: { description: null } });
    expect(meta(patched).annotations).toEqual({ keep: '1' });
    expect(spec(patched)).not.toHaveProperty('description');
  });

  it('a JSON patch whose test op fails is 422 and changes nothing', async () => {
    const created = await createPlan('json-test');
    const answer = await raw(HttpMethod.PATCH, planPath('json-test'), {
      contentType: JSON_PATCH,
      body: [{ op: 'test', path: '/spec/steps/0/weight', value: 20 }, { op: 'replace', path: '/spec/paused', value: true }],
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422,
    });
    const read = await cluster.kube.get(plans('json-test'));
    expect(meta(read).resourceVersion).toBe(meta(created).resourceVersion);
    expect(spec(read)['paused']).toBe(false);
    // The same test op holding applies the whole patch.
    const ok = await cluster.kube.jsonPatch(plans('json-test'), [{ op: 'test', path: '/spec/steps/0/weight', value: 50 }, { op: 'replace', path: '/spec/paused', value: true }]);
    expect(spec(ok)['paused']).toBe(true);
  });

  it('a strategic merge patch on a custom resource is 415', async () => {
    await createPlan('smp');
    const answer = await raw(HttpMethod.PATCH, planPath('smp'), { contentType: STRATEGIC, body: { spec: { paused: true } } });
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      reason: 'UnsupportedMediaType', code: 415,
    });
  });
  it('a create with a body in an unknown format is 415, naming the formats a create takes', async () => {
    const answer = await raw(HttpMethod.POST, planPath(), { contentType: 'text/plain', body: plan('text') });
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      reason: 'UnsupportedMediaType', code: 415,
    });
  });
});

describe('conflicts and not-found', () => {
  const conflict = (name: string): Record<string, unknown> => ({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: `Operation cannot be fulfilled on migrationplans.trafficshift.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    reason: 'Conflict', details: { name, group: GROUP, kind: 'migrationplans' }, code: 409,
  });

  it('a PUT carrying a stale resourceVersion is 409 Conflict', async () => {
    const created = await createPlan('stale-put');
    await cluster.kube.mergePatch(plans('stale-put'), { spec: { paused: true } });
    const answer = await raw(HttpMethod.PUT, planPath('stale-put'), { body: { ...created, spec: { ...spec(created), description: 'late' } } });
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual(conflict('stale-put'));
  });

  it('a merge patch carrying a stale metadata.resourceVersion is 409 Conflict; the current one passes', async () => {
    const created = await createPlan('stale-patch');
    const moved = await cluster.kube.mergePatch(plans('stale-patch'), { spec: { paused: true } });
    const answer = await raw(HttpMethod.PATCH, planPath('stale-patch'), { contentType: MERGE, body: { metadata: { resourceVersion: meta(created).resourceVersion }, spec: { description: 'late' } } });
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual(conflict('stale-patch'));
    const ok = await cluster.kube.mergePatch(plans('stale-patch'), { metadata: { resourceVersion: meta(moved).resourceVersion }, spec: { description: 'on time' } });
    expect(spec(ok)['description']).toBe('on time');
  });

  it('a missing object is 404 with its group and plural', async () => {
    const answer = await raw(HttpMethod.GET, planPath('nope'));
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'migrationplans.trafficshift.io "nope" not found', reason: 'NotFound',
      details: { name: 'nope', group: GROUP, kind: 'migrationplans' }, code: 404,
    });
  });

  it('in a missing namespace: GET names the object, create names the namespace (no group key)', async () => {
    const missing = `${ns}-missing`;
    const get = await raw(HttpMethod.GET, resourcePath({ ...REFS.plans, namespace: missing, name: 'x' }));
    expect(get.status).toBe(404);
    expect(get.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'migrationplans.trafficshift.io "x" not found', reason: 'NotFound',
      details: { name: 'x', group: GROUP, kind: 'migrationplans' }, code: 404,
    });
    const create = await raw(HttpMethod.POST, resourcePath({ ...REFS.plans, namespace: missing }), { body: plan('x') });
    expect(create.status).toBe(404);
    expect(create.body).toStrictEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: `namespaces "${missing}" not found`, reason: 'NotFound',
      details: { name: missing, kind: 'namespaces' }, code: 404,
    });
  });
});

describe('finalizers', () => {
  it('delete marks the object (deletionTimestamp, generation bumped) and keeps it; removing the finalizer removes it, and a watch sees DELETED', async () => {
    const created = await createPlan('fin', {}, { finalizers: ['trafficshift.io/rollback'] });
    const watch = await startWatch(planPath(), { resourceVersion: meta(created).resourceVersion, fieldSelector: 'metadata.name=fin' });
    try {
      const answer = await raw(HttpMethod.DELETE, planPath('fin'));
      expect(answer.status).toBe(200);
      expect(answer.body['kind']).toBe('MigrationPlan');
      const marked = meta(answer.body);
      expect(marked.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(marked.deletionGracePeriodSeconds).toBe(0);
      expect(marked.generation).toBe(2);
      expect(marked.resourceVersion).not.toBe(meta(created).resourceVersion);
      const still = await cluster.kube.get(plans('fin'));
      expect(meta(still).deletionTimestamp).toBe(marked.deletionTimestamp);
      expect(meta(still).finalizers).toEqual(['trafficshift.io/rollback']);
      // A second delete changes nothing.
      const again = await raw(HttpMethod.DELETE, planPath('fin'));
      expect(again.status).toBe(200);
      expect(meta(again.body).resourceVersion).toBe(marked.resourceVersion);

      await cluster.kube.mergePatch(plans('fin'), { metadata: { finalizers: null } });
      await expect(cluster.kube.get(plans('fin'))).rejects.toMatchObject({ status: 404 });
      await until(watch.events, (e) => e.some((x) => x.type === 'DELETED'), 'DELETED event');
      expect(watch.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
      expect(meta(watch.events[0]?.object ?? {}).deletionTimestamp).toBe(marked.deletionTimestamp);
    } finally {
      watch.stop();
    }
  });
});

describe('watches', () => {
  it('ADDED, MODIFIED and DELETED from a resourceVersion, each with the object\'s new resourceVersion', async () => {
    const start = await cluster.kube.list(plans());
    const watch = await startWatch(planPath(), { resourceVersion: start.resourceVersion });
    try {
      const created = await createPlan('watched');
      const patched = await cluster.kube.mergePatch(plans('watched'), { spec: { paused: true } });
      await cluster.kube.delete(plans('watched'));
      await until(watch.events, (e) => e.some((x) => x.type === 'DELETED' && meta(x.object).name === 'watched'), 'DELETED event');
      const mine = watch.events.filter((e) => meta(e.object).name === 'watched');
      expect(mine.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
      expect(meta(mine[0]?.object ?? {}).resourceVersion).toBe(meta(created).resourceVersion);
      expect(meta(mine[1]?.object ?? {}).resourceVersion).toBe(meta(patched).resourceVersion);
      expect(spec(mine[1]?.object ?? {})['paused']).toBe(true);
    } finally {
      watch.stop();
    }
  });

  it('a fieldSelector on metadata.name delivers that object only', async () => {
    const start = await cluster.kube.list(plans());
    const watch = await startWatch(planPath(), { resourceVersion: start.resourceVersion, fieldSelector: 'metadata.name=chosen' });
    try {
      await createPlan('other');
      await createPlan('chosen');
      await cluster.kube.mergePatch(plans('other'), { spec: { paused: true } });
      await cluster.kube.mergePatch(plans('chosen'), { spec: { paused: true } });
      await until(watch.events, (e) => e.some((x) => x.type === 'MODIFIED'), 'MODIFIED of chosen');
      expect(watch.events.map((e) => [e.type, meta(e.object).name])).toEqual([['ADDED', 'chosen'], ['MODIFIED', 'chosen']]);
    } finally {
      watch.stop();
    }
  });

  it('with allowWatchBookmarks and timeoutSeconds=2, the server closes the stream after the timeout and sends no BOOKMARK first', async () => {
    const created = await createPlan('bookmarks');
    const started = Date.now();
    const watch = await startWatch(planPath(), { resourceVersion: meta(created).resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 2 });
    const err = await Promise.race([watch.ended, new Promise((resolve) => setTimeout(() => resolve('still open'), 8_000))]);
    expect(err).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(watch.events).toEqual([]);
  });

  it('a resourceVersion that is too old: a 200 stream with one ERROR event, a 410 Expired Status', async () => {
    const watch = await startWatch(planPath(), { resourceVersion: '1' });
    const err = await Promise.race([watch.ended, new Promise((resolve) => setTimeout(() => resolve('still open'), 8_000))]);
    expect(err).toBeNull();
    expect(watch.events).toHaveLength(1);
    expect(watch.events[0]?.type).toBe('ERROR');
    expect(watch.events[0]?.object).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: expect.stringMatching(/^too old resource version: 1 \(\d+\)$/), reason: 'Expired', code: 410,
    });
  });
});

describe('MicroTime', () => {
  // trafficshift records its Events through the core v1 API (the events.k8s.io form is not used).
  const eventsRef = { group: '', version: 'v1', plural: 'events' };
  const event = (name: string, eventTime: string): KubeObject => ({
    apiVersion: 'v1', kind: 'Event', metadata: { name }, eventTime,
    reportingComponent: 'trafficshift.io/controller', reportingInstance: 'conformance', action: 'Started', reason: 'Started', type: 'Normal', message: 'hi',
    involvedObject: { apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', name: 'p', namespace: ns },
  });

  it('an Event\'s eventTime with 3 fractional digits is 400; with 6 it is created', async () => {
    const three = new Date().toISOString();
    const bad = await raw(HttpMethod.POST, resourcePath({ ...eventsRef, namespace: ns }), { body: event('three', three) });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'BadRequest', code: 400,
      message: `Event in version "v1" cannot be handled as a Event: parsing time "${three}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${three.slice(19)}" as ".000000"`,
    });
    const six = microTime(new Date());
    const ok = await raw(HttpMethod.POST, resourcePath({ ...eventsRef, namespace: ns }), { body: event('six', six) });
    expect(ok.status).toBe(201);
    expect(ok.body['eventTime']).toBe(six);
  });

  it('a Lease\'s renewTime with 3 fractional digits is 400', async () => {
    const three = '2026-11-27T10:00:00.123Z';
    const leases = resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: ns });
    const bad = await raw(HttpMethod.POST, leases, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a', renewTime: three } } });
    expect(bad.status).toBe(400);
    expect(bad.body['message']).toBe(`Lease in version "v1" cannot be handled as a Lease: parsing time "${three}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"`);
    const ok = await raw(HttpMethod.POST, leases, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a', renewTime: '2026-11-27T10:00:00.123456Z' } } });
    expect(ok.status).toBe(201);
  });
});

describe('dryRun=All', () => {
  it('a create answers 201 with the object as it would be, and stores nothing', async () => {
    const answer = await raw(HttpMethod.POST, planPath(), { query: { dryRun: 'All' }, body: plan('dry') });
    expect(answer.status).toBe(201);
    expect(spec(answer.body)['strategy']).toBe('Canary');
    expect(meta(answer.body).generation).toBe(1);
    expect(meta(answer.body).uid).toEqual(expect.any(String));
    await expect(cluster.kube.get(plans('dry'))).rejects.toMatchObject({ status: 404 });
  });

  it('a patch answers the patched object and changes nothing', async () => {
    const created = await createPlan('dry-patch');
    const answer = await raw(HttpMethod.PATCH, planPath('dry-patch'), { query: { dryRun: 'All' }, contentType: MERGE, body: { spec: { paused: true } } });
    expect(answer.status).toBe(200);
    expect(spec(answer.body)['paused']).toBe(true);
    const read = await cluster.kube.get(plans('dry-patch'));
    expect(spec(read)['paused']).toBe(false);
    expect(meta(read).resourceVersion).toBe(meta(created).resourceVersion);
  });
});

describe('RBAC', () => {
  // Needs a second, unprivileged kubeconfig (a user with no bindings): the in-process server has
  // no such user unless a test configures one, and this file configures nothing server-side.
  const run = UNPRIVILEGED_KUBECONFIG ? it : it.skip;
  if (!UNPRIVILEGED_KUBECONFIG) {
    // eslint-disable-next-line no-console
    console.log('skipping "RBAC: a user without rights gets 403": set TRAFFICSHIFT_E2E_KUBECONFIG_UNPRIVILEGED to the kubeconfig of a user with no RBAC bindings');
  }

  run('a user without rights gets 403 Forbidden naming the user, verb, resource, group and namespace', async () => {
    const kubeConfig = loadKubeConfig({ kubeconfig: UNPRIVILEGED_KUBECONFIG ?? '' });
    expect(fs.existsSync(UNPRIVILEGED_KUBECONFIG ?? '')).toBe(true);
    await createPlan('rbac');
    const forbidden = (message: RegExp, name?: string): Record<string, unknown> => ({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: expect.stringMatching(message), reason: 'Forbidden',
      details: { ...(name ? { name } : {}), group: GROUP, kind: 'migrationplans' }, code: 403,
    });
    const get = await raw(HttpMethod.GET, planPath('rbac'), { kubeConfig });
    expect(get.status).toBe(403);
    expect(get.body).toStrictEqual(forbidden(new RegExp(`^migrationplans\\.trafficshift\\.io "rbac" is forbidden: User "[^"]+" cannot get resource "migrationplans" in API group "trafficshift\\.io" in the namespace "${ns}"$`), 'rbac'));
    const list = await raw(HttpMethod.GET, planPath(), { kubeConfig });
    expect(list.status).toBe(403);
    expect(list.body).toStrictEqual(forbidden(new RegExp(`^migrationplans\\.trafficshift\\.io is forbidden: User "[^"]+" cannot list resource "migrationplans" in API group "trafficshift\\.io" in the namespace "${ns}"$`)));
    const patch = await raw(HttpMethod.PATCH, planPath('rbac', 'status'), { kubeConfig, contentType: MERGE, body: { status: { phase: 'Failed' } } });
    expect(patch.status).toBe(403);
    expect(patch.body).toStrictEqual(forbidden(new RegExp(`^migrationplans\\.trafficshift\\.io "rbac" is forbidden: User "[^"]+" cannot patch resource "migrationplans/status" in API group "trafficshift\\.io" in the namespace "${ns}"$`), 'rbac'));
  });
});
