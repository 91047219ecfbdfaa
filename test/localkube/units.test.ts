// Pure parts of localkube: patches, selectors, time parsing, pruning, printing helpers.
import { requestAttributes } from '../../src/localkube/auth';
import { microTimeError } from '../../src/localkube/builtins';
import { applyJsonPatch, decodeJsonPatch, Json, JsonPatchApplyError, mergePatch, strategicMergePatch } from '../../src/localkube/patch';
import { applyDefaults, isDateTime, prune, validateValue } from '../../src/localkube/schema';
import { parseFieldSelector, parseLabelSelector } from '../../src/localkube/selectors';
import { evaluateJsonPath, humanDuration } from '../../src/localkube/table';
import { PolicyRule, ruleAllows } from '../../src/localkube/rbac';
import { HistoryExpired, Store } from '../../src/localkube/store';

describe('JSON patch (RFC 6902)', () => {
  const doc = { a: [1, 2, 3], b: { c: 'x' } };
  it.each([
    [[{ op: 'add', path: '/a/-', value: 4 }], { a: [1, 2, 3, 4], b: { c: 'x' } }],
    [[{ op: 'add', path: '/a/0', value: 0 }], { a: [0, 1, 2, 3], b: { c: 'x' } }],
    [[{ op: 'remove', path: '/a/1' }], { a: [1, 3], b: { c: 'x' } }],
    [[{ op: 'replace', path: '/b/c', value: 'y' }], { a: [1, 2, 3], b: { c: 'y' } }],
    [[{ op: 'move', from: '/b/c', path: '/d' }], { a: [1, 2, 3], b: {}, d: 'x' }],
    [[{ op: 'copy', from: '/a/0', path: '/b/e' }], { a: [1, 2, 3], b: { c: 'x', e: 1 } }],
    [[{ op: 'test', path: '/a', value: [1, 2, 3] }], doc],
    [[{ op: 'add', path: '/b/k~1v', value: 1 }], { a: [1, 2, 3], b: { c: 'x', 'k/v': 1 } }],
  ])('%j', (ops, expected) => {
    expect(applyJsonPatch(doc, decodeJsonPatch(ops))).toStrictEqual(expected);
  });

  it('fails a test op and a replace of a missing key without touching the input', () => {
    expect(() => applyJsonPatch(doc, decodeJsonPatch([{ op: 'test', path: '/b/c', value: 'z' }]))).toThrow(new JsonPatchApplyError('testing value /b/c failed: test failed'));
    expect(() => applyJsonPatch(doc, decodeJsonPatch([{ op: 'replace', path: '/nope', value: 1 }]))).toThrow(JsonPatchApplyError);
    expect(doc).toStrictEqual({ a: [1, 2, 3], b: { c: 'x' } });
  });
});

describe('merge patches', () => {
  it('RFC 7386: null deletes, objects merge, lists are replaced', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [9] })).toStrictEqual({ a: { c: 2, d: 3 }, l: [9] });
  });
  it('strategic merge: merges ports by port and ignores $setElementOrder', () => {
    const current = { spec: { ports: [{ port: 80, name: 'a' }, { port: 81, name: 'b' }], selector: { app: 'x' } } };
    const patch: Json = { spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 81 }], ports: [{ port: 81, name: 'c' }, { port: 80, $patch: 'delete' }] } };
    expect(strategicMergePatch(current, patch)).toStrictEqual({ spec: { ports: [{ port: 81, name: 'c' }], selector: { app: 'x' } } });
  });
});

describe('selectors', () => {
  it.each([
    ['app=a', { app: 'a' }, true],
    ['app==a', { app: 'b' }, false],
    ['app!=a', {}, true],
    ['app in (a, b),tier notin (db)', { app: 'b', tier: 'web' }, true],
    ['app in (a, b),tier notin (db)', { app: 'b', tier: 'db' }, false],
    ['app', { app: '' }, true],
    ['!app', { app: 'a' }, false],
  ])('label selector %s on %j is %s', (selector, labels, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });
  it('refuses an unsupported field label with 400', () => {
    expect(() => parseFieldSelector('spec.x=1', 'Widget', 'v1', [])).toThrow(/not a known field selector/);
    expect(parseFieldSelector('metadata.name=a,metadata.namespace!=b', 'W', 'v1', [])({ metadata: { name: 'a', namespace: 'c' } })).toBe(true);
  });
});

