// `make soak DURATION=30m`: the controller kept busy for a long time, watched for leaks.
//
//   node dist/bench/soak.js --duration 30m [--kubeconfig FILE] [--report-every 1m] [--max-plans 20]
//
// The controller is the built `trafficshift controller` process, so what is measured is the
// controller alone; the API server is `trafficshift localkube` in a process of its own, or the
// cluster the given kubeconfig names (a namespace of the soak's own is made there and deleted at
// the end). A webhook check receiver in this process answers every check with a pass.
//
// The loop keeps at most --max-plans plans alive. Each plan has one nginx target (its stable and
// canary Ingress; the backends 'old' and 'new' are Services with a ready EndpointSlice, shared by
// every plan, since the readiness gate holds a canary with no ready endpoints), a webhook check,
// and steps 20 (3 s) → 50 (waits for a promote) → 100, and follows one of four scripts:
// promote to Succeeded; roll back; roll back, retry, roll back again; or be deleted mid-flight.
// A finished plan is deleted (the controller takes its finalizer off), then its Ingresses.
//
// Every 5 s it reads the controller's /metrics (RSS, heap used, open handles, event-loop lag p99);
// every --report-every it prints one line. At the end soakTrend.ts judges the series (the rule is
// written there): FAIL, exit 1, when heap or RSS grow steadily or open handles keep growing.
// It writes bench/soak.json. Every child dies with this process: on exit, on failure and on Ctrl-C.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { spawnTied, type TiedChild } from '../demo/childProcess';
import { controllerListening } from './controllerChild';
import { isNotFound, Kube, loadKubeConfig, type KubeObject, type ResourceRef } from '../kube';
import { formatDuration, parseDuration } from '../plan/duration';
import { planResource, plansResource } from '../plan/ref';
import type { Phase } from '../plan/schema';
import { requestPromote, requestRetry, requestRollback } from '../steering/requests';
import { createReadyBackends } from './backends';
import { judgeSoak, type SoakQuantity, type SoakSample, type SoakVerdict } from './soakTrend';

const CLI = path.resolve(__dirname, '../cli/main.js');
const INGRESSES = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' } satisfies ResourceRef;
const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces' } satisfies ResourceRef;
const SAMPLE_EVERY_MS = 5_000;
const TICK_MS = 500;
/** A plan that sits this long waiting for one phase counts as stuck, and is deleted. */
const STUCK_MS = 120_000;
const MiB = 2 ** 20;

interface Options {
  durationMs: number;
  reportEveryMs: number;
  kubeconfig: string | undefined;
  maxPlans: number;
  out: string;
}

function usage(message: string): never {
  console.error(`soak: ${message}\nusage: node dist/bench/soak.js --duration 30m [--kubeconfig FILE] [--report-every 1m] [--max-plans 20] [--out bench/soak.json]`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { durationMs: 30 * 60_000, reportEveryMs: 60_000, kubeconfig: undefined, maxPlans: 20, out: 'bench/soak.json' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (value === undefined) usage(`${flag} needs a value`);
    i++;
    try {
      if (flag === '--duration') options.durationMs = parseDuration(value);
      else if (flag === '--report-every') options.reportEveryMs = parseDuration(value);
      else if (flag === '--kubeconfig') options.kubeconfig = value;
      else if (flag === '--max-plans') options.maxPlans = Number(value);
      else if (flag === '--out') options.out = value;
      else usage(`unknown option ${flag}`);
    } catch (error) {
      usage(`${flag}: ${(error as Error).message}`);
    }
  }
  if (!(options.durationMs > 0) || !(options.reportEveryMs > 0)) usage('--duration and --report-every must be above 0');
  if (!Number.isInteger(options.maxPlans) || options.maxPlans < 1) usage('--max-plans must be a whole number above 0');
  return options;
}

// ---- children ----

const children: TiedChild[] = [];

async function startLocalKube(dir: string): Promise<string> {
  const kubeconfig = path.join(dir, 'kubeconfig');
  const child = spawnTied(process.execPath, [CLI, 'localkube', '--port', '0', '--kubeconfig-out', kubeconfig], { output: { stdout: 'pipe', stderr: 'ignore' } });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('kubeconfig written to')) resolve();
    });
    void child.exited.then((code) => reject(new Error(`localkube exited with ${code} before it wrote its kubeconfig`)));
  });
  return kubeconfig;
}

