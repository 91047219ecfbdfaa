// The REST rollback against the floor: the time from `POST …/rollback` to the moment a watch sees
// every target of a 3-target plan at canary 0, beside the same 3 PATCHes sent straight by one
// client on one keep-alive connection, through the same API server, in the same run. Both run
// over TLS with token auth, as clusters serve. The controller is the built `trafficshift
// controller` process with --auth=kubernetes (TokenReview and SubjectAccessReview on), and the
// API server is `trafficshift localkube --tls` in a process of its own, or the cluster named by
// TRAFFICSHIFT_BENCH_KUBECONFIG. Also times the `trafficshift rollback` command, Node start-up
// included.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { spawnTied, type TiedChild } from '../demo/childProcess';
import { controllerListening } from './controllerChild';
import { Informer, type KubeObject as CachedObject } from '../controller/informer';
import { kubeSource } from '../controller/kubeSource';
import { Kube, loadKubeConfig, type ResourceRef } from '../kube';
import { planResource, plansResource } from '../plan/ref';
import { createReadyBackends } from './backends';

const CLI = path.resolve(__dirname, '../cli/main.js');
const INGRESSES = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' } satisfies ResourceRef;
const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces' } satisfies ResourceRef;
const WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
const TARGETS = 3;

export interface SteeringBenchResult {
  rest: number[];
  direct: number[];
  cli: number[];
  server: string;
}

/** Canary weights as the bench's own watch last saw them, and waiters for a condition on them. */
class WeightWatch {
  private readonly weights = new Map<string, number>();
  private waiters: Array<() => void> = [];
  readonly informer: Informer<CachedObject>;

  constructor(kube: Kube, namespace: string) {
    this.informer = new Informer<CachedObject>(kubeSource(kube, { ...INGRESSES, namespace }), {
      resyncMs: 0,
      onChange: (_key, obj) => {
        const meta = obj?.metadata as { name: string; annotations?: Record<string, string> } | undefined;
        const value = meta?.annotations?.[WEIGHT];
        if (meta && value !== undefined) this.weights.set(meta.name, Number(value));
        for (const wake of this.waiters.splice(0)) wake();
      },
    });
  }