describe('time parsing as strict as the Go server', () => {
  it.each([
    ['2026-11-27T09:48:29.142000Z', undefined],
    ['2026-11-27T09:48:29.142000+02:00', undefined],
    ['2026-11-27T09:48:29.142Z', 'cannot parse ".142Z" as ".000000"'],
    ['2026-11-27T09:48:29Z', 'cannot parse "Z" as ".000000"'],
    ['2026-11-27T09:48:29.142000000Z', 'cannot parse "000Z" as "Z07:00"'],
  ])('MicroTime %s', (value, error) => {
    const got = microTimeError(value);
    if (error === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(error);
  });
  it.each([
    ['2026-11-27T09:48:29Z', true],
    ['2026-11-27T09:48:29.1+01:00', true],
    ['2026-11-27t09:48:29z', true],
    ['2026-11-27T09:48:29', false],
    ['2026-02-30T09:48:29Z', false],
    ['2026-11-27 09:48:29Z', false],
  ])('date-time %s is %s', (value, ok) => {
    expect(isDateTime(value)).toBe(ok);
  });
});

describe('pruning, defaulting, validation', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          keep: { type: 'string' },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          map: { type: 'object', additionalProperties: { type: 'object', properties: { a: { type: 'integer', default: 7 } } } },
          list: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } },
          nul: { type: 'string' },
        },
      },
    },
  };
  it('drops unknown fields, keeps preserved ones, and reports what it dropped', () => {
    const obj = { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n', bogus: 1 }, spec: { keep: 'k', drop: 1, free: { any: 1 }, map: { x: { a: 1, b: 2 } }, list: [{ n: 1, z: 2 }], nul: null }, top: 1 };
    const pruned = prune(obj, schema);
    expect(pruned.sort()).toStrictEqual(['metadata.bogus', 'spec.drop', 'spec.list[0].z', 'spec.map.x.b', 'top']);
    expect(obj).toStrictEqual({ apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n' }, spec: { keep: 'k', free: { any: 1 }, map: { x: { a: 1 } }, list: [{ n: 1 }] } });
  });
  it('applies defaults inside additionalProperties', () => {
    const obj = { spec: { map: { x: {} } } };
    applyDefaults(obj, schema);
    expect(obj).toStrictEqual({ spec: { map: { x: { a: 7 } } } });
  });
  it('refuses duplicates in x-kubernetes-list-type map and set lists', () => {
    const mapList = { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, w: { type: 'integer' } } } };
    expect(validateValue([{ name: 'a', w: 1 }, { name: 'a', w: 2 }], mapList, 'spec.refs').map((e) => `${e.reason} ${e.field}`)).toStrictEqual(['FieldValueDuplicate spec.refs[1]']);
    const setList = { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } };
    expect(validateValue(['a', 'b'], setList, 'x')).toStrictEqual([]);
    expect(validateValue(['a', 'a'], setList, 'x')).toHaveLength(1);
  });

  it('reports a wrong type, a null and a bad date-time as FieldValueTypeInvalid, as kube-openapi\'s InvalidType maps', () => {
    const s = { type: 'object', properties: { n: { type: 'integer' }, items: { type: 'array', items: { type: 'object' } }, at: { type: 'string', format: 'date-time' } } };
    const errs = validateValue({ n: 'x', items: [null], at: 'yesterday' }, s, 'status');
    expect(errs.map((e) => ({ reason: e.reason, field: e.field, value: e.value, detail: e.detail }))).toStrictEqual([
      { reason: 'FieldValueTypeInvalid', field: 'status.n', value: 'string', detail: 'status.n in body must be of type integer: "string"' },
      { reason: 'FieldValueTypeInvalid', field: 'status.items[0]', value: 'null', detail: 'status.items[0] in body must be of type object: "null"' },
      { reason: 'FieldValueTypeInvalid', field: 'status.at', value: 'yesterday', detail: 'status.at in body must be of type date-time: "yesterday"' },
    ]);
  });

  it('reports oneOf and pattern failures', () => {
    const errs = validateValue({ v: 'ABC' }, { type: 'object', properties: { v: { type: 'string', pattern: '^[a-z]+$' } }, oneOf: [{ required: ['a'] }, { required: ['b'] }] }, '');
    expect(errs.map((e) => e.detail)).toStrictEqual(["v in body should match '^[a-z]+$'", '<root> in body must validate one and only one schema (oneOf)']);
  });
});

