// authorization: 'RBAC': decisions from Role, ClusterRole, RoleBinding and ClusterRoleBinding
// objects written through the API, the bootstrap policy, SubjectAccessReviews with the real
// reasons, impersonation, and kubectl (create role/rolebinding, get -o wide, auth can-i).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Kube, KubeError } from '../../src/kube';
import { Harness, kubeAs, kubectl, kubectlFound, MP, plan, raw, startHarness } from './support';

const itWithKubectl = kubectlFound ? it : it.skip;
const RBAC = 'rbac.authorization.k8s.io';
const PLANS = { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans' } as const;

let h: Harness;
let rbac: k8s.RbacAuthorizationV1Api;
let dir: string;
let bob: Kube;

beforeAll(async () => {
  h = await startHarness({
    // TLS: kubectl sends its token only over https; over http it would be system:anonymous.
    tls: true,
    authorization: 'RBAC',
    tokens: { 'bob-token': { username: 'bob', groups: ['sre'] }, 'carol-token': { username: 'carol' }, 'dave-token': { username: 'dave' } },
  }, ['shop', 'other']);
  rbac = h.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  dir = mkdtempSync(join(tmpdir(), 'localkube-rbac-'));
  bob = kubeAs(h.server, dir, 'bob-token').kube;
  for (const ns of ['shop', 'other']) {
    for (const name of ['x', 'y']) await h.custom.createNamespacedCustomObject({ ...MP, namespace: ns, body: { ...plan(name), metadata: { name, namespace: ns } } });
  }
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function as(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : { authorization: '' };
  return raw(h.server, method, path, body, headers);
}

async function sar(spec: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await raw(h.server, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
  expect(r.status).toBe(201);
  return r.json.status as Record<string, unknown>;
}

const planAttrs = (verb: string, namespace = 'shop', name = 'x') => ({ namespace, verb, group: 'trafficshift.io', resource: 'migrationplans', name });

async function role(namespace: string, name: string, rules: k8s.V1PolicyRule[]): Promise<void> {
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
}

async function binding(namespace: string, name: string, roleRef: { kind: string; name: string }, subjects: k8s.RbacV1Subject[]): Promise<void> {
  await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name }, roleRef: { apiGroup: RBAC, ...roleRef }, subjects } });
}

describe('bootstrap policy', () => {
  it('has cluster-admin and the discovery, basic-user and public-info roles with their bindings', async () => {
    const roles = (await rbac.listClusterRole()).items.map((r) => r.metadata?.name);
    expect(roles).toEqual(expect.arrayContaining(['cluster-admin', 'system:discovery', 'system:basic-user', 'system:public-info-viewer']));
    const admin = await rbac.readClusterRoleBinding({ name: 'cluster-admin' });
    expect(admin.roleRef).toEqual({ apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' });
    expect(admin.subjects).toEqual([{ kind: 'Group', apiGroup: RBAC, name: 'system:masters' }]);
    expect(admin.metadata?.labels).toEqual({ 'kubernetes.io/bootstrapping': 'rbac-defaults' });
  });

  it('lets any authenticated user discover the API, and everyone read /version and /healthz', async () => {
    for (const path of ['/api', '/api/v1', '/apis', '/apis/trafficshift.io/v1alpha1', '/openapi/v3', '/version']) {
      expect([path, (await as('carol-token', 'GET', path)).status]).toStrictEqual([path, 200]);
    }
    expect((await as('', 'GET', '/version')).status).toBe(200);
    expect(await as('', 'GET', '/healthz')).toMatchObject({ status: 200, json: { text: 'ok' } });
  });

  it('answers an anonymous discovery request 403 with the non-resource Status body', async () => {
    const { status, json } = await as('', 'GET', '/apis');
    expect(status).toBe(403);
    expect(json).toStrictEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'forbidden: User "system:anonymous" cannot get path "/apis"', reason: 'Forbidden', details: {}, code: 403,
    });
  });

  it('denies a user without bindings every resource, 403 before 404', async () => {
    const { status, json } = await as('carol-token', 'GET', '/apis/example.com/v1/namespaces/shop/gadgets');
    expect(status).toBe(403);
    expect(json.message).toBe('gadgets.example.com is forbidden: User "carol" cannot list resource "gadgets" in API group "example.com" in the namespace "shop"');
    expect((await as(h.server.token, 'GET', '/apis/example.com/v1/namespaces/shop/gadgets')).status).toBe(404);
  });
});

