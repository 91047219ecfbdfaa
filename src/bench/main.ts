// `make bench`: what a platform team cares about, measured. Prints medians and ratios.
// - engine: the cost of one decide() call (pure CPU), for a 1-target and a 5-target plan;
// - rollback: time from a rollback request to every target holding 0, through the real
//   controller and the in-process API server over HTTP, for 1, 3 and 5 targets in lockstep;
// - steady state: heap and RSS with many plans under watch;
// - steering (steering.ts): REST rollback of a 3-target plan against the same 3 PATCHes sent
//   straight, over TLS, and the wall time of the `trafficshift rollback` command.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decide } from '../engine';
import { Controller, controllerKube } from '../controller/controller';
import { silentLogger } from '../controller/logger';
import { Kube, loadKubeConfig, type ResourceRef } from '../kube';
import { LocalKube } from '../localkube';
import { MigrationPlanSpec, type MigrationPlanStatus } from '../plan/schema';
import { requestRollback } from '../steering/requests';
import { benchSteering } from './steering';
import { createReadyBackends } from './backends';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
const fmt = (n: number, unit: string): string => `${n < 10 ? n.toFixed(3) : n.toFixed(1)} ${unit}`;

function nginxTarget(i: number): Record<string, unknown> {
  return { provider: 'nginx', nginx: { ingress: `web-${i}`, canaryIngress: `web-${i}-canary` } };
}

function benchEngine(targets: number): number[] {
  const spec = MigrationPlanSpec.parse({
    targets: Array.from({ length: targets }, (_, i) => nginxTarget(i)),
    steps: [{ weight: 5, pause: '1m' }, { weight: 25, pause: '1m' }, { weight: 50 }, { weight: 100 }],
    analysis: { interval: '30s', prometheus: { address: 'http://prom:9090' }, checks: [{ name: 'error-rate', query: 'x', max: 0.01 }, { name: 'p99', query: 'y', max: 0.5 }] },
  });
  let status: MigrationPlanStatus | undefined;
  let now = Date.UTC(2026, 10, 27);
  let weight = 0;
  const samples: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    now += 1000;
    const round = i % 30 === 0 ? { completedAt: now, outcomes: [{ name: 'error-rate', value: 0.001, result: 'Pass' as const }, { name: 'p99', value: 0.2, result: 'Pass' as const }] } : undefined;
    const t0 = performance.now();
    const d = decide(spec, status, { now, generation: 1, targets: Array.from({ length: targets }, () => ({ ok: true as const, weight })), requests: {}, ...(round ? { round } : {}) });
    samples.push((performance.now() - t0) * 1000);
    status = d.status;
    for (const a of d.actions) if (a.kind === 'setWeight') weight = a.weight;
    if (status.phase === 'Succeeded') {
      status = undefined;
      weight = 0;
    }
  }
  return samples.slice(1000);
}

