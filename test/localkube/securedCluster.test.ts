// TLS, RBAC and ServiceAccount tokens together, the way the e2e suite runs the controller with
// least privilege: an admin sets up ServiceAccounts, a Role and a RoleBinding, mints tokens with
// the TokenRequest API, and each token gets exactly what RBAC grants its account.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Kube, KubeError, type ResourceRef } from '../../src/kube';
import { Harness, kubeAs, kubectl, kubectlFound, plan, raw, startHarness } from './support';

const itWithKubectl = kubectlFound ? it : it.skip;
const NS = 'shop';
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces' };
const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', plural: 'serviceaccounts', namespace: NS };
const ROLES: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespace: NS };
const ROLE_BINDINGS: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespace: NS };
const PLANS: ResourceRef = { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace: NS };

let h: Harness;
let dir: string;
let admin: Kube;
let steererToken: string;
let nobodyToken: string;

beforeAll(async () => {
  h = await startHarness({ tls: true, authorization: 'RBAC', anonymous: false }, []);
  dir = mkdtempSync(join(tmpdir(), 'localkube-secured-'));
  admin = kubeAs(h.server, dir).kube;
  await admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (const name of ['steerer', 'nobody']) await admin.create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  await admin.create(ROLES, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'steerer' },
    rules: [{ apiGroups: ['trafficshift.io'], resources: ['migrationplans'], verbs: ['get', 'list', 'watch', 'patch'] }],
  });
  await admin.create(ROLE_BINDINGS, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'steerer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'steerer' },
    subjects: [{ kind: 'ServiceAccount', name: 'steerer', namespace: NS }],
  });
  await admin.create(PLANS, plan('checkout'));
  const core = h.kc.makeApiClient(k8s.CoreV1Api);
  const mint = async (name: string) => (await core.createNamespacedServiceAccountToken({ namespace: NS, name, body: { spec: { audiences: [] } } })).status?.token as string;
  steererToken = await mint('steerer');
  nobodyToken = await mint('nobody');
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('serves https only, and refuses a request without credentials (anonymous auth off)', async () => {
  expect(h.server.url).toMatch(/^https:\/\//);
  const { status, json } = await raw(h.server, 'GET', '/version', undefined, { authorization: '' });
  expect(status).toBe(401);
  expect(json).toStrictEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
});

it("the steerer's token reads and patches a plan, as its Role allows", async () => {
  const steerer = kubeAs(h.server, dir, steererToken, NS).kube;
  const read = await steerer.get({ ...PLANS, name: 'checkout' });
  expect((read['metadata'] as { name: string }).name).toBe('checkout');
  expect((await steerer.list(PLANS)).items).toHaveLength(1);
  const patched = await steerer.mergePatch({ ...PLANS, name: 'checkout' }, { metadata: { annotations: { 'trafficshift.io/rollback': 'now' } } });
  expect((patched['metadata'] as { annotations: Record<string, string> }).annotations['trafficshift.io/rollback']).toBe('now');
  await expect(steerer.delete({ ...PLANS, name: 'checkout' })).rejects.toMatchObject({ status: 403, reason: 'Forbidden' });
  await expect(steerer.get({ ...PLANS, namespace: 'default', name: 'checkout' })).rejects.toMatchObject({ status: 403 });
});

it("nobody's token is authenticated but forbidden, with the real Status body", async () => {
  const nobody = kubeAs(h.server, dir, nobodyToken, NS).kube;
  const error = await nobody.get({ ...PLANS, name: 'checkout' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(KubeError);
  expect(error).toMatchObject({ status: 403, reason: 'Forbidden' });
  const { status, json } = await raw(h.server, 'GET', `/apis/trafficshift.io/v1alpha1/namespaces/${NS}/migrationplans/checkout`, undefined, { authorization: `Bearer ${nobodyToken}` });
  expect(status).toBe(403);
  expect(json).toStrictEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'migrationplans.trafficshift.io "checkout" is forbidden: User "system:serviceaccount:shop:nobody" cannot get resource "migrationplans" in API group "trafficshift.io" in the namespace "shop"',
    reason: 'Forbidden',
    details: { name: 'checkout', group: 'trafficshift.io', kind: 'migrationplans' },
    code: 403,
  });
  // Authenticated users may still discover the API (system:discovery).
  expect((await raw(h.server, 'GET', '/apis', undefined, { authorization: `Bearer ${nobodyToken}` })).status).toBe(200);
});

it('a garbage token is 401', async () => {
  const garbage = kubeAs(h.server, dir, 'eyJhbGciOiJFUzI1NiJ9.e30.garbage', NS).kube;
  await expect(garbage.get({ ...PLANS, name: 'checkout' })).rejects.toMatchObject({ status: 401, reason: 'Unauthorized' });
});

it("SubjectAccessReview for the steerer's identity: patch allowed (with the binding as reason), delete not", async () => {
  const review = async (verb: string) => {
    const r = await raw(h.server, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'system:serviceaccount:shop:steerer',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'],
        resourceAttributes: { namespace: NS, verb, group: 'trafficshift.io', resource: 'migrationplans', name: 'checkout' },
      },
    });
    expect(r.status).toBe(201);
    return r.json.status;
  };
  expect(await review('patch')).toStrictEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "steerer/shop" of Role "steerer" to ServiceAccount "steerer/shop"' });
  expect(await review('delete')).toStrictEqual({ allowed: false });
  // The steerer asking for itself gets the same answer.
  const own = await raw(h.server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace: NS, verb: 'patch', group: 'trafficshift.io', resource: 'migrationplans' } },
  }, { authorization: `Bearer ${steererToken}` });
  expect(own.json.status).toStrictEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "steerer/shop" of Role "steerer" to ServiceAccount "steerer/shop"' });
});

it('minting a token is create on serviceaccounts/token, which the steerer lacks', async () => {
  const { status, json } = await raw(h.server, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/steerer/token`, { spec: {} }, { authorization: `Bearer ${steererToken}` });
  expect(status).toBe(403);
  expect(json.message).toBe('serviceaccounts "steerer" is forbidden: User "system:serviceaccount:shop:steerer" cannot create resource "serviceaccounts/token" in API group "" in the namespace "shop"');
});

itWithKubectl("kubectl with the steerer's token: get works, delete is forbidden", async () => {
  const { kubeconfigPath } = kubeAs(h.server, dir, steererToken, NS);
  const get = await kubectl(kubeconfigPath, join(dir, 'cache'), 'get', 'mp');
  expect(get.stderr).toBe('');
  expect(get.stdout).toMatch(/^checkout\s/m);
  const del = await kubectl(kubeconfigPath, join(dir, 'cache'), 'delete', 'mp', 'checkout');
  expect(del.code).not.toBe(0);
  expect(del.stderr.trim()).toBe('Error from server (Forbidden): migrationplans.trafficshift.io "checkout" is forbidden: User "system:serviceaccount:shop:steerer" cannot delete resource "migrationplans" in API group "trafficshift.io" in the namespace "shop"');
  const token = await kubectl(h.kubeconfigPath, join(dir, 'cache-admin'), '-n', NS, 'create', 'token', 'nobody');
  expect(token.stdout.trim().split('.')).toHaveLength(3);
});