describe('Roles and RoleBindings', () => {
  beforeAll(async () => {
    await role('shop', 'plan-reader', [{ apiGroups: ['trafficshift.io'], resources: ['migrationplans'], verbs: ['get', 'list', 'watch'] }]);
    await binding('shop', 'bob-reads-plans', { kind: 'Role', name: 'plan-reader' }, [{ kind: 'User', name: 'bob' }]);
  });

  it('allows what the bound Role grants, in its namespace only', async () => {
    expect((await bob.get({ ...PLANS, namespace: 'shop', name: 'x' }))['metadata']).toMatchObject({ name: 'x' });
    expect((await bob.list({ ...PLANS, namespace: 'shop' })).items.map((i) => (i['metadata'] as { name: string }).name)).toStrictEqual(['x', 'y']);
    const patch = await bob.mergePatch({ ...PLANS, namespace: 'shop', name: 'x' }, { spec: { paused: true } }).catch((e: unknown) => e);
    expect(patch).toBeInstanceOf(KubeError);
    expect(patch).toMatchObject({ status: 403, reason: 'Forbidden' });
    expect((patch as KubeError).message).toContain('migrationplans.trafficshift.io "x" is forbidden: User "bob" cannot patch resource "migrationplans" in API group "trafficshift.io" in the namespace "shop"');
    await expect(bob.get({ ...PLANS, namespace: 'other', name: 'x' })).rejects.toMatchObject({ status: 403 });
    const all = await as('bob-token', 'GET', '/apis/trafficshift.io/v1alpha1/migrationplans');
    expect(all.status).toBe(403);
    expect(all.json.message).toBe('migrationplans.trafficshift.io is forbidden: User "bob" cannot list resource "migrationplans" in API group "trafficshift.io" at the cluster scope');
  });

  it('binds Groups, and a RoleBinding to a ClusterRole grants it in the binding namespace only', async () => {
    await rbac.createClusterRole({ body: { metadata: { name: 'plan-patcher' }, rules: [{ apiGroups: ['trafficshift.io'], resources: ['migrationplans'], verbs: ['patch'] }] } });
    await binding('other', 'sre-patches', { kind: 'ClusterRole', name: 'plan-patcher' }, [{ kind: 'Group', name: 'sre' }]);
    await bob.mergePatch({ ...PLANS, namespace: 'other', name: 'x' }, { metadata: { labels: { by: 'bob' } } });
    await expect(bob.mergePatch({ ...PLANS, namespace: 'shop', name: 'x' }, { metadata: { labels: { by: 'bob' } } })).rejects.toMatchObject({ status: 403 });
    expect(await sar({ user: 'bob', groups: ['sre'], resourceAttributes: planAttrs('patch', 'other') })).toStrictEqual({
      allowed: true, reason: 'RBAC: allowed by RoleBinding "sre-patches/other" of ClusterRole "plan-patcher" to Group "sre"',
    });
    expect(await sar({ user: 'bob', resourceAttributes: planAttrs('patch', 'other') })).toStrictEqual({ allowed: false });
  });

  it('a ClusterRoleBinding grants everywhere, cluster-scoped resources too', async () => {
    await rbac.createClusterRole({ body: { metadata: { name: 'ns-viewer' }, rules: [{ apiGroups: [''], resources: ['namespaces', 'services'], verbs: ['get', 'list'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'carol-views' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'ns-viewer' }, subjects: [{ kind: 'User', name: 'carol', apiGroup: RBAC }] } });
    expect((await as('carol-token', 'GET', '/api/v1/namespaces')).status).toBe(200);
    expect((await as('carol-token', 'GET', '/api/v1/namespaces/other/services')).status).toBe(200);
    expect((await as('carol-token', 'GET', '/api/v1/services')).status).toBe(200);
    expect(await sar({ user: 'carol', resourceAttributes: { verb: 'get', resource: 'namespaces', name: 'shop' } })).toStrictEqual({
      allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "carol-views" of ClusterRole "ns-viewer" to User "carol"',
    });
    await rbac.deleteClusterRoleBinding({ name: 'carol-views' });
    // No cache to wait for: the next request is decided from the store as it is now.
    expect((await as('carol-token', 'GET', '/api/v1/namespaces')).status).toBe(403);
  });

  it('resourceNames limit get to those names, and a list or watch to a metadata.name field selector', async () => {
    await role('shop', 'only-x', [{ apiGroups: ['trafficshift.io'], resources: ['migrationplans'], resourceNames: ['x'], verbs: ['get', 'list', 'update'] }]);
    await binding('shop', 'carol-only-x', { kind: 'Role', name: 'only-x' }, [{ kind: 'User', name: 'carol' }]);
    const base = '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans';
    expect((await as('carol-token', 'GET', `${base}/x`)).status).toBe(200);
    expect((await as('carol-token', 'GET', `${base}/y`)).status).toBe(403);
    expect((await as('carol-token', 'GET', base)).status).toBe(403);
    const pinned = await as('carol-token', 'GET', `${base}?fieldSelector=metadata.name%3Dx`);
    expect(pinned.status).toBe(200);
    expect((pinned.json.items as unknown[]).length).toBe(1);
  });

  it('matches resource/subresource, */subresource and * as RBAC does', async () => {
    await role('shop', 'status-writer', [
      { apiGroups: ['trafficshift.io'], resources: ['migrationplans/status'], verbs: ['update', 'patch'] },
      { apiGroups: ['*'], resources: ['*/finalize'], verbs: ['*'] },
    ]);
    await binding('shop', 'sa-writes-status', { kind: 'Role', name: 'status-writer' }, [{ kind: 'ServiceAccount', name: 'writer' }]);
    const user = 'system:serviceaccount:shop:writer';
    expect((await sar({ user, resourceAttributes: { ...planAttrs('patch'), subresource: 'status' } })).allowed).toBe(true);
    expect((await sar({ user, resourceAttributes: planAttrs('patch') })).allowed).toBe(false);
    expect((await sar({ user, resourceAttributes: { namespace: 'shop', verb: 'delete', group: 'x.io', resource: 'things', subresource: 'finalize' } })).allowed).toBe(true);
    expect((await sar({ user, resourceAttributes: { namespace: 'shop', verb: 'delete', group: 'x.io', resource: 'things' } })).allowed).toBe(false);
    // The subject's namespace defaults to the binding's: the same name elsewhere is someone else.
    expect((await sar({ user: 'system:serviceaccount:other:writer', resourceAttributes: { ...planAttrs('patch'), subresource: 'status' } })).allowed).toBe(false);
    expect(await sar({ user, resourceAttributes: { ...planAttrs('update'), subresource: 'status' } })).toStrictEqual({
      allowed: true, reason: 'RBAC: allowed by RoleBinding "sa-writes-status/shop" of Role "status-writer" to ServiceAccount "writer/shop"',
    });
  });

  it('non-resource URLs match exactly, by a trailing * prefix, or all with *', async () => {
    await rbac.createClusterRole({ body: { metadata: { name: 'metrics-reader' }, rules: [{ nonResourceURLs: ['/metrics', '/logs/*'], verbs: ['get'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'carol-metrics' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'metrics-reader' }, subjects: [{ kind: 'User', name: 'carol', apiGroup: RBAC }] } });
    const can = async (path: string, verb = 'get') => (await sar({ user: 'carol', nonResourceAttributes: { path, verb } })).allowed;
    expect(await can('/metrics')).toBe(true);
    expect(await can('/metrics/x')).toBe(false);
    expect(await can('/logs/kube-apiserver.log')).toBe(true);
    expect(await can('/metrics', 'post')).toBe(false);
    expect((await sar({ user: 'x', groups: ['system:masters'], nonResourceAttributes: { path: '/anything', verb: 'delete' } }))).toStrictEqual({ allowed: true });
  });

  it('a binding to a Role that does not exist grants nothing and says so in the 403 and the review', async () => {
    await binding('shop', 'dangling', { kind: 'Role', name: 'gone' }, [{ kind: 'User', name: 'dave' }]);
    expect(await sar({ user: 'dave', resourceAttributes: planAttrs('get') })).toStrictEqual({ allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found' });
    const { status, json } = await as('dave-token', 'GET', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans/x');
    expect(status).toBe(403);
    expect(json.message).toBe('migrationplans.trafficshift.io "x" is forbidden: User "dave" cannot get resource "migrationplans" in API group "trafficshift.io" in the namespace "shop": RBAC: role.rbac.authorization.k8s.io "gone" not found');
  });
});

describe('RBAC objects', () => {
  it('default a subject apiGroup and refuse a changed roleRef, a namespaced non-resource rule and an unknown subject kind with 422', async () => {
    await binding('shop', 'immutable', { kind: 'Role', name: 'plan-reader' }, [{ kind: 'User', name: 'erin' }]);
    const read = await rbac.readNamespacedRoleBinding({ namespace: 'shop', name: 'immutable' });
    expect(read.subjects).toEqual([{ kind: 'User', apiGroup: RBAC, name: 'erin' }]);
    const changed = await raw(h.server, 'PATCH', `/apis/${RBAC}/v1/namespaces/shop/rolebindings/immutable`, { roleRef: { name: 'other' } }, { 'content-type': 'application/merge-patch+json' });
    expect(changed.status).toBe(422);
    expect(changed.json.message).toBe('RoleBinding.rbac.authorization.k8s.io "immutable" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef');
    const nonResource = await raw(h.server, 'POST', `/apis/${RBAC}/v1/namespaces/shop/roles`, { metadata: { name: 'bad' }, rules: [{ nonResourceURLs: ['/x'], verbs: ['get'] }] });
    expect(nonResource.status).toBe(422);
    expect(nonResource.json.message).toBe('Role.rbac.authorization.k8s.io "bad" is invalid: rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs');
    const kind = await raw(h.server, 'POST', `/apis/${RBAC}/v1/clusterrolebindings`, { metadata: { name: 'bad' }, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'r' }, subjects: [{ kind: 'Robot', name: 'r2' }] });
    expect(kind.status).toBe(422);
    expect(kind.json.message).toBe('ClusterRoleBinding.rbac.authorization.k8s.io "bad" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"]');
  });
});

describe('impersonation', () => {
  it('runs the request as the impersonated user when the requester may impersonate, else 403', async () => {
    const whoami = async (headers: Record<string, string>) => raw(h.server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, headers);
    const asSa = await whoami({ 'impersonate-user': 'system:serviceaccount:shop:writer' });
    expect((asSa.json.status as Record<string, unknown>).userInfo).toStrictEqual({ username: 'system:serviceaccount:shop:writer', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] });
    const denied = await whoami({ authorization: 'Bearer bob-token', 'impersonate-user': 'alice' });
    expect(denied.status).toBe(403);
    expect(denied.json.message).toBe('users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
    const asBob = await raw(h.server, 'GET', '/apis/trafficshift.io/v1alpha1/namespaces/other/migrationplans/x', undefined, { 'impersonate-user': 'bob' });
    expect(asBob.status).toBe(403);
  });
});

describe('kubectl', () => {
  const run = (...args: string[]) => kubectl(h.kubeconfigPath, join(dir, 'cache'), '-n', 'shop', ...args);

  itWithKubectl('creates a Role and a RoleBinding (protobuf bodies) and lists them with their columns', async () => {
    expect((await run('create', 'role', 'svc-reader', '--verb=get,list', '--resource=services')).stdout.trim()).toBe('role.rbac.authorization.k8s.io/svc-reader created');
    expect((await run('create', 'rolebinding', 'svc-readers', '--role=svc-reader', '--user=frank', '--group=ops', '--serviceaccount=shop:steerer')).stdout.trim())
      .toBe('rolebinding.rbac.authorization.k8s.io/svc-readers created');
    const stored = await rbac.readNamespacedRoleBinding({ namespace: 'shop', name: 'svc-readers' });
    expect(stored.subjects).toEqual([
      { kind: 'User', apiGroup: RBAC, name: 'frank' },
      { kind: 'Group', apiGroup: RBAC, name: 'ops' },
      { kind: 'ServiceAccount', name: 'steerer', namespace: 'shop' },
    ]);
    const table = await run('get', 'rolebinding', 'svc-readers', '-o', 'wide');
    expect(table.stdout.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS']);
    expect(table.stdout.split('\n')[1]?.split(/\s+/)).toStrictEqual(['svc-readers', 'Role/svc-reader', expect.stringMatching(/^\d+s$/), 'frank', 'ops', 'shop/steerer']);
    const roles = await run('get', 'roles');
    expect(roles.stdout.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'CREATED', 'AT']);
  });

  itWithKubectl('auth can-i --as asks as the impersonated user, and --list shows its rules', async () => {
    expect((await run('auth', 'can-i', 'list', 'services', '--as=frank')).stdout.trim()).toBe('yes');
    expect((await run('auth', 'can-i', 'delete', 'services', '--as=frank')).stdout.trim()).toBe('no');
    expect((await run('auth', 'can-i', 'get', 'services', '--as=system:serviceaccount:shop:steerer')).stdout.trim()).toBe('yes');
    const list = await run('auth', 'can-i', '--list', '--as=frank');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^services\s+\[\]\s+\[\]\s+\[get list\]$/m);
    expect(list.stdout).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(list.stdout).toMatch(/^\s+\[\/apis\/\*\]\s+\[\]\s+\[get\]$/m);
  });

  itWithKubectl('a forbidden kubectl call prints the server 403', async () => {
    const bobConfig = kubeAs(h.server, dir, 'bob-token', 'shop').kubeconfigPath;
    const { code, stderr } = await kubectl(bobConfig, join(dir, 'cache-bob'), 'delete', 'mp', 'x');
    expect(code).not.toBe(0);
    expect(stderr.trim()).toBe('Error from server (Forbidden): migrationplans.trafficshift.io "x" is forbidden: User "bob" cannot delete resource "migrationplans" in API group "trafficshift.io" in the namespace "shop"');
  });
});
