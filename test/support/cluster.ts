// The end-to-end harness: a kubeconfig in, a namespace of its own per run. By default it starts
// the in-process API server; with TRAFFICSHIFT_E2E_KUBECONFIG set it uses that cluster as it is,
// and the same tests run unchanged. Nothing here reaches into the fake except `local`, which
// only tests named "(in-process only)" may touch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as yaml from 'js-yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { Kube, isNotFound, loadKubeConfig, type KubeObject, type ResourceRef } from '../../src/kube';
import { LocalKube } from '../../src/localkube';
import { defaultCrdFiles } from '../../src/localkube/crd';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const E2E_KUBECONFIG = process.env['TRAFFICSHIFT_E2E_KUBECONFIG'];

export interface TestCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  kube: Kube;
  namespace: string;
  /** The in-process server, absent against a real cluster. */
  local?: LocalKube;
  close(): Promise<void>;
}

const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces' };

function crdDocuments(): KubeObject[] {
  return defaultCrdFiles().flatMap((f) => yaml.loadAll(fs.readFileSync(f, 'utf8')) as KubeObject[]).filter((d) => d && d['kind'] === 'CustomResourceDefinition');
}

/** Applies our CRD (always, so the cluster has this build's schema) and the third-party CRDs the cluster lacks. */
async function ensureCrds(kube: Kube): Promise<void> {
  for (const crd of crdDocuments()) {
    const name = (crd['metadata'] as { name: string }).name;
    const ours = name.endsWith('.trafficshift.io');
    try {
      const existing = await kube.get({ ...CRDS, name });
      if (!ours) continue;
      const rv = (existing['metadata'] as { resourceVersion: string }).resourceVersion;
      await kube.replace({ ...CRDS, name }, { ...crd, metadata: { ...(crd['metadata'] as object), resourceVersion: rv } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await kube.create(CRDS, crd);
    }
    await waitFor(async () => {
      const obj = await kube.get({ ...CRDS, name });
      const conditions = ((obj['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []);
      return conditions.some((c) => c.type === 'Established' && c.status === 'True');
    }, 30_000, `CRD ${name} established`);
  }
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function runNamespace(label: string): string {
  return `ts-e2e-${label}-${randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
}

async function createNamespace(kube: Kube, namespace: string): Promise<void> {
  await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'trafficshift.io/e2e': 'true' } } });
}

/** Deletes a run's namespace. The controller is gone by then and nothing would remove its
 * finalizer, so it is stripped first, or a real cluster leaves the namespace Terminating. */
async function deleteNamespace(kube: Kube, namespace: string): Promise<void> {
  const plans = { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace };
  for (const item of (await kube.list(plans).catch(() => ({ items: [] as KubeObject[] }))).items) {
    const meta = item['metadata'] as { name: string; finalizers?: string[] };
    if (!meta.finalizers?.length) continue;
    await kube.mergePatch({ ...plans, name: meta.name }, { metadata: { finalizers: null } }).catch(() => undefined);
  }
  try {
    await kube.delete({ ...NAMESPACES, name: namespace });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Another namespace of the same cluster, for runs that must not see each other's plans. Its
 * close() deletes only the namespace. */
export async function extraNamespace(cluster: TestCluster, label: string): Promise<TestCluster> {
  const namespace = runNamespace(label);
  await createNamespace(cluster.kube, namespace);
  const { local: _local, ...shared } = cluster;
  return { ...shared, namespace, ...(cluster.local ? { local: cluster.local } : {}), close: () => deleteNamespace(cluster.kube, namespace) };
}

/** How the in-process server serves; a real cluster is used as it is. */
export interface ClusterOptions {
  /** HTTPS with a CA of its own, RBAC from Role and RoleBinding objects, no anonymous requests:
   * what a real cluster does, for the files that test who may do what. */
  secured?: boolean;
}

export async function startCluster(label: string, options: ClusterOptions = {}): Promise<TestCluster> {
  let local: LocalKube | undefined;
  let kubeconfigPath: string;
  let tmpDir: string | undefined;
  if (E2E_KUBECONFIG) {
    kubeconfigPath = E2E_KUBECONFIG;
  } else {
    local = new LocalKube(options.secured ? { tls: true, authorization: 'RBAC', anonymous: false } : {});
    await local.start();
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-e2e-'));
    kubeconfigPath = path.join(tmpDir, 'kubeconfig');
    local.writeKubeconfig(kubeconfigPath);
  }
  const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
  const kube = new Kube(kubeConfig, { fieldManager: 'trafficshift-e2e' });
  await ensureCrds(kube);
  const namespace = runNamespace(label);
  await createNamespace(kube, namespace);
  return {
    kubeconfigPath,
    kubeConfig,
    kube,
    namespace,
    ...(local ? { local } : {}),
    async close() {
      try {
        await deleteNamespace(kube, namespace);
      } finally {
        await local?.stop();
        if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
      }
    },
  };
}