describe('printing', () => {
  it.each([
    [0, '0s'], [119_000, '119s'], [150_000, '2m30s'], [600_000, '10m'], [3 * 3600_000 + 60_000, '3h1m'], [30 * 3600_000, '30h'], [50 * 3600_000, '2d2h'], [400 * 86400_000, '400d'],
  ])('humanDuration(%d) = %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
  it('evaluates printer-column JSONPaths', () => {
    const obj = { status: { conditions: [{ type: 'A', status: 'False' }, { type: 'Ready', status: 'True' }], list: [5, 6] } };
    expect(evaluateJsonPath(obj, '.status.conditions[?(@.type=="Ready")].status')).toBe('True');
    expect(evaluateJsonPath(obj, '.status.list[1]')).toBe(6);
    expect(evaluateJsonPath(obj, '.status.missing')).toBeUndefined();
  });
});

describe('watch history window', () => {
  const obj = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' } });
  it('is kept per resource: a busy resource does not expire another one', () => {
    const store = new Store(2, 100);
    const a = store.write('g/plans', obj('a'), undefined);
    for (let i = 0; i < 5; i++) store.write('g/leases', obj(`l${i}`), undefined);
    expect(store.eventsSince('g/plans', Number(a.metadata.resourceVersion))).toStrictEqual([]);
    expect(() => store.eventsSince('g/leases', Number(a.metadata.resourceVersion))).toThrow(HistoryExpired);
  });
  it('expires everything before a compaction', () => {
    const store = new Store(10, 100);
    const a = store.write('g/plans', obj('a'), undefined);
    store.compact();
    expect(() => store.eventsSince('g/plans', Number(a.metadata.resourceVersion))).toThrow(HistoryExpired);
    expect(store.eventsSince('g/plans', store.currentRevision())).toStrictEqual([]);
  });
});

describe('request attributes (kube-apiserver RequestInfo)', () => {
  const info = (method: string, url: string) => {
    const u = new URL(url, 'http://x');
    return requestAttributes(u.pathname.split('/').filter(Boolean), method, u.searchParams, u.pathname);
  };
  it.each([
    ['GET', '/api/v1/namespaces/shop/services', { verb: 'list', group: '', resource: 'services', namespace: 'shop', name: '' }],
    ['GET', '/api/v1/namespaces/shop/services?watch=1', { verb: 'watch', resource: 'services' }],
    ['GET', '/api/v1/namespaces/shop/services?fieldSelector=metadata.name%3Dweb', { verb: 'list', name: 'web' }],
    ['GET', '/api/v1/namespaces/shop/services/web?watch=true', { verb: 'get', name: 'web' }],
    ['DELETE', '/api/v1/namespaces/shop/services', { verb: 'deletecollection' }],
    ['GET', '/api/v1/namespaces/shop', { verb: 'get', resource: 'namespaces', namespace: 'shop', name: 'shop' }],
    ['PUT', '/api/v1/namespaces/shop/finalize', { verb: 'update', resource: 'namespaces', name: 'shop', subresource: 'finalize' }],
    ['POST', '/api/v1/namespaces/shop/serviceaccounts/sa/token', { verb: 'create', resource: 'serviceaccounts', name: 'sa', subresource: 'token' }],
    ['PATCH', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans/x/status', { verb: 'patch', group: 'trafficshift.io', subresource: 'status' }],
    ['GET', '/apis/trafficshift.io/v1alpha1/migrationplans', { verb: 'list', namespace: '', resource: 'migrationplans' }],
  ])('%s %s is a resource request', (method, url, expected) => {
    const attrs = info(method, url);
    expect(attrs.path).toBeUndefined();
    expect(attrs).toMatchObject(expected);
  });
  it.each(['/api', '/api/v1', '/apis', '/apis/trafficshift.io', '/apis/trafficshift.io/v1alpha1', '/openapi/v3/api/v1', '/version', '/healthz'])('GET %s is a non-resource request', (path) => {
    expect(info('GET', path)).toMatchObject({ verb: 'get', path, resource: '' });
  });
});

describe('RBAC rule matching (rbac.RuleAllows)', () => {
  const attrs = { verb: 'get', group: 'trafficshift.io', resource: 'migrationplans', subresource: '', namespace: 'shop', name: 'x' };
  const rule = (r: PolicyRule): PolicyRule => ({ verbs: ['get'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'], ...r });
  it.each<[string, PolicyRule, Partial<typeof attrs> & { path?: string }, boolean]>([
    ['exact', rule({}), {}, true],
    ['another verb', rule({}), { verb: 'patch' }, false],
    ['verb *', rule({ verbs: ['*'] }), { verb: 'deletecollection' }, true],
    ['another group', rule({}), { group: 'x.io' }, false],
    ['group *', rule({ apiGroups: ['*'] }), { group: 'x.io' }, true],
    ['core group is ""', rule({ apiGroups: [''], resources: ['services'] }), { group: '', resource: 'services' }, true],
    ['resource * covers subresources', rule({ resources: ['*'] }), { subresource: 'status' }, true],
    ['plain resource does not cover its subresource', rule({}), { subresource: 'status' }, false],
    ['resource/subresource', rule({ resources: ['migrationplans/status'] }), { subresource: 'status' }, true],
    ['resource/subresource does not cover the resource', rule({ resources: ['migrationplans/status'] }), {}, false],
    ['*/subresource', rule({ resources: ['*/status'] }), { subresource: 'status' }, true],
    ['*/subresource is not another subresource', rule({ resources: ['*/status'] }), { subresource: 'scale' }, false],
    ['resourceNames match', rule({ resourceNames: ['x'] }), {}, true],
    ['resourceNames miss', rule({ resourceNames: ['y'] }), {}, false],
    ['resourceNames never match a nameless request', rule({ resourceNames: ['x'] }), { name: '', verb: 'get' }, false],
    ['non-resource exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, { path: '/healthz' }, true],
    ['non-resource prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { path: '/apis/trafficshift.io' }, true],
    ['non-resource without * is exact', { verbs: ['get'], nonResourceURLs: ['/apis'] }, { path: '/apis/x' }, false],
    ['resource rule never matches a path', rule({ resources: ['*'], apiGroups: ['*'], verbs: ['*'] }), { path: '/healthz' }, false],
  ])('%s', (_name, r, override, allowed) => {
    expect(ruleAllows({ ...attrs, ...override }, r)).toBe(allowed);
  });
});