interface ControllerChild {
  url: string;
  child: TiedChild;
  /** The last log lines, for the report when it dies. */
  tail: string[];
}

async function startController(kubeconfig: string, namespace: string): Promise<ControllerChild> {
  const args = [CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', namespace, '--port', '0', '--log-format', 'json', '--auth', 'none'];
  const child = spawnTied(process.execPath, args, { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'pipe' } });
  children.push(child);
  const listening = controllerListening(child);
  const tail = listening.log;
  const url = await listening.url;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${url}/readyz`).catch(() => undefined))?.ok) {
    if (Date.now() > deadline) throw new Error(`controller at ${url} not ready within 30 s:\n${tail.join('\n')}`);
    await sleep(50);
  }
  return { url, child, tail };
}

/** The webhook check every plan calls: 200 with {"value": 0}, which passes `max: 0.5`. */
async function startCheckServer(): Promise<{ url: string; server: http.Server; calls: () => number }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"value":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`, server, calls: () => calls };
}

// ---- the controller's own figures ----

export interface ControllerSample {
  tMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** The heap V8 reserved, and memory outside it (Buffers): what explains RSS beside a flat heap. */
  heapTotalBytes: number;
  externalBytes: number;
  activeHandles: number;
  eventLoopLagP99Seconds: number;
}

/** The sum of every series of `name` (labels or none) in a Prometheus text exposition. */
export function metricValue(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.charAt(name.length);
    if (rest !== ' ' && rest !== '{') continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function sampleController(url: string, tMs: number): Promise<ControllerSample> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new Error(`${url}/metrics answered ${res.status}`);
  const text = await res.text();
  const need = (name: string): number => {
    const v = metricValue(text, name);
    if (v === undefined) throw new Error(`${url}/metrics has no ${name}`);
    return v;
  };
  return {
    tMs,
    rssBytes: need('process_resident_memory_bytes'),
    heapUsedBytes: need('nodejs_heap_size_used_bytes'),
    heapTotalBytes: need('nodejs_heap_size_total_bytes'),
    externalBytes: need('nodejs_external_memory_bytes'),
    activeHandles: need('nodejs_active_handles_total'),
    eventLoopLagP99Seconds: need('nodejs_eventloop_lag_p99_seconds'),
  };
}

// ---- the plan loop ----

type Step = { phase: Phase | 'AnyWeight'; action: 'promote' | 'rollback' | 'retry' | 'delete' };
const SCRIPTS: Record<string, Step[]> = {
  promote: [{ phase: 'WaitingForPromotion', action: 'promote' }, { phase: 'Succeeded', action: 'delete' }],
  rollback: [{ phase: 'WaitingForPromotion', action: 'rollback' }, { phase: 'RolledBack', action: 'delete' }],
  retry: [
    { phase: 'WaitingForPromotion', action: 'rollback' },
    { phase: 'RolledBack', action: 'retry' },
    { phase: 'WaitingForPromotion', action: 'rollback' },
    { phase: 'RolledBack', action: 'delete' },
  ],
  // Deleted while a step's pause runs: the finalizer puts stable back first.
  midflight: [{ phase: 'AnyWeight', action: 'delete' }],
};
const SCRIPT_NAMES = Object.keys(SCRIPTS);

interface LivePlan {
  name: string;
  script: string;
  step: number;
  since: number;
  deleting: boolean;
}

export interface SoakCounts {
  created: number;
  promoted: number;
  succeeded: number;
  rolledBack: number;
  retried: number;
  deleted: number;
  stuck: number;
  errors: number;
}

