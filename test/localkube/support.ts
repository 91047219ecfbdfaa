// Starts a LocalKube for a test and hands out client-node clients built from the kubeconfig
// file it writes, so every call goes over HTTP exactly as against a real cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { LocalKube, LocalKubeOptions } from '../../src/localkube';
import { projectCrdFile, thirdPartyCrdFile } from '../../src/localkube/crd';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const PLAN_CRD = projectCrdFile();
export const HTTPROUTE_CRD = thirdPartyCrdFile('httpRoute');

export interface Harness {
  server: LocalKube;
  kc: k8s.KubeConfig;
  kubeconfigPath: string;
  core: k8s.CoreV1Api;
  networking: k8s.NetworkingV1Api;
  custom: k8s.CustomObjectsApi;
  coordination: k8s.CoordinationV1Api;
  stop(): Promise<void>;
}

export async function startHarness(options: LocalKubeOptions = {}, namespaces: string[] = ['shop']): Promise<Harness> {
  const server = new LocalKube({ crdFiles: [PLAN_CRD], ...options });
  await server.start();
  const dir = mkdtempSync(join(tmpdir(), 'localkube-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  server.writeKubeconfig(kubeconfigPath);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
  return {
    server,
    kc,
    kubeconfigPath,
    core,
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

export const MP = { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans' } as const;

export function plan(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'trafficshift.io/v1alpha1',
    kind: 'MigrationPlan',
    metadata: { name, namespace: 'shop' },
    spec: {
      strategy: 'Canary',
      targets: [{ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }],
      steps: [{ weight: 10 }, { weight: 100 }],
      ...spec,
    },
  };
}

/** The ApiException a call rejects with: its HTTP code and parsed Status body. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      const raw = e.body as unknown;
      const body = typeof raw === 'string' && raw ? (JSON.parse(raw) as Record<string, unknown>) : ((raw ?? {}) as Record<string, unknown>);
      return { code: e.code, body };
    }
    throw e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A raw HTTP request to the server (for what typed clients cannot express). */
export async function raw(server: LocalKube, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}
