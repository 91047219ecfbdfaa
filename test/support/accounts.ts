// ServiceAccounts with the rights a test gives them, and their tokens from the TokenRequest API
// (what `kubectl create token` does). Made through the run's admin client, in the run's
// namespace, so they work unchanged on the in-process server and on a real cluster with RBAC.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import type { TestCluster } from './cluster';

const SERVICE_ACCOUNTS = { group: '', version: 'v1', plural: 'serviceaccounts' };
const ROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles' };
const ROLE_BINDINGS = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings' };

export type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };

/** Rules on plans: `read` (get, list, watch) or `steer` (and patch). */
export function planRules(access: 'read' | 'steer'): PolicyRule[] {
  const verbs = access === 'read' ? ['get', 'list', 'watch'] : ['get', 'list', 'watch', 'patch'];
  return [{ apiGroups: ['trafficshift.io'], resources: ['migrationplans'], verbs }];
}

/** Creates ServiceAccount `name`, with a Role of `rules` bound to it when given (none: no binding at
 * all), and returns a token for it. */
export async function serviceAccountToken(cluster: TestCluster, name: string, rules?: PolicyRule[]): Promise<string> {
  const namespace = cluster.namespace;
  await cluster.kube.create({ ...SERVICE_ACCOUNTS, namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  if (rules) {
    await cluster.kube.create({ ...ROLES, namespace }, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules });
    await cluster.kube.create({ ...ROLE_BINDINGS, namespace }, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
  }
  const review = await cluster.kube.create(
    { ...SERVICE_ACCOUNTS, namespace, name },
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    { subresource: 'token' },
  );
  const token = (review['status'] as { token?: string } | undefined)?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${name}: ${JSON.stringify(review)}`);
  return token;
}

/** A kubeconfig in `dir` for `token` against the run's cluster: the same server and CA, the
 * token as its user, the run's namespace as its default. */
export function kubeconfigForToken(cluster: TestCluster, dir: string, label: string, token: string): string {
  const admin = yaml.load(fs.readFileSync(cluster.kubeconfigPath, 'utf8')) as {
    clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
    'current-context': string;
    contexts: Array<{ name: string; context: { cluster: string } }>;
  };
  const clusterName = admin.contexts.find((c) => c.name === admin['current-context'])?.context.cluster;
  const entry = admin.clusters.find((c) => c.name === clusterName);
  if (!entry) throw new Error(`no current cluster in ${cluster.kubeconfigPath}`);
  const file = path.join(dir, `${label}.kubeconfig`);
  fs.writeFileSync(file, yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: entry.cluster }],
    users: [{ name: label, user: { token } }],
    contexts: [{ name: label, context: { cluster: 'e2e', user: label, namespace: cluster.namespace } }],
    'current-context': label,
  }));
  return file;
}
