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
// Then, with the N plans still loaded and checked (issue 18, rollback under load): plans of three
// nginx targets are created and held at a gate, and rolled back by the REST request or a firing
// alert; each is timed from the request sent to the bench's watch seeing all three at 0, beside
// the bare cost of the same three PATCHes the bench sends itself to the same API server.
//
//   node dist/bench/scale.js --plans 100,1000,5000 [--kubeconfig FILE] [--out DIR] [--cpu-prof DIR] [--heap-snapshot DIR] [--rollbacks 5] [--controller-log DIR]
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
import { rollbackTable, stepLags, summarize, svgChart, table, type RollbackUnderLoad, type ScaleRun, type StepTiming } from './scaleReport';
import { WeightWatch } from './weightWatch';

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
// Issue 18's rollback under load: plans of three targets each, rolled back by the REST request or
// a firing alert, beside the same three PATCHes sent by the bench itself.
const ROLLBACK_TARGETS = 3;
const ROLLBACK_TIMEOUT_MS = 90_000;
const ROLLBACK_GATE_WEIGHT = 10;
const ALERT_LABEL = 'trafficshift_bench_plan';

interface Options {
  plans: number[];
  kubeconfig?: string;
  outDir: string;
  /** Where the controller writes a V8 CPU profile per N (node --cpu-prof), to find where its time goes. */
  cpuProfDir?: string;
  /** Where the controller writes a heap snapshot per N at the end of the at-rest window. */
  heapSnapshotDir?: string;
  /** How many times each of the REST rollback, the alert and the bare PATCHes is timed per N. */
  rollbacks: number;
  /** Where the controller's JSON log goes, one file per N: to read what a slow rollback waited on. */
  controllerLogDir?: string;
  /** node flags for the controller process (e.g. its heap sizes), as a deployment would set them. */
  nodeFlags: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { plans: [100, 1000], outDir: 'bench', rollbacks: 5, nodeFlags: [] };
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
    else if (arg === '--controller-log') options.controllerLogDir = path.resolve(next());
    else if (arg === '--node-flags') options.nodeFlags = next().split(/\s+/).filter(Boolean);
    else if (arg === '--rollbacks') {
      options.rollbacks = Number(next());
      if (!Number.isInteger(options.rollbacks) || options.rollbacks < 0) throw new Error('--rollbacks: a whole number, 0 to skip');
    } else throw new Error(`unknown argument ${arg}; usage: scale.js [--plans 100,1000,5000] [--kubeconfig FILE] [--out DIR] [--cpu-prof DIR] [--heap-snapshot DIR] [--rollbacks 5] [--controller-log DIR] [--node-flags "--max-semi-space-size=2"]`);
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

async function startController(kubeconfig: string, namespace: string, options: Pick<Options, 'cpuProfDir' | 'heapSnapshotDir' | 'nodeFlags'>, logFile?: string): Promise<{ url: string; child: TiedChild }> {
  const args = [
    ...options.nodeFlags,
    ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
    ...(options.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`] : []),
    CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', namespace, '--port', '0', '--log-format', 'json', '--auth', 'none'];
  const child = spawnTied(process.execPath, args, { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'pipe' } });
  if (logFile) {
    const out = fs.createWriteStream(logFile);
    createInterface({ input: child.child.stderr as NodeJS.ReadableStream }).on('line', (line) => out.write(`${line}\n`));
    void child.exited.then(() => out.end());
  }
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

/**
 * Mean duration and count of the controller's API requests by verb between two scrapes of its
 * /metrics: what one request cost it under its own load, beside the bench's bare PATCHes.
 */
export function requestLatencies(before: string, after: string): Record<string, { count: number; meanMs: number }> {
  const name = 'trafficshift_kube_request_duration_seconds';
  const [sum0, count0, sum1, count1] = [seriesOf(before, `${name}_sum`), seriesOf(before, `${name}_count`), seriesOf(after, `${name}_sum`), seriesOf(after, `${name}_count`)];
  const out: Record<string, { count: number; meanMs: number }> = {};
  for (const [labels, count] of Object.entries(count1)) {
    const n = count - (count0[labels] ?? 0);
    if (n <= 0) continue;
    const verb = /verb="([^"]*)"/.exec(labels)?.[1] ?? labels;
    out[verb] = { count: n, meanMs: ((sum1[labels] ?? 0) - (sum0[labels] ?? 0)) * 1000 / n };
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

/** A plan of ROLLBACK_TARGETS nginx targets held at a promotion gate after its first weight; its
 * alert label lets a firing alert name it. */
function rollbackPlan(name: string, webhookUrl: string): Record<string, unknown> {
  return {
    apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', metadata: { name },
    spec: {
      targets: Array.from({ length: ROLLBACK_TARGETS }, (_, t) => ({ provider: 'nginx', nginx: { ingress: `${name}-t${t}-stable`, canaryIngress: `${name}-t${t}-canary` } })),
      steps: [{ weight: ROLLBACK_GATE_WEIGHT, pause: {} }, { weight: 100 }],
      analysis: { interval: AT_REST_INTERVAL, checks: [{ name: 'ok', webhook: { url: webhookUrl }, max: 1 }] },
      rollback: { alertmanager: { matchLabels: { [ALERT_LABEL]: name } } },
    },
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

interface RollbackContext {
  kube: Kube;
  namespace: string;
  url: string;
  webhookUrl: string;
  watch: WeightWatch;
  recoverySeconds: ReadonlyMap<string, number>;
  repetitions: number;
}

const canaries = (name: string): string[] => Array.from({ length: ROLLBACK_TARGETS }, (_, t) => `${name}-t${t}-canary`);

async function createIngressPairs(kube: Kube, namespace: string, name: string): Promise<void> {
  await Promise.all(Array.from({ length: ROLLBACK_TARGETS }, async (_, t) => {
    await kube.create({ ...REFS.ingresses, namespace }, ingress(`${name}-t${t}-stable`, false));
    await kube.create({ ...REFS.ingresses, namespace }, ingress(`${name}-t${t}-canary`, true));
  }));
}

/** ms from `sentAt` to the watch seeing every one of `names` at 0, timing whatever `send` does. */
async function timeToZero(watch: WeightWatch, names: readonly string[], send: () => Promise<void>): Promise<number | null> {
  const seen = watch.until(names, 0, ROLLBACK_TIMEOUT_MS);
  const sentAt = Date.now();
  try {
    await send();
  } catch (error) {
    console.warn(`  (${error instanceof Error ? error.message : String(error)})`);
    return null;
  }
  const at = await seen;
  return at === null ? null : at - sentAt;
}

async function postJson(url: string, body: unknown, expect: (status: number, text: string) => boolean): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!expect(res.status, text)) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
}

/**
 * Per repetition: two fresh plans of three targets reach their gate weight, then one is rolled
 * back by the REST request and the other by a firing alert, one after the other, and the bench
 * sends the same three PATCHes itself on three Ingresses no plan names. Fresh plans, not a
 * retry: each repetition starts from a plan at its gate, as a real rollback does.
 */
async function measureRollbacks(ctx: RollbackContext): Promise<RollbackUnderLoad> {
  const { kube, namespace, url, watch } = ctx;
  const result: RollbackUnderLoad = { targets: ROLLBACK_TARGETS, rollbackMs: [], alertMs: [], bareMs: [], newPlanFirstWeightMs: [], reportedRecoveryMs: [] };
  const bare = canaries('bare');
  await createIngressPairs(kube, namespace, 'bare');
  const patchBare = (weight: number): Promise<unknown> =>
    Promise.all(bare.map((name) => kube.mergePatch({ ...REFS.ingresses, namespace, name }, { metadata: { annotations: { [WEIGHT]: String(weight) } } })));
  const log = (what: string, value: number | null): void => console.log(`    ${what}: ${value === null ? `not at 0 within ${ROLLBACK_TIMEOUT_MS / 1000} s` : `${value} ms`}`);
  for (let i = 0; i < ctx.repetitions; i++) {
    const restPlan = `rb${i}-rest`;
    const alertPlan = `rb${i}-alert`;
    await Promise.all([restPlan, alertPlan].map((name) => createIngressPairs(kube, namespace, name)));
    await Promise.all([restPlan, alertPlan].map(async (name) => {
      const atGate = watch.until(canaries(name), ROLLBACK_GATE_WEIGHT, ROLLBACK_TIMEOUT_MS);
      const createdAt = Date.now();
      await kube.create({ ...REFS.plans, namespace }, rollbackPlan(name, ctx.webhookUrl));
      const at = await atGate;
      result.newPlanFirstWeightMs.push(at === null ? null : at - createdAt);
    }));
    console.log(`  rollback ${i + 1}/${ctx.repetitions}: new plans at their gate in ${result.newPlanFirstWeightMs.slice(-2).map((v) => (v === null ? 'timeout' : `${v} ms`)).join(', ')}`);

    const rest = await timeToZero(watch, canaries(restPlan), () =>
      postJson(`${url}/api/v1/namespaces/${namespace}/plans/${restPlan}/rollback`, { reason: 'scale bench: rollback under load' }, (status) => status === 202 || status === 200));
    result.rollbackMs.push(rest);
    log('rollback request', rest);

    const alert = await timeToZero(watch, canaries(alertPlan), () =>
      postJson(`${url}/api/v1/alerts`, {
        version: '4', status: 'firing', receiver: 'trafficshift',
        alerts: [{ status: 'firing', labels: { alertname: 'ScaleBenchFiring', [ALERT_LABEL]: alertPlan }, startsAt: new Date().toISOString() }],
      }, (status, text) => status === 200 && (JSON.parse(text) as { rolledBack?: unknown[] }).rolledBack?.length === 1));
    result.alertMs.push(alert);
    log('firing alert', alert);

    await patchBare(ROLLBACK_GATE_WEIGHT);
    await watch.until(bare, ROLLBACK_GATE_WEIGHT, ROLLBACK_TIMEOUT_MS);
    const floor = await timeToZero(watch, bare, async () => {
      await patchBare(0);
    });
    result.bareMs.push(floor);
    log(`bare ${ROLLBACK_TARGETS} PATCHes`, floor);
    // The controller's own reading, once its status write has come through the watch.
    await sleep(1000);
    for (const name of [restPlan, alertPlan]) {
      const seconds = ctx.recoverySeconds.get(name);
      result.reportedRecoveryMs?.push(seconds === undefined ? null : Math.round(seconds * 1000));
    }
  }
  return result;
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
    const planNames = new Set(names);

    // What the bench's own watches saw, with the time they saw it.
    const firstWeightAt = new Map<string, number>();
    const weightSeenAt = new Map<string, Map<number, number>>();
    const stepStartedAt = new Map<string, Map<number, number>>();
    const canaryWeights = new WeightWatch();
    const recoverySeconds = new Map<string, number>();
    const ingressInformer = new Informer<CachedObject>(kubeSource(kube, { ...REFS.ingresses, namespace }), {
      resyncMs: 0,
      onChange: (_key, obj) => {
        const meta = obj?.metadata as { name: string; annotations?: Record<string, string> } | undefined;
        const raw = meta?.annotations?.[WEIGHT];
        if (!meta || raw === undefined || !meta.name.endsWith('-canary')) return;
        const now = Date.now();
        const weight = Number(raw);
        canaryWeights.see(meta.name, weight, now);
        const planName = meta.name.slice(0, -'-canary'.length);
        // The rollback plans' Ingresses and the bare ones are not the N plans'.
        if (!planNames.has(planName)) return;
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
        const status = (obj as { status?: { currentStep?: number; stepStartedAt?: string; rollback?: { recoverySeconds?: number } } } | undefined)?.status;
        if (name && status?.rollback?.recoverySeconds !== undefined) recoverySeconds.set(name, status.rollback.recoverySeconds);
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
    const started = await startController(kubeconfig, namespace, options, options.controllerLogDir ? path.join(options.controllerLogDir, `controller-${n}.log`) : undefined);
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

    // After the at-rest window, so that its CPU and request figures stay those of plans at rest;
    // the N plans stay loaded and their checks keep running meanwhile.
    let rollbackUnderLoad: RollbackUnderLoad | undefined;
    if (options.rollbacks > 0) {
      // prom-client resets its event-loop delay histogram at every scrape, so the p99 read after
      // the rollbacks covers just them.
      const metricsBefore = await (await fetch(`${url}/metrics`)).text();
      rollbackUnderLoad = await measureRollbacks({ kube, namespace, url, webhookUrl: webhook.url, watch: canaryWeights, recoverySeconds, repetitions: options.rollbacks });
      const metricsAfter = await (await fetch(`${url}/metrics`)).text();
      rollbackUnderLoad.controller = {
        eventLoopLagP99Ms: (readMetrics(metricsAfter, ['nodejs_eventloop_lag_p99_seconds'])['nodejs_eventloop_lag_p99_seconds'] as number) * 1000,
        requests: requestLatencies(metricsBefore, metricsAfter),
      };
    }
    canaryWeights.close();

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
      ...(rollbackUnderLoad ? { rollbackUnderLoad } : {}),
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
  for (const dir of [options.cpuProfDir, options.heapSnapshotDir, options.controllerLogDir]) if (dir) fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  console.log(`trafficshift scale bench — node ${process.version}, ${os.cpus().length} cpus; plans: ${options.plans.join(', ')}`);
  const runs: ScaleRun[] = [];
  for (const n of options.plans) {
    console.log(`\n${n} plans:`);
    const webhook = await startWebhook();
    try {
      const run = await runOnce(n, options, webhook);
      runs.push(run);
      if (run.rollbackUnderLoad) console.log(`\n${rollbackTable([run])}`);
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
    setup: {
      migratingSteps: MIGRATING_STEPS, migratingPauseMs: MIGRATING_PAUSE_MS, migratingInterval: MIGRATING_INTERVAL, atRestInterval: AT_REST_INTERVAL, atRestWindowMs: AT_REST_WINDOW_MS,
      rollbacks: options.rollbacks, rollbackTargets: ROLLBACK_TARGETS, rollbackTimeoutMs: ROLLBACK_TIMEOUT_MS,
    },
    loadAverage: os.loadavg(),
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