  /** Resolves with performance.now() at the first change after which every name holds `weight`. */
  async until(names: readonly string[], weight: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (names.every((n) => this.weights.get(n) === weight)) return performance.now();
      if (Date.now() > deadline) throw new Error(`bench: the watch did not see ${names.join(', ')} at ${weight} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

async function startLocalKube(dir: string): Promise<{ kubeconfig: string; child: TiedChild }> {
  const kubeconfig = path.join(dir, 'kubeconfig');
  const child = spawnTied(process.execPath, [CLI, 'localkube', '--tls', '--port', '0', '--kubeconfig-out', kubeconfig], { output: { stdout: 'pipe', stderr: 'ignore' } });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('kubeconfig written to')) resolve();
    });
    void child.exited.then((code) => reject(new Error(`localkube exited with ${code}`)));
  });
  return { kubeconfig, child };
}

async function startController(kubeconfig: string, namespace: string): Promise<{ url: string; child: TiedChild }> {
  const args = [CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', namespace, '--port', '0', '--log-format', 'json', '--auth', 'kubernetes'];
  const child = spawnTied(process.execPath, args, { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'pipe' } });
  const url = await controllerListening(child).url;
  for (;;) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok) return { url, child };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function makeTargets(kube: Kube, namespace: string, name: string, weight: number): Promise<string[]> {
  const canaries: string[] = [];
  for (let i = 0; i < TARGETS; i++) {
    for (const canary of [false, true]) {
      const object = `${name}-${i}${canary ? '-canary' : ''}`;
      await kube.create({ ...INGRESSES, namespace }, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: object, annotations: canary ? { 'nginx.ingress.kubernetes.io/canary': 'true', [WEIGHT]: String(weight) } : {} },
        spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: canary ? 'new' : 'old', port: { number: 80 } } } }] } }] },
      });
      if (canary) canaries.push(object);
    }
  }
  return canaries;
}

/** A 3-target plan held at canary 50 by a promotion gate: what a rollback starts from. */
async function planAt50(kube: Kube, watch: WeightWatch, namespace: string, name: string): Promise<string[]> {
  const canaries = await makeTargets(kube, namespace, name, 0);
  const targets = Array.from({ length: TARGETS }, (_, i) => ({ provider: 'nginx', nginx: { ingress: `${name}-${i}`, canaryIngress: `${name}-${i}-canary` } }));
  await kube.create(plansResource(namespace), {
    apiVersion: 'trafficshift.io/v1alpha1',
    kind: 'MigrationPlan',
    metadata: { name },
    spec: { targets, steps: [{ weight: 50, pause: {} }, { weight: 100 }] },
  });
  await watch.until(canaries, 50);
  const deadline = Date.now() + 30_000;
  while (((await kube.get(planResource({ namespace, name })))['status'] as { phase?: string } | undefined)?.phase !== 'WaitingForPromotion') {
    if (Date.now() > deadline) throw new Error(`bench: plan ${name} did not reach WaitingForPromotion`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return canaries;
}

export async function benchSteering(runs: number, cliRuns: number): Promise<SteeringBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-bench-steering-'));
  const children: TiedChild[] = [];
  const namespace = `ts-bench-${randomBytes(3).toString('hex')}`;
  let kube: Kube | undefined;
  let watch: WeightWatch | undefined;
  try {
    const external = process.env['TRAFFICSHIFT_BENCH_KUBECONFIG'];
    let kubeconfig: string;
    if (external) {
      kubeconfig = external;
    } else {
      const local = await startLocalKube(dir);
      children.push(local.child);
      kubeconfig = local.kubeconfig;
    }
    const kubeConfig = loadKubeConfig({ kubeconfig });
    const server = kubeConfig.getCurrentCluster()?.server ?? '?';
    const token = kubeConfig.getCurrentUser()?.token;
    if (!token) throw new Error('bench: the kubeconfig user has no bearer token, which the REST API needs');
    kube = new Kube(kubeConfig, { fieldManager: 'trafficshift-bench' });
    // The floor: one client, one keep-alive connection, three PATCHes one after the other.
    const direct = new Kube(kubeConfig, { fieldManager: 'trafficshift-bench-direct' });
    await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await createReadyBackends(kube, namespace);
    watch = new WeightWatch(kube, namespace);
    await watch.informer.start();
    const controller = await startController(kubeconfig, namespace);
    children.push(controller.child);

    const restOnce = async (run: string): Promise<number> => {
      const canaries = await planAt50(kube as Kube, watch as WeightWatch, namespace, run);
      const t0 = performance.now();
      const seen = (watch as WeightWatch).until(canaries, 0);
      const res = await fetch(`${controller.url}/api/v1/namespaces/${namespace}/plans/${run}/rollback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'bench' }),
      });
      if (res.status >= 300) throw new Error(`bench: rollback answered ${res.status}: ${await res.text()}`);
      return (await seen) - t0;
    };
    const directOnce = async (run: string): Promise<number> => {
      const canaries = await makeTargets(kube as Kube, namespace, run, 50);
      await (watch as WeightWatch).until(canaries, 50);
      const t0 = performance.now();
      const seen = (watch as WeightWatch).until(canaries, 0);
      for (const name of canaries) await direct.mergePatch({ ...INGRESSES, namespace, name }, { metadata: { annotations: { [WEIGHT]: '0' } } });
      return (await seen) - t0;
    };
    const cliOnce = async (run: string): Promise<number> => {
      await planAt50(kube as Kube, watch as WeightWatch, namespace, run);
      const t0 = performance.now();
      const child = spawnTied(process.execPath, [CLI, 'rollback', run, '-n', namespace, '--kubeconfig', kubeconfig, '--reason', 'bench'], { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'ignore' } });
      const code = await child.exited;
      if (code !== 0) throw new Error(`bench: trafficshift rollback exited with ${code}`);
      return performance.now() - t0;
    };

    // Warm-up, not counted: the first call of each path pays connection set-up, and the REST
    // API's first TokenReview and SubjectAccessReview (their answers are then cached).
    await restOnce('warm-rest');
    await directOnce('warm-direct');
    const rest: number[] = [];
    const directs: number[] = [];
    // Interleaved, so a slow patch of the machine hits both sides alike.
    for (let i = 0; i < runs; i++) {
      rest.push(await restOnce(`rest-${i}`));
      directs.push(await directOnce(`direct-${i}`));
    }
    const cli: number[] = [];
    for (let i = 0; i < cliRuns; i++) cli.push(await cliOnce(`cli-${i}`));
    return { rest, direct: directs, cli, server };
  } finally {
    await watch?.informer.stop();
    if (kube) {
      // Plans go while the controller still runs, so their finalizers come off.
      const plans = await kube.list(plansResource(namespace)).catch(() => ({ items: [] }));
      for (const item of plans.items) {
        const name = (item['metadata'] as { name: string }).name;
        await kube.delete(planResource({ namespace, name })).catch(() => undefined);
      }
      await kube.delete({ ...NAMESPACES, name: namespace }).catch(() => undefined);
      kube.close();
    }
    for (const child of children.reverse()) await child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