function nginxObjects(name: string): KubeObject[] {
  const ingress = (n: string, svc: string, annotations: Record<string, string>): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name: n, annotations },
    spec: { ingressClassName: 'nginx', rules: [{ host: `${name}.soak.example`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  });
  return [ingress(name, 'old', {}), ingress(`${name}-canary`, 'new', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' })];
}

class PlanLoop {
  readonly counts: SoakCounts = { created: 0, promoted: 0, succeeded: 0, rolledBack: 0, retried: 0, deleted: 0, stuck: 0, errors: 0 };
  readonly lastErrors: string[] = [];
  private readonly live = new Map<string, LivePlan>();
  private serial = 0;

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private maxPlans: number,
    private readonly checkUrl: string,
  ) {}

  get alive(): number {
    return this.live.size;
  }

  private error(what: string, error: unknown): void {
    this.counts.errors++;
    this.lastErrors.push(`${new Date().toISOString()} ${what}: ${(error as Error).message ?? String(error)}`);
    if (this.lastErrors.length > 10) this.lastErrors.shift();
  }

  private async create(): Promise<void> {
    const name = `soak-${++this.serial}`;
    // Round-robin through the scripts, so every kind of traffic runs in every stretch of the run.
    const script = SCRIPT_NAMES[(this.serial - 1) % SCRIPT_NAMES.length] as string;
    for (const body of nginxObjects(name)) await this.kube.create({ ...INGRESSES, namespace: this.namespace }, body);
    await this.kube.create(plansResource(this.namespace), {
      apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', metadata: { name },
      spec: {
        targets: [{ provider: 'nginx', nginx: { ingress: name, canaryIngress: `${name}-canary` } }],
        steps: [{ weight: 20, pause: '3s' }, { weight: 50, pause: {} }, { weight: 100 }],
        analysis: { interval: '2s', checks: [{ name: 'soak', webhook: { url: this.checkUrl }, max: 0.5 }] },
      },
    });
    this.counts.created++;
    this.live.set(name, { name, script, step: 0, since: Date.now(), deleting: false });
  }

  private async act(plan: LivePlan, action: Step['action']): Promise<void> {
    const ref = { namespace: this.namespace, name: plan.name };
    switch (action) {
      case 'promote':
        await requestPromote(this.kube, ref);
        this.counts.promoted++;
        return;
      case 'rollback':
        await requestRollback(this.kube, ref, 'soak');
        return;
      case 'retry':
        await requestRetry(this.kube, ref);
        this.counts.retried++;
        return;
      case 'delete':
        await this.kube.delete(planResource(ref));
        plan.deleting = true;
        return;
    }
  }

  private async removeTargets(name: string): Promise<void> {
    for (const n of [name, `${name}-canary`]) {
      await this.kube.delete({ ...INGRESSES, namespace: this.namespace, name: n }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
  }

  /** One pass: read every plan's phase, move each on by its script, and top up to maxPlans. */
  async tick(): Promise<void> {
    const list = await this.kube.list(plansResource(this.namespace));
    const phases = new Map<string, { phase: Phase | undefined }>();
    for (const item of list.items) {
      const name = (item['metadata'] as { name: string }).name;
      phases.set(name, { phase: (item['status'] as { phase?: Phase } | undefined)?.phase });
    }
    const now = Date.now();
    for (const plan of [...this.live.values()]) {
      try {
        const seen = phases.get(plan.name);
        if (plan.deleting) {
          if (seen === undefined) {
            await this.removeTargets(plan.name);
            this.live.delete(plan.name);
            this.counts.deleted++;
          } else if (now - plan.since > STUCK_MS) {
            this.counts.stuck++;
            this.error(`plan ${plan.name}`, new Error(`still there ${formatDuration(now - plan.since)} after its delete (phase ${seen.phase})`));
            plan.since = now;
          }
          continue;
        }
        const step = SCRIPTS[plan.script]?.[plan.step];
        if (step === undefined || seen === undefined) continue;
        const reached = step.phase === 'AnyWeight'
          ? seen.phase === 'Progressing' || seen.phase === 'WaitingForPromotion'
          : seen.phase === step.phase;
        if (reached) {
          if (seen.phase === 'RolledBack') this.counts.rolledBack++;
          if (seen.phase === 'Succeeded') this.counts.succeeded++;
          await this.act(plan, step.action);
          plan.step++;
          plan.since = now;
        } else if (now - plan.since > STUCK_MS) {
          this.counts.stuck++;
          this.error(`plan ${plan.name}`, new Error(`stuck in ${seen.phase ?? 'no phase'} for ${formatDuration(now - plan.since)}, waiting for ${step.phase}; deleting it`));
          await this.act(plan, 'delete');
          plan.since = now;
        }
      } catch (error) {
        this.error(`plan ${plan.name}`, error);
      }
    }
    while (this.live.size < this.maxPlans) {
      try {
        await this.create();
      } catch (error) {
        this.error('create', error);
        break;
      }
    }
  }

  /** Deletes every plan while the controller still runs (so their finalizers come off). */
  async drain(timeoutMs: number): Promise<void> {
    for (const plan of this.live.values()) {
      if (!plan.deleting) await this.act(plan, 'delete').catch(() => undefined);
    }
    const deadline = Date.now() + timeoutMs;
    while (this.live.size > 0 && Date.now() < deadline) {
      await this.tick().catch(() => undefined);
      await sleep(TICK_MS);
    }
  }

  /** tick() also tops up; draining must not, so it stops creating first. */
  stopCreating(): void {
    this.maxPlans = 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- the run ----

let interrupted = false;

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-soak-'));
  const namespace = `ts-soak-${randomBytes(3).toString('hex')}`;
  const checks = await startCheckServer();
  let kube: Kube | undefined;
  let loop: PlanLoop | undefined;
  try {
    const kubeconfig = options.kubeconfig ?? (await startLocalKube(dir));
    const kubeConfig = loadKubeConfig({ kubeconfig });
    const server = kubeConfig.getCurrentCluster()?.server ?? '?';
    kube = new Kube(kubeConfig, { fieldManager: 'trafficshift-soak' });
    await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await createReadyBackends(kube, namespace);
    const controller = await startController(kubeconfig, namespace);
    console.log(`trafficshift soak — node ${process.version}, ${os.cpus().length} cpus; ${formatDuration(options.durationMs)}, report every ${formatDuration(options.reportEveryMs)}, at most ${options.maxPlans} plans alive`);
    console.log(`API server ${server}${options.kubeconfig ? '' : ' (trafficshift localkube, its own process)'}; controller ${controller.url} (pid group ${controller.child.pid}); namespace ${namespace}`);
    // Either child dying ends the soak as a failure, with what it said last.
    const controllerDied = Promise.race([
      controller.child.exited.then((code) => {
        throw new Error(`the controller exited with ${code} during the soak:\n${controller.tail.join('\n')}`);
      }),
      ...children.filter((c) => c !== controller.child).map((c) => c.exited.then((code) => {
        throw new Error(`trafficshift localkube exited with ${code} during the soak`);
      })),
    ]);
    controllerDied.catch(() => undefined);

    loop = new PlanLoop(kube, namespace, options.maxPlans, checks.url);
    const samples: ControllerSample[] = [];
    const end = started + options.durationMs;
    let nextSample = Date.now();
    let nextReport = started + options.reportEveryMs;
    const line = (s: ControllerSample): string =>
      `[${formatDuration(Math.round(s.tMs / 1000) * 1000).padStart(6)}] rss ${(s.rssBytes / MiB).toFixed(1).padStart(6)} MiB  heap ${(s.heapUsedBytes / MiB).toFixed(1).padStart(6)} of ${(s.heapTotalBytes / MiB).toFixed(1).padStart(6)} MiB  external ${(s.externalBytes / MiB).toFixed(1).padStart(5)} MiB  handles ${String(s.activeHandles).padStart(4)}  lag p99 ${(s.eventLoopLagP99Seconds * 1000).toFixed(1).padStart(6)} ms  ` +
      `| alive ${String(loop?.alive).padStart(3)}  created ${loop?.counts.created}  rolled back ${loop?.counts.rolledBack}  retried ${loop?.counts.retried}  succeeded ${loop?.counts.succeeded}  deleted ${loop?.counts.deleted}  stuck ${loop?.counts.stuck}  errors ${loop?.counts.errors}  checks ${checks.calls()}`;
    while (Date.now() < end && !interrupted) {
      await Promise.race([loop.tick().catch((error: unknown) => { (loop as PlanLoop).counts.errors++; (loop as PlanLoop).lastErrors.push(String(error)); }), controllerDied]);
      const report = Date.now() >= nextReport;
      if (report || Date.now() >= nextSample) {
        const sample = await Promise.race([sampleController(controller.url, Date.now() - started), controllerDied]);
        samples.push(sample);
        nextSample = Date.now() + SAMPLE_EVERY_MS;
        if (report) {
          console.log(line(sample));
          nextReport += options.reportEveryMs;
        }
      }
      await sleep(TICK_MS);
    }
    if (interrupted) console.log('interrupted: judging what was sampled');
    const last = await sampleController(controller.url, Date.now() - started).catch(() => undefined);
    if (last) {
      samples.push(last);
      console.log(line(last));
    }

    const series = (pick: (s: ControllerSample) => number): SoakSample[] => samples.map((s) => ({ tMs: s.tMs, value: pick(s) }));
    const verdict = judgeSoak({ heap: series((s) => s.heapUsedBytes), rss: series((s) => s.rssBytes), handles: series((s) => s.activeHandles) });
    const progress = loop.counts.deleted > 0 ? [] : ['no plan went through its whole script (nothing was deleted): the loop made no progress'];
    const reasons = [...verdict.reasons, ...progress];
    printSummary(samples, verdict, loop, reasons);
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, `${JSON.stringify({
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      node: process.version,
      cpus: os.cpus().length,
      apiServer: options.kubeconfig ? server : 'trafficshift localkube (own process)',
      maxPlans: options.maxPlans,
      counts: loop.counts,
      checkCalls: checks.calls(),
      verdict: { pass: reasons.length === 0, reasons, trends: verdict.trends },
      samples,
      lastErrors: loop.lastErrors,
    }, null, 2)}\n`);
    console.log(`wrote ${options.out}`);
    loop.stopCreating();
    await loop.drain(30_000);
    return reasons.length === 0 ? 0 : 1;
  } finally {
    if (kube && options.kubeconfig) {
      // On a cluster of someone's, leave nothing behind: plans first (the controller still runs
      // and takes their finalizers off), then the namespace.
      if (loop) await loop.drain(30_000).catch(() => undefined);
      await kube.delete({ ...NAMESPACES, name: namespace }).catch(() => undefined);
    }
    await Promise.all(children.map((c) => c.stop(5_000)));
    checks.server.closeAllConnections();
    checks.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function printSummary(samples: readonly ControllerSample[], verdict: SoakVerdict, loop: PlanLoop, reasons: readonly string[]): void {
  const c = loop.counts;
  const max = (pick: (s: ControllerSample) => number): number => Math.max(...samples.map(pick));
  console.log('\nsummary');
  console.log(`  plans: created ${c.created}, promoted ${c.promoted}, succeeded ${c.succeeded}, rolled back ${c.rolledBack}, retried ${c.retried}, deleted ${c.deleted}, stuck ${c.stuck}, errors ${c.errors}`);
  if (samples.length > 0) {
    console.log(`  peaks: rss ${(max((s) => s.rssBytes) / MiB).toFixed(1)} MiB, heap ${(max((s) => s.heapUsedBytes) / MiB).toFixed(1)} MiB, handles ${max((s) => s.activeHandles)}, event-loop lag p99 ${(max((s) => s.eventLoopLagP99Seconds) * 1000).toFixed(1)} ms (${samples.length} samples, one per ${SAMPLE_EVERY_MS / 1000} s)`);
  }
  for (const q of ['heap', 'rss', 'handles'] as SoakQuantity[]) {
    const t = verdict.trends[q];
    const unit = q === 'handles' ? 1 : MiB;
    const u = q === 'handles' ? '' : ' MiB';
    console.log(`  ${q.padEnd(7)} after warm-up: ${t.judged ? `floor slope ${(t.slopePerMin / unit).toFixed(3)}${u}/min, fitted growth ${(t.growth / unit).toFixed(2)}${u}, floors ${t.floors.map((f) => (f.value / unit).toFixed(q === 'handles' ? 0 : 1)).join(' ')}` : 'too few samples to judge'}${t.growing ? '  GROWING' : ''}`);
  }
  for (const e of loop.lastErrors.slice(-5)) console.log(`  error: ${e}`);
  const unjudged = verdict.trends.heap.judged ? '' : ' (memory not judged: the run was too short)';
  console.log(reasons.length === 0 ? `PASS${unjudged}` : `FAIL\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
}

// Ctrl-C / TERM: stop the loop, judge what was sampled, clean up; a second one kills at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      for (const c of children) void c.kill();
      process.exit(130);
    }
    interrupted = true;
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    async (error: unknown) => {
      console.error(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      await Promise.all(children.map((c) => c.kill()));
      process.exit(1);
    },
  );
}
