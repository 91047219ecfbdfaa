// `make bench-scale PLANS="100 1000"`: the controller alone, at N plans. The API server runs in a
// process of its own (`trafficshift localkube`, fresh for each N) or is the cluster a kubeconfig
// names; the controller is the built `trafficshift controller` process, so its /metrics report
// its own CPU and memory. The webhook check receiver runs here.
//
// Per N: every plan has one nginx target (stable and canary Ingress, backends with a ready
// EndpointSlice for the readiness gate) and a webhook check. Nine tenths sit at rest at a
// promotion gate (`pause: {}`) after their first weight, checked every 10 s; one tenth migrate at
// once through timed pauses with a 1 s check interval. Everything is created before the
// controller starts, so all N plans start together.
//
//   node dist/bench/scale.js --plans 100,1000,5000 [--kubeconfig FILE] [--out DIR] [--cpu-prof DIR] [--heap-snapshot DIR]
//
// --cpu-prof DIR starts the controller under `node --cpu-prof`, writing one profile per N when it
// stops; --heap-snapshot DIR has it write a heap snapshot at the end of the at-rest window. results.json keeps the controller's API requests by verb and resource, which says where
// a reconcile's requests go.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { spawnTied, type TiedChild } from '../demo/childProcess';
import { controllerListening } from './controllerChild';
import { Informer, type KubeObject as CachedObject } from '../controller/informer';
import { kubeSource } from '../controller/kubeSource';
import { Kube, loadKubeConfig, type ResourceRef } from '../kube';
import { createReadyBackends } from './backends';
import { stepLags, summarize, svgChart, table, type ScaleRun, type StepTiming } from './scaleReport';

const CLI = path.resolve(__dirname, '../cli/main.js');
const REFS = {
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' },
  plans: { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans' },
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
} satisfies Record<string, ResourceRef>;
const WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';

const MIGRATING_STEPS = [10, 50, 100];
// Three check intervals: a round a full interval after the weight landed has passed by the time
// the pause ends, so the step is due at stepStartedAt + pause and not later.
const MIGRATING_PAUSE_MS = 4000;
const MIGRATING_INTERVAL = '1s';
const AT_REST_INTERVAL = '10s';
// Three at-rest check rounds.
const AT_REST_WINDOW_MS = 30_000;

interface Options {
  plans: number[];
  kubeconfig?: string;
  outDir: string;
  /** Where the controller writes a V8 CPU profile per N (node --cpu-prof), to find where its time goes. */
  cpuProfDir?: string;
  /** Where the controller writes a heap snapshot per N at the end of the at-rest window. */
  heapSnapshotDir?: string;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { plans: [100, 1000], outDir: 'bench' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--plans') {
      options.plans = next().split(/[ ,]+/).filter(Boolean).map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 10) throw new Error(`--plans: "${s}" is not a whole number of at least 10`);
        return n;
      });
    } else if (arg === '--kubeconfig') options.kubeconfig = next();
    else if (arg === '--out') options.outDir = next();
    else if (arg === '--cpu-prof') options.cpuProfDir = path.resolve(next());
    else if (arg === '--heap-snapshot') options.heapSnapshotDir = path.resolve(next());
    else throw new Error(`unknown argument ${arg}; usage: scale.js [--plans 100,1000,5000] [--kubeconfig FILE] [--out DIR] [--cpu-prof DIR] [--heap-snapshot DIR]`);
  }
  return options;
}

async function startLocalKube(dir: string): Promise<{ kubeconfig: string; child: TiedChild }> {
  const kubeconfig = path.join(dir, 'kubeconfig');
  const child = spawnTied(process.execPath, [CLI, 'localkube', '--port', '0', '--kubeconfig-out', kubeconfig], { output: { stdout: 'pipe', stderr: 'ignore' } });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('kubeconfig written to')) resolve();
    });
    void child.exited.then((code) => reject(new Error(`localkube exited with ${code}`)));
  });
  return { kubeconfig, child };
}

