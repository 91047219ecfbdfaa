// Starts a LocalKube for a test and hands out client-node clients built from the kubeconfig
// file it writes, so every call goes over HTTP exactly as against a real cluster.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Kube, loadKubeConfig } from '../../src/kube';
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

/** A raw HTTP request to the server (for what typed clients cannot express); over TLS it trusts the server's CA. */
export async function raw(server: LocalKube, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const url = new URL(`${server.url}${path}`);
  const all = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', ...headers };
  const sent = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== ''));
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const { status, text, received } = await new Promise<{ status: number; text: string; received: Headers }>((resolvePromise, reject) => {
    const options = { method, headers: sent, agent: false as const };
    const onResponse = (res: http.IncomingMessage): void => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const one of [v ?? []].flat()) h.append(k, one);
        resolvePromise({ status: res.statusCode ?? 0, text: data, received: h });
      });
    };
    const req = url.protocol === 'https:' ? https.request(url, { ...options, ca: server.caPem }, onResponse) : http.request(url, options, onResponse);
    req.on('error', reject);
    req.end(payload);
  });
  // A plain-text answer (/healthz) comes back as { text }.
  const json = !text ? {} : received.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : { text };
  return { status, json, headers: received };
}

export const kubectlFound = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

/** Runs the real kubectl binary against a kubeconfig; never rejects. */
export function kubectl(kubeconfigPath: string, cacheDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile('kubectl', ['--kubeconfig', kubeconfigPath, '--cache-dir', cacheDir, ...args], { timeout: 20000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** The project's own client (src/kube) for a kubeconfig the server wrote, with `token` as the user's. */
export function kubeAs(server: LocalKube, dir: string, token = server.token, namespace = 'default'): { kube: Kube; kubeconfigPath: string } {
  const kubeconfigPath = join(dir, `kubeconfig-${createHash('sha256').update(token).digest('hex').slice(0, 12)}`);
  server.writeKubeconfig(kubeconfigPath, namespace, token);
  return { kube: new Kube(loadKubeConfig({ kubeconfig: kubeconfigPath })), kubeconfigPath };
}