const REFS = {
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' },
  plans: { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans' },
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
} satisfies Record<string, ResourceRef>;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    // 1 ms between polls: the bench shares the event loop with the controller it measures.
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function benchRollback(kube: Kube, ns: string, targets: number, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const name = `rb-${targets}-${run}`;
    const spec = { targets: Array.from({ length: targets }, (_, i) => ({ provider: 'nginx', nginx: { ingress: `${name}-${i}`, canaryIngress: `${name}-${i}-canary` } })), steps: [{ weight: 50 }, { weight: 100, pause: {} }] };
    for (let i = 0; i < targets; i++) {
      for (const [n, canary] of [[`${name}-${i}`, false], [`${name}-${i}-canary`, true]] as const) {
        await kube.create({ ...REFS.ingresses, namespace: ns }, {
          apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: n, annotations: canary ? { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' } : {} },
          spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: canary ? 'new' : 'old', port: { number: 80 } } } }] } }] },
        });
      }
    }
    await kube.create({ ...REFS.plans, namespace: ns }, { apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', metadata: { name }, spec });
    await until(async () => ((await kube.get({ ...REFS.plans, namespace: ns, name }))['status'] as { phase?: string } | undefined)?.phase === 'WaitingForPromotion', 10_000);
    const weights = async (): Promise<number[]> =>
      Promise.all(Array.from({ length: targets }, async (_, i) => {
        const obj = await kube.get({ ...REFS.ingresses, namespace: ns, name: `${name}-${i}-canary` });
        return Number((obj['metadata'] as { annotations: Record<string, string> }).annotations['nginx.ingress.kubernetes.io/canary-weight']);
      }));
    const t0 = performance.now();
    await requestRollback(kube, { namespace: ns, name }, 'bench');
    await until(async () => (await weights()).every((w) => w === 0), 10_000);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function main(): Promise<void> {
  console.log(`trafficshift bench — node ${process.version}, ${os.cpus().length} cpus`);
  console.log('\nengine: one decide() call (pure CPU), 19,000 calls after 1,000 warm-up');
  benchEngine(3); // JIT warm-up, so the first measured case is not charged for it
  const e1 = benchEngine(1);
  const e5 = benchEngine(5);
  console.log(`  1 target : median ${fmt(median(e1), 'µs')}  p99 ${fmt(pct(e1, 99), 'µs')}`);
  console.log(`  5 targets: median ${fmt(median(e5), 'µs')}  p99 ${fmt(pct(e5, 99), 'µs')}  ratio 5/1 ${(median(e5) / median(e1)).toFixed(2)}`);

  const server = new LocalKube();
  await server.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-bench-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  server.writeKubeconfig(kubeconfig);
  const kubeConfig = loadKubeConfig({ kubeconfig });
  const kube = new Kube(kubeConfig);
  const ns = 'bench';
  await kube.create(REFS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await createReadyBackends(kube, ns);
  const controller = new Controller({ kube: controllerKube(kubeConfig), namespace: ns, log: silentLogger() });
  await controller.start();
  try {
    console.log('\nrollback: rollback request -> every target at canary 0 (controller + in-process API server over HTTP), 15 runs each');
    const results: Array<[number, number[]]> = [];
    for (const t of [1, 3, 5]) results.push([t, await benchRollback(kube, ns, t, 15)]);
    const base = median(results[0]?.[1] ?? [1]);
    for (const [t, s] of results) {
      console.log(`  ${t} target${t > 1 ? 's' : ' '}: median ${fmt(median(s), 'ms')}  max ${fmt(Math.max(...s), 'ms')}  ratio to 1 target ${(median(s) / base).toFixed(2)}`);
    }
    global.gc?.();
    const mem = process.memoryUsage();
    console.log(`\nmemory after ${results.reduce((n, [, s]) => n + s.length, 0)} plans (controller + API server in one process): heap ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(mem.rss / 2 ** 20).toFixed(1)} MiB`);
  } finally {
    await controller.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const steering = await benchSteering(15, 5);
  console.log(`\nsteering: rollback of a ${3}-target plan until a watch sees every target at 0, over TLS with token auth (${steering.server}), 15 runs each, interleaved`);
  const rest = median(steering.rest);
  const direct = median(steering.direct);
  console.log(`  REST POST …/rollback (controller process, TokenReview + SubjectAccessReview on): median ${fmt(rest, 'ms')}  max ${fmt(Math.max(...steering.rest), 'ms')}`);
  console.log(`  the same 3 PATCHes sent straight by one client:                              median ${fmt(direct, 'ms')}  max ${fmt(Math.max(...steering.direct), 'ms')}`);
  console.log(`  ratio REST / straight: ${(rest / direct).toFixed(2)} (goal: at most 1.5)`);
  console.log(`  \`trafficshift rollback\` command, Node start-up to exit (waits for RolledBack): median ${fmt(median(steering.cli), 'ms')}  over ${steering.cli.length} runs`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