async function startController(kubeconfig: string, namespace: string, options: Pick<Options, 'cpuProfDir' | 'heapSnapshotDir'>): Promise<{ url: string; child: TiedChild }> {
  const args = [
    ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
    ...(options.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`] : []),
    CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', namespace, '--port', '0', '--log-format', 'json', '--auth', 'none'];
  const child = spawnTied(process.execPath, args, { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'pipe' } });
  const url = await controllerListening(child).url;
  return { url, child };
}

/** Sums every series of each named metric in a Prometheus text exposition. */
export function readMetrics(text: string, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    for (const name of names) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) out[name] = (out[name] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return out;
}

const METRICS = ['trafficshift_reconciles_total', 'trafficshift_kube_requests_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes'] as const;
type Sample = Record<(typeof METRICS)[number], number> & { at: number };

async function sample(url: string): Promise<Sample> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return { ...(readMetrics(text, METRICS) as Sample), at: Date.now() };
}

/** Every series of a metric, by its labels: where the API requests go, by verb and resource. */
export function seriesOf(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(name.length, line.lastIndexOf(' '));
    out[labels] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

/** The node process under a tied child's watchdog shell (its only child that is not the shell's reader). */
function nodeChildOf(shellPid: number): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === shellPid && stat.includes('(node)')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** SIGUSR2 to the controller (started with --heapsnapshot-signal), then waits for the file. */
async function heapSnapshot(controller: TiedChild, dir: string): Promise<void> {
  const pid = nodeChildOf(controller.pid);
  if (pid === undefined) {
    console.warn('  (no heap snapshot: the controller\'s node process was not found under /proc)');
    return;
  }
  const before = new Set(fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  process.kill(pid, 'SIGUSR2');
  let size = -1;
  await until('the heap snapshot', () => {
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file === undefined) return false;
    const now = fs.statSync(path.join(dir, file)).size;
    const done = now > 0 && now === size;
    size = now;
    if (done) console.log(`  heap snapshot: ${path.join(dir, file)}`);
    return done;
  }, 300_000);
}

async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      console.warn(`  (gave up waiting for ${what} after ${timeoutMs / 1000} s)`);
      return false;
    }
    await sleep(50);
  }
  return true;
}

function ingress(name: string, canary: boolean): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, annotations: canary ? { 'nginx.ingress.kubernetes.io/canary': 'true', [WEIGHT]: '0' } : {} },
    spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: canary ? 'new' : 'old', port: { number: 80 } } } }] } }] },
  };
}

function plan(name: string, migrating: boolean, webhookUrl: string): Record<string, unknown> {
  const steps = migrating
    ? MIGRATING_STEPS.map((weight, i) => (i < MIGRATING_STEPS.length - 1 ? { weight, pause: `${MIGRATING_PAUSE_MS / 1000}s` } : { weight }))
    : [{ weight: 10, pause: {} }, { weight: 50 }, { weight: 100 }];
  return {
    apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', metadata: { name },
    spec: {
      targets: [{ provider: 'nginx', nginx: { ingress: `${name}-stable`, canaryIngress: `${name}-canary` } }],
      steps,
      analysis: { interval: migrating ? MIGRATING_INTERVAL : AT_REST_INTERVAL, checks: [{ name: 'ok', webhook: { url: webhookUrl }, max: 1 }] },
    },
  };
}

async function startWebhook(): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"value": 0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/check`,
    calls: () => calls,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function runOnce(n: number, options: Options, webhook: Awaited<ReturnType<typeof startWebhook>>): Promise<ScaleRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-scale-'));
  let localkube: TiedChild | undefined;
  let controller: TiedChild | undefined;
  const informers: Array<Informer<CachedObject>> = [];
  let kube: Kube | undefined;
  try {
    let kubeconfig = options.kubeconfig;
    if (!kubeconfig) {
      const started = await startLocalKube(dir);
      kubeconfig = started.kubeconfig;
      localkube = started.child;
    }
    kube = new Kube(loadKubeConfig({ kubeconfig }));
    const server = localkube ? 'localkube (own process)' : kube.kubeConfig.getCurrentCluster()?.server ?? kubeconfig;
    const namespace = `scale-${n}-${randomBytes(3).toString('hex')}`;
    await kube.create(REFS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await createReadyBackends(kube, namespace);

    const migrating = Math.max(1, Math.round(n / 10));
    const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(5, '0')}`);
    const isMigrating = (name: string): boolean => Number(name.slice(1)) < migrating;

    // What the bench's own watches saw, with the time they saw it.
    const firstWeightAt = new Map<string, number>();
    const weightSeenAt = new Map<string, Map<number, number>>();
    const stepStartedAt = new Map<string, Map<number, number>>();
    const ingressInformer = new Informer<CachedObject>(kubeSource(kube, { ...REFS.ingresses, namespace }), {
      resyncMs: 0,
      onChange: (_key, obj) => {
        const meta = obj?.metadata as { name: string; annotations?: Record<string, string> } | undefined;
        const raw = meta?.annotations?.[WEIGHT];
        if (!meta || raw === undefined || !meta.name.endsWith('-canary')) return;
        const planName = meta.name.slice(0, -'-canary'.length);
        const weight = Number(raw);
        const now = Date.now();
        if (weight > 0 && !firstWeightAt.has(planName)) firstWeightAt.set(planName, now);
        const seen = weightSeenAt.get(planName) ?? new Map<number, number>();
        if (!seen.has(weight)) seen.set(weight, now);
        weightSeenAt.set(planName, seen);
      },
    });
    const planInformer = new Informer<CachedObject>(kubeSource(kube, { ...REFS.plans, namespace }), {
      resyncMs: 0,
      onChange: (_key, obj) => {
        const name = (obj?.metadata as { name?: string } | undefined)?.name;
        const status = (obj as { status?: { currentStep?: number; stepStartedAt?: string } } | undefined)?.status;
        if (!name || !isMigrating(name) || status?.stepStartedAt === undefined) return;
        const steps = stepStartedAt.get(name) ?? new Map<number, number>();
        steps.set(status.currentStep ?? 0, Date.parse(status.stepStartedAt));
        stepStartedAt.set(name, steps);
      },
    });
    informers.push(ingressInformer, planInformer);
    await Promise.all(informers.map((i) => i.start()));

    const created = Date.now();
    await pool(names, 16, async (name) => {
      await kube?.create({ ...REFS.ingresses, namespace }, ingress(`${name}-stable`, false));
      await kube?.create({ ...REFS.ingresses, namespace }, ingress(`${name}-canary`, true));
      await kube?.create({ ...REFS.plans, namespace }, plan(name, isMigrating(name), webhook.url));
    });
    console.log(`  ${n} plans (${migrating} migrating) and ${2 * n} Ingresses created in ${((Date.now() - created) / 1000).toFixed(1)} s in ${namespace}`);

    const spawnedAt = Date.now();
    const started = await startController(kubeconfig, namespace, options);
    controller = started.child;
    const url = started.url;
    await until('/readyz', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 120_000);
    const startupMs = Date.now() - spawnedAt;
    const first = await sample(url);

    const landedAll = await until('every first weight', () => firstWeightAt.size >= n, Math.max(120_000, n * 100));
    const firstWeightsMs = landedAll ? Math.max(...firstWeightAt.values()) - spawnedAt : null;
    console.log(`  start-up ${startupMs} ms; first weights: ${firstWeightAt.size}/${n}${firstWeightsMs === null ? '' : ` in ${(firstWeightsMs / 1000).toFixed(1)} s`}`);

    const migratingNames = names.filter(isMigrating);
    const last = MIGRATING_STEPS[MIGRATING_STEPS.length - 1] as number;
    await until('the migrating plans at their last weight', () => migratingNames.every((p) => weightSeenAt.get(p)?.has(last)), 120_000 + n * 50);
    // Succeeded follows the last weight; leave it a little time so that the window is at rest.
    await sleep(3000);

    const restStart = await sample(url);
    await sleep(AT_REST_WINDOW_MS);
    const restEnd = await sample(url);
    const finalMetrics = await (await fetch(`${url}/metrics`)).text();
    if (options.heapSnapshotDir) await heapSnapshot(controller, options.heapSnapshotDir);

    const timings: StepTiming[] = [];
    for (const p of migratingNames) {
      for (let step = 1; step < MIGRATING_STEPS.length; step++) {
        const previousStarted = stepStartedAt.get(p)?.get(step - 1);
        const writtenAt = weightSeenAt.get(p)?.get(MIGRATING_STEPS[step] as number);
        if (previousStarted !== undefined && writtenAt !== undefined) timings.push({ dueAt: previousStarted + MIGRATING_PAUSE_MS, writtenAt });
      }
    }
    const reconciles = restEnd.trafficshift_reconciles_total;
    return {
      plans: n,
      migrating,
      server,
      startupMs,
      firstWeightsMs,
      firstWeightsLanded: firstWeightAt.size,
      stepLagMs: summarize(stepLags(timings)),
      reconcilesPerSecond: (reconciles - first.trafficshift_reconciles_total) / ((restEnd.at - first.at) / 1000),
      reconcilesPerSecondAtRest: (restEnd.trafficshift_reconciles_total - restStart.trafficshift_reconciles_total) / ((restEnd.at - restStart.at) / 1000),
      apiRequestsPerReconcile: reconciles > 0 ? restEnd.trafficshift_kube_requests_total / reconciles : Number.NaN,
      rssMiB: restEnd.process_resident_memory_bytes / 2 ** 20,
      heapMiB: restEnd.nodejs_heap_size_used_bytes / 2 ** 20,
      cpuAtRestCores: (restEnd.process_cpu_seconds_total - restStart.process_cpu_seconds_total) / ((restEnd.at - restStart.at) / 1000),
      atRestWindowMs: restEnd.at - restStart.at,
      webhookCalls: webhook.calls(),
      kubeRequests: seriesOf(finalMetrics, 'trafficshift_kube_requests_total'),
      reconcileResults: seriesOf(finalMetrics, 'trafficshift_reconciles_total'),
    };
  } finally {
    await Promise.all(informers.map((i) => i.stop()));
    await controller?.stop(15_000);
    kube?.close();
    await localkube?.stop(5000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  for (const dir of [options.cpuProfDir, options.heapSnapshotDir]) if (dir) fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  console.log(`trafficshift scale bench — node ${process.version}, ${os.cpus().length} cpus; plans: ${options.plans.join(', ')}`);
  const runs: ScaleRun[] = [];
  for (const n of options.plans) {
    console.log(`\n${n} plans:`);
    const webhook = await startWebhook();
    try {
      runs.push(await runOnce(n, options, webhook));
    } finally {
      await webhook.close();
    }
  }
  console.log(`\n${table(runs)}`);
  fs.mkdirSync(options.outDir, { recursive: true });
  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    setup: { migratingSteps: MIGRATING_STEPS, migratingPauseMs: MIGRATING_PAUSE_MS, migratingInterval: MIGRATING_INTERVAL, atRestInterval: AT_REST_INTERVAL, atRestWindowMs: AT_REST_WINDOW_MS },
    runs,
  };
  fs.writeFileSync(path.join(options.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(options.outDir, 'lag-memory.svg'), svgChart(runs));
  console.log(`\nwrote ${path.join(options.outDir, 'results.json')} and ${path.join(options.outDir, 'lag-memory.svg')}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
