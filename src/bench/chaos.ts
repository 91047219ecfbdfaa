// `make chaos RUNS=50 SEED=1`: seeded chaos runs of two controller replicas against a flaky API
// server. Each run starts a fresh in-process localkube (so faults are injected, and every write
// observed, from here), two real `trafficshift controller` processes with leader election on
// short leases, and N plans (nginx Ingress pairs and Gateway API HTTPRoutes). While the plans
// move it SIGKILLs whichever replica leads, K times, restarting it at once as a standby under a
// new identity (as a Deployment's new pod would be); one write in five is answered 500 or 409;
// every watch is ended now and then with a 410 Expired ERROR after a compaction, and some
// watch requests are refused with 410 outright.
//
// Judged at the server, at the instant of each write (localkube's write observer runs before the
// response, with the store exactly as that write left it):
//   a. every weight stored on a target is 0 or one of its plan's steps;
//   b. every controller write (plans, targets, events; Leases aside) comes from the replica the
//      stored Lease names at that instant: two replicas never both write;
//   c. each plan ends as seeded: Succeeded with each step's weight written exactly once, in order,
//      or (a failing check, a rollback request) RolledBack with a prefix of the steps then one 0.
//      A write that repeats the weight the target already holds counts: it is a second write;
//   d. nothing lost: every plan still exists, with a status and its finalizer.
//
//   node dist/bench/chaos.js --runs 50 --seed 1 [--plans 20] [--kills 3] [--parallel 2]
//
// Run i uses seed SEED+i; `--runs 1 --seed <that seed>` reruns it alone. The seed fixes the
// plans, which of them fail and from which step, the kill points and the fault draws; the
// interleaving with two processes' timers does not repeat exactly, so a rerun is the same
// scenario, not the same trace.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnTied, type TiedChild } from '../demo/childProcess';
import { controllerListening } from './controllerChild';
import { createReadyBackends } from './backends';
import { Kube, loadKubeConfig, type KubeObject, type ResourceRef } from '../kube';
import { LocalKube, type WriteRecord } from '../localkube';
import { FINALIZER, REQUEST_ANNOTATIONS, type Target } from '../plan/schema';
import * as gatewayApi from '../providers/gatewayApi';
import * as nginx from '../providers/nginx';
import { mulberry32 } from './seededRandom';

// dist/bench/chaos.js and src/bench/chaos.ts (under jest) both sit two levels below the root.
const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const NAMESPACE = 'chaos';
const LEASE = 'trafficshift-controller';
const STEPS = [10, 30, 60, 100];
// A pause after each step but the last, so kills land mid-plan rather than after it.
const PAUSE = '2s';
// leader.test.ts uses the same: a crashed leader is replaced within about 4 s.
const LEASE_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_MS = 500;
const WRITE_FAULT_FRACTION = 0.2;
const WATCH_REFUSAL_FRACTION = 0.1;
const WRITE_VERBS = ['create', 'update', 'patch', 'delete'];
const REFS = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: NAMESPACE },
  httproutes: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: NAMESPACE },
  plans: { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace: NAMESPACE },
} satisfies Record<string, ResourceRef>;

export interface ChaosOptions {
  /** Plans per run. */
  plans: number;
  /** Leader SIGKILLs per run. */
  kills: number;
  /** A run that has not settled by then fails with what it waited for. */
  runDeadlineMs: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
  /** Counts a rollback's 0 written again to a target already at 0 as a violation. By default it
   * is counted and reported (RolledBack asks only that every target ends at 0, and a second 0
   * moves no traffic), but does not fail the run. */
  strictRollback?: boolean;
  /** The harness's own test: replica slot b campaigns for a Lease of its own, so both replicas
   * lead and write. A run must then report them. */
  splitBrain?: boolean;
  /** Keeps every controller's whole log here, as <seed>/<identity>.log (default: the last lines only). */
  logDir?: string;
}

export const DEFAULTS: ChaosOptions = { plans: 20, kills: 3, runDeadlineMs: 120_000 };

type Fate = { kind: 'succeed' } | { kind: 'failCheck'; fromWeight: number } | { kind: 'rollbackRequest'; afterWeight: number };

interface PlanSetup {
  name: string;
  target: Target;
  fate: Fate;
  /** When it is created, after the controllers start. */
  createAtMs: number;
}

export interface KillRecord {
  identity: string;
  atMs: number;
  /** How long after the kill a replica led again (undefined when none did before the run ended). */
  takeoverMs?: number;
}

export interface PlanOutcome {
  name: string;
  provider: Target['provider'];
  expected: 'Succeeded' | 'RolledBack';
  phase: string | undefined;
  /** Every weight the controllers wrote to its target, in order. */
  writes: number[];
}

export interface FaultCounts {
  /** Write requests the server saw (faulted or not). */
  writeRequests: number;
  writes500: number;
  writes409: number;
  watchesRefused: number;
  /** Watch streams ended with a 410 ERROR event. */
  watchesExpired: number;
  expiryRounds: number;
}

export interface RunResult {
  seed: number;
  durationMs: number;
  kills: KillRecord[];
  plans: PlanOutcome[];
  faults: FaultCounts;
  violations: string[];
  /** Controller writes checked against the Lease, and of them the target weight writes. */
  judged: { writes: number; weightWrites: number };
  /** A rollback's 0 written again to a target at 0 (violations only with strictRollback). */
  repeatedZeros: string[];
  /** The last log lines of each controller process of the run, when it has violations. */
  logs: Record<string, string[]>;
}

/** The webhook every plan's check calls: /check/<seed>/<plan>. One server serves parallel runs. */
export class ChaosChecks {
  private server?: http.Server;
  private readonly failFrom = new Map<string, number>();
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: { weight?: number; side?: string } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          // not JSON: judge it as passing
        }
        const from = this.failFrom.get(req.url ?? '');
        // 1 breaches max 0.05. The stable side (a rollback's validation) always passes.
        const failing = from !== undefined && body.side !== 'stable' && (body.weight ?? 0) >= from;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ value: failing ? 1 : 0 }));
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  pathFor(seed: number, plan: string): string {
    return `/check/${seed}/${plan}`;
  }

  failFromWeight(seed: number, plan: string, weight: number): void {
    this.failFrom.set(this.pathFor(seed, plan), weight);
  }

  forget(seed: number): void {
    for (const key of [...this.failFrom.keys()]) if (key.startsWith(`/check/${seed}/`)) this.failFrom.delete(key);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function planSetups(seed: number, count: number): PlanSetup[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const setups: PlanSetup[] = [];
  // One plan per run (when it has three or more) is rolled back by request, at a seeded step.
  const requestIndex = count >= 3 ? Math.floor(random() * count) : -1;
  for (let i = 0; i < count; i++) {
    const name = `p${String(i).padStart(2, '0')}`;
    const provider: Target['provider'] = i % 2 === 0 ? 'nginx' : 'gatewayAPI';
    const target: Target = provider === 'nginx'
      ? { provider, nginx: { ingress: `${name}-stable`, canaryIngress: `${name}-canary` } }
      : { provider, gatewayAPI: { httpRoute: name, stableBackend: 'old', canaryBackend: 'new' } };
    const roll = random();
    let fate: Fate;
    if (i === requestIndex) fate = { kind: 'rollbackRequest', afterWeight: pick(STEPS.slice(0, 2)) };
    else if (roll < 0.2) fate = { kind: 'failCheck', fromWeight: pick(STEPS.slice(0, 3)) };
    else fate = { kind: 'succeed' };
    setups.push({ name, target, fate, createAtMs: Math.floor(random() * 4000) });
  }
  return setups;
}

function targetObjects(setup: PlanSetup): Array<{ ref: ResourceRef; body: KubeObject }> {
  const { name, target } = setup;
  if (target.provider === 'nginx') {
    const ingress = (n: string, service: string, annotations: Record<string, string>): KubeObject => ({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: n, annotations },
      spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
    });
    return [
      { ref: REFS.ingresses, body: ingress(`${name}-stable`, 'old', {}) },
      { ref: REFS.ingresses, body: ingress(`${name}-canary`, 'new', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' }) },
    ];
  }
  return [{
    ref: REFS.httproutes,
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name },
      spec: { parentRefs: [{ name: 'public-gateway' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'old', port: 80, weight: 100 }, { name: 'new', port: 80, weight: 0 }] }] },
    },
  }];
}

/** The object whose weight a target writes, and the weight it holds. */
function writtenObject(target: Target): { resource: string; name: string } {
  return target.provider === 'nginx'
    ? { resource: 'ingresses', name: target.nginx?.canaryIngress ?? '' }
    : { resource: 'httproutes', name: target.gatewayAPI?.httpRoute ?? '' };
}

function weightOf(target: Target, obj: unknown): number | string {
  const state = target.provider === 'nginx' && target.nginx
    ? nginx.readWeight(obj, target.nginx, NAMESPACE)
    : target.gatewayAPI ? gatewayApi.readWeight(obj, target.gatewayAPI, NAMESPACE) : undefined;
  if (!state) return 'no target';
  return state.ok ? state.weight : `unreadable: ${JSON.stringify(state).slice(0, 200)}`;
}

function planObject(setup: PlanSetup, checkUrl: string): KubeObject {
  return {
    apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', metadata: { name: setup.name },
    spec: {
      targets: [setup.target],
      steps: STEPS.map((weight, i) => (i < STEPS.length - 1 ? { weight, pause: PAUSE } : { weight })),
      analysis: { interval: '1s', checks: [{ name: 'smoke', webhook: { url: checkUrl, timeout: '2s' }, max: 0.05 }] },
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The harness's own writes meet the same faults as the controllers'; it retries them. */
async function retried<T>(what: string, call: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      return await call();
    } catch (error) {
      lastError = error;
      await sleep(50);
    }
  }
  throw new Error(`${what}: still failing after 30 attempts: ${String(lastError)}`);
}

interface Replica {
  identity: string;
  child: TiedChild;
  url: Promise<string | undefined>;
  log: string[];
}

/** One seeded run: a fresh API server, two replicas, the plans, the kills and faults; then judged. */
export async function runChaos(seed: number, checks: ChaosChecks, options: ChaosOptions = DEFAULTS): Promise<RunResult> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build; make chaos and make test do)`);
  const started = Date.now();
  const since = (): number => Date.now() - started;
  const say = options.log ?? (() => undefined);
  const violations: string[] = [];
  const violate = (message: string): void => {
    if (violations.length < 50) violations.push(`${(since() / 1000).toFixed(1)}s ${message}`);
  };
  const setups = planSetups(seed, options.plans);
  const random = mulberry32(seed ^ 0x5bd1e995);
  const faultRandom = mulberry32(seed ^ 0x27d4eb2f);
  const stepSet = new Set([0, ...STEPS]);

  // Each incarnation of each replica slot gets its own identity and token, so the server knows
  // who wrote what without trusting anything the client says.
  const identities = ['a', 'b'].flatMap((slot) => Array.from({ length: options.kills + 2 }, (_, g) => `replica-${slot}${g}`));
  const tokens = Object.fromEntries(identities.map((id) => [randomBytes(16).toString('hex'), { username: id }]));
  const tokenOf = new Map(Object.entries(tokens).map(([token, user]) => [user.username, token]));
  const local = new LocalKube({ namespaces: ['default', 'kube-system', NAMESPACE], tokens });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trafficshift-chaos-${seed}-`));
  const faults: FaultCounts = { writeRequests: 0, writes500: 0, writes409: 0, watchesRefused: 0, watchesExpired: 0, expiryRounds: 0 };
  const replicas: Replica[] = [];
  const allReplicas: Replica[] = [];
  const kills: KillRecord[] = [];
  const writesTo = new Map<string, number[]>(setups.map((s) => [s.name, []]));
  const byObject = new Map(setups.map((s) => [`${writtenObject(s.target).resource}/${writtenObject(s.target).name}`, s]));
  const timers: NodeJS.Timeout[] = [];
  let kube: Kube | undefined;
  let stopObserving = (): void => undefined;
  let ending = false;
  const judged = { writes: 0, weightWrites: 0 };
  const repeatedZeros: string[] = [];
  try {
    await local.start();
    const adminConfig = path.join(dir, 'admin.kubeconfig');
    local.writeKubeconfig(adminConfig, NAMESPACE);
    kube = new Kube(loadKubeConfig({ kubeconfig: adminConfig }), { fieldManager: 'chaos' });
    const admin = kube;

    stopObserving = local.onWrite((w: WriteRecord) => {
      if (w.namespace !== NAMESPACE || !w.username.startsWith('replica-')) return;
      if (w.resource === 'leases') return;
      judged.writes++;
      const holder = (local.stored('coordination.k8s.io', 'leases', NAMESPACE, LEASE)?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
      if (holder !== w.username) violate(`b: ${w.username} wrote ${w.verb} ${w.resource}${w.subresource ? `/${w.subresource}` : ''} ${w.name} while the Lease names ${holder ?? 'nobody'}`);
      const setup = w.subresource === '' ? byObject.get(`${w.resource}/${w.name}`) : undefined;
      if (!setup) return;
      const weight = weightOf(setup.target, w.object);
      if (typeof weight !== 'number') {
        violate(`a: ${w.username} left ${w.resource} ${w.name} (plan ${setup.name}) with ${weight}`);
        return;
      }
      if (!stepSet.has(weight)) violate(`a: ${w.username} wrote weight ${weight} to ${w.resource} ${w.name} (plan ${setup.name}; steps ${STEPS.join(', ')})`);
      const before = w.previous ? weightOf(setup.target, w.previous) : undefined;
      // Every accepted write to the object counts, one that keeps the weight too: that is a second
      // write of it, what exactly-once forbids.
      judged.weightWrites++;
      const list = writesTo.get(setup.name) as number[];
      list.push(weight);
      if (before === weight) {
        const what = `${w.username} wrote ${w.resource} ${w.name} (plan ${setup.name}) with the weight ${weight} it already held`;
        if (weight === 0 && !options.strictRollback) repeatedZeros.push(`${(since() / 1000).toFixed(1)}s ${what}`);
        else violate(`c: ${what}`);
      }
      if (ending) violate(`c: ${w.username} wrote weight ${weight} to plan ${setup.name}'s target after every plan had ended`);
      const fate = setup.fate;
      if (fate.kind === 'rollbackRequest' && weight === fate.afterWeight) {
        // Asked once the weight is live, as a person watching a dashboard would.
        void retried(`rollback request on ${setup.name}`, () => admin.mergePatch({ ...REFS.plans, name: setup.name }, { metadata: { annotations: { [REQUEST_ANNOTATIONS.rollback]: `chaos-${seed}` } } }))
          .catch((error: unknown) => violate(`harness: ${String(error)}`));
      }
    });

    await createReadyBackends(admin, NAMESPACE);
    for (const setup of setups) {
      for (const o of targetObjects(setup)) await admin.create(o.ref, o.body);
      if (setup.fate.kind === 'failCheck') checks.failFromWeight(seed, setup.name, setup.fate.fromWeight);
    }

    // Counts write requests, faulted or not (a fault that never hits, placed first: faults are tried in order).
    local.faults.inject({ match: { verb: WRITE_VERBS, namespace: NAMESPACE }, fraction: 0, random: () => {
      faults.writeRequests++;
      return 1;
    }, respond: { status: 500 } });
    local.faults.inject({
      match: { verb: WRITE_VERBS, namespace: NAMESPACE },
      fraction: WRITE_FAULT_FRACTION,
      random: faultRandom,
      respond: () => {
        if (faultRandom() < 0.5) {
          faults.writes500++;
          return { status: 500 };
        }
        faults.writes409++;
        return { status: 409 };
      },
    });
    local.faults.inject({ match: { verb: 'watch' }, fraction: WATCH_REFUSAL_FRACTION, random: faultRandom, respond: () => {
      faults.watchesRefused++;
      return { status: 410, message: 'too old resource version' };
    } });
    const expireLater = (): void => {
      timers.push(setTimeout(() => {
        faults.expiryRounds++;
        faults.watchesExpired += local.expireWatches();
        expireLater();
      }, 1500 + Math.floor(random() * 3500)));
    };
    expireLater();

    const generations = new Map<string, number>();
    const spawnReplica = (slot: string): Replica => {
      const generation = generations.get(slot) ?? 0;
      generations.set(slot, generation + 1);
      const identity = `replica-${slot}${generation}`;
      const kubeconfig = path.join(dir, `${identity}.kubeconfig`);
      local.writeKubeconfig(kubeconfig, NAMESPACE, tokenOf.get(identity) as string);
      const child = spawnTied(process.execPath, [
        CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', NAMESPACE, '--port', '0', '--log-format', 'json', '--auth', 'none', '--resync', '2s',
        '--leader-elect', '--lease-namespace', NAMESPACE, '--lease-name', options.splitBrain && slot === 'b' ? `${LEASE}-b` : LEASE, '--identity', identity,
        '--lease-duration', `${LEASE_MS}ms`, '--renew-deadline', `${RENEW_DEADLINE_MS}ms`, '--retry-period', `${RETRY_MS}ms`,
      ], { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'pipe' } });
      const listening = controllerListening(child);
      if (options.logDir) {
        const file = path.join(options.logDir, String(seed), `${identity}.log`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const out = fs.createWriteStream(file);
        child.child.stderr?.pipe(out);
      }
      const replica: Replica = { identity, child, url: listening.url.catch(() => undefined), log: listening.log };
      replicas.push(replica);
      allReplicas.push(replica);
      return replica;
    };
    spawnReplica('a');
    spawnReplica('b');
    const slotOf = (r: Replica): string => r.identity.slice('replica-'.length, 'replica-'.length + 1);

    const leads = async (r: Replica): Promise<boolean> => {
      const url = await Promise.race([r.url, sleep(100).then(() => undefined)]);
      if (!url || !r.child.running) return false;
      try {
        const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
        return /^trafficshift_leader 1$/m.test(text);
      } catch {
        return false;
      }
    };
    const bothLead = new Set<string>();
    /** The replica that leads by its /metrics, once exactly one does. */
    const leader = async (timeoutMs: number): Promise<Replica | undefined> => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const live = [...replicas];
        const flags = await Promise.all(live.map(leads));
        const found = live.filter((_, i) => flags[i]);
        const both = found.map((r) => r.identity).join(' and ');
        if (found.length > 1 && !bothLead.has(both)) {
          bothLead.add(both);
          violate(`b: ${both} both report trafficshift_leader 1`);
        }
        if (found.length === 1) return found[0];
        await sleep(100);
      }
      return undefined;
    };

    const createdAll = Promise.all(setups.map(async (setup) => {
      await sleep(setup.createAtMs);
      await retried(`create plan ${setup.name}`, () => admin.create(REFS.plans, planObject(setup, `${checks.url}${checks.pathFor(seed, setup.name)}`)));
    }));

    const settled = (): boolean => setups.every((s) => {
      const plan = local.stored('trafficshift.io', 'migrationplans', NAMESPACE, s.name);
      const phase = (plan?.['status'] as { phase?: string } | undefined)?.phase;
      if (phase !== 'Succeeded' && phase !== 'RolledBack' && phase !== 'Failed') return false;
      const { resource, name } = writtenObject(s.target);
      const live = local.stored(resource === 'ingresses' ? 'networking.k8s.io' : 'gateway.networking.k8s.io', resource, NAMESPACE, name);
      return weightOf(s.target, live) === (phase === 'Succeeded' ? 100 : 0);
    });

    // The kills: each a seeded while after a replica (again) leads, so they land across the plans'
    // progress instead of piling up while no one leads.
    let first = await leader(30_000);
    if (!first) violate('no replica led within 30 s of start');
    for (let k = 0; k < options.kills && first; k++) {
      await sleep(500 + Math.floor(random() * 4000));
      const victim = await leader(20_000);
      if (!victim) {
        violate(`kill ${k + 1}: no replica led within 20 s`);
        break;
      }
      const kill: KillRecord = { identity: victim.identity, atMs: since() };
      kills.push(kill);
      await victim.child.kill();
      replicas.splice(replicas.indexOf(victim), 1);
      spawnReplica(slotOf(victim));
      const next = await leader(20_000);
      if (next) kill.takeoverMs = since() - kill.atMs;
      else violate(`kill ${k + 1}: no replica led within 20 s after ${victim.identity} was killed`);
      first = next;
      say(`  seed ${seed}: killed ${victim.identity} at ${(kill.atMs / 1000).toFixed(1)} s; ${next ? `${next.identity} led ${((kill.takeoverMs ?? 0) / 1000).toFixed(1)} s later` : 'no one leads'}`);
    }
    await createdAll;

    // With no leader at all nothing will move: judge at once rather than wait out the deadline.
    const deadline = first || kills.length > 0 ? started + options.runDeadlineMs : 0;
    while (!settled() && Date.now() < deadline) await sleep(100);
    const timedOut = !settled();
    // Faults off, and a quiet spell in which no controller should write a target any more.
    ending = true;
    local.faults.clear();
    for (const t of timers.splice(0)) clearTimeout(t);
    await sleep(timedOut ? 0 : 1500);

    const plans: PlanOutcome[] = [];
    for (const s of setups) {
      const plan = local.stored('trafficshift.io', 'migrationplans', NAMESPACE, s.name);
      const status = plan?.['status'] as { phase?: string; canaryWeight?: number; currentStep?: number } | undefined;
      const expected = s.fate.kind === 'succeed' ? 'Succeeded' : 'RolledBack';
      const writes = writesTo.get(s.name) as number[];
      plans.push({ name: s.name, provider: s.target.provider, expected, phase: status?.phase, writes });
      if (!plan) {
        violate(`d: plan ${s.name} is gone`);
        continue;
      }
      if (!status?.phase) violate(`d: plan ${s.name} has no status`);
      const finalizers = (plan['metadata'] as { finalizers?: string[] }).finalizers ?? [];
      if (!finalizers.includes(FINALIZER)) violate(`d: plan ${s.name} lost its finalizer (finalizers: ${JSON.stringify(finalizers)})`);
      if (status?.phase !== expected) {
        violate(`c: plan ${s.name} (${s.fate.kind}${s.fate.kind === 'failCheck' ? ` from ${s.fate.fromWeight}` : ''}) ended ${status?.phase ?? 'without a phase'}${timedOut ? ` (still there at the ${options.runDeadlineMs / 1000} s deadline; step ${String(status?.currentStep)}, canary ${String(status?.canaryWeight)})` : ''}, expected ${expected}`);
      }
      const { resource, name } = writtenObject(s.target);
      const live = weightOf(s.target, local.stored(resource === 'ingresses' ? 'networking.k8s.io' : 'gateway.networking.k8s.io', resource, NAMESPACE, name));
      const finalWeight = expected === 'Succeeded' ? 100 : 0;
      if (live !== finalWeight) violate(`c: plan ${s.name} ended with its target at ${String(live)}, expected ${finalWeight}`);
      const wanted = writesWanted(s.fate, writes);
      const judgedWrites = options.strictRollback ? writes : withoutRepeatedZeros(writes);
      if (wanted && JSON.stringify(judgedWrites) !== JSON.stringify(wanted)) violate(`c: plan ${s.name} target writes ${JSON.stringify(writes)}, expected ${JSON.stringify(wanted)}`);
    }
    const logs: Record<string, string[]> = {};
    if (violations.length > 0) for (const r of allReplicas) logs[r.identity] = r.log.slice(-15);
    return { seed, durationMs: since(), kills, plans, faults, violations, judged, repeatedZeros, logs };
  } finally {
    ending = true;
    for (const t of timers.splice(0)) clearTimeout(t);
    stopObserving();
    await Promise.all(replicas.map((r) => r.child.kill()));
    kube?.close();
    await local.stop();
    checks.forget(seed);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Drops each 0 that follows a 0: the rollback's repeats, judged apart (strictRollback). */
function withoutRepeatedZeros(writes: readonly number[]): number[] {
  return writes.filter((w, i) => !(w === 0 && i > 0 && writes[i - 1] === 0));
}

/** The weight writes a plan's fate allows: every step once in order, or for a rollback, the steps
 * up to where it failed (or at least up to where it was asked) and then one 0. */
function writesWanted(fate: Fate, writes: readonly number[]): number[] | undefined {
  if (fate.kind === 'succeed') return STEPS;
  if (fate.kind === 'failCheck') return [...STEPS.slice(0, STEPS.indexOf(fate.fromWeight) + 1), 0];
  // A rollback request lands at its step or, by timing, a step or two later: any prefix from
  // there (short of the last step) is right, followed by exactly one 0.
  const firstZero = writes.indexOf(0);
  const reached = firstZero < 0 ? writes.length : firstZero;
  const floor = STEPS.indexOf(fate.afterWeight) + 1;
  return [...STEPS.slice(0, Math.min(Math.max(floor, reached), STEPS.length - 1)), 0];
}

function parseArgs(argv: readonly string[]): { runs: number; seed: number; parallel: number; options: ChaosOptions } {
  const out = { runs: 50, seed: 1, parallel: 2, options: { ...DEFAULTS } };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): number => {
      const raw = argv[++i];
      const n = Number(raw);
      if (raw === undefined || !Number.isInteger(n) || n < 0) throw new Error(`${arg} needs a whole number, got ${String(raw)}`);
      return n;
    };
    if (arg === '--runs') out.runs = value();
    else if (arg === '--seed') out.seed = value();
    else if (arg === '--plans') out.options.plans = value();
    else if (arg === '--kills') out.options.kills = value();
    else if (arg === '--parallel') out.parallel = Math.max(1, value());
    else if (arg === '--deadline') out.options.runDeadlineMs = value() * 1000;
    else if (arg === '--strict-rollback') out.options.strictRollback = true;
    else if (arg === '--logs') out.options.logDir = path.resolve(argv[++i] ?? '.');
    else throw new Error(`unknown argument ${arg}; usage: chaos.js [--runs 50] [--seed 1] [--plans 20] [--kills 3] [--parallel 2] [--deadline SECONDS] [--logs DIR] [--strict-rollback]`);
  }
  return out;
}

export function describeRun(r: RunResult): string {
  const count = (phase: string): number => r.plans.filter((p) => p.phase === phase).length;
  const others = r.plans.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'RolledBack').map((p) => `${p.name}:${p.phase ?? 'none'}`);
  const f = r.faults;
  return [
    `seed ${r.seed}: ${(r.durationMs / 1000).toFixed(1)} s`,
    `kills ${r.kills.length} [${r.kills.map((k) => `${k.identity}@${(k.atMs / 1000).toFixed(1)}s${k.takeoverMs === undefined ? '' : `+${(k.takeoverMs / 1000).toFixed(1)}`}`).join(' ')}]`,
    `plans ${count('Succeeded')} Succeeded, ${count('RolledBack')} RolledBack${others.length ? `, ${others.join(' ')}` : ''} (expected ${r.plans.filter((p) => p.expected === 'Succeeded').length}/${r.plans.filter((p) => p.expected === 'RolledBack').length})`,
    `faults ${f.writes500 + f.writes409}/${f.writeRequests} writes (${f.writes500}x500 ${f.writes409}x409), ${f.watchesRefused} watches refused 410, ${f.watchesExpired} expired in ${f.expiryRounds} rounds`,
    `judged ${r.judged.writes} controller writes (${r.judged.weightWrites} weights, ${r.repeatedZeros.length} repeated rollback 0s)`,
    r.violations.length === 0 ? 'OK' : `${r.violations.length} VIOLATIONS`,
  ].join('; ');
}

async function main(): Promise<void> {
  const { runs, seed, parallel, options } = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  console.log(`trafficshift chaos — node ${process.version}, ${os.cpus().length} cpus; ${runs} runs from seed ${seed}, ${options.plans} plans, ${options.kills} kills each, ${parallel} at a time`);
  const checks = new ChaosChecks();
  await checks.start();
  const started = Date.now();
  const results: RunResult[] = [];
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, runs) }, async () => {
      while (next < runs) {
        const runSeed = seed + next++;
        const result = await runChaos(runSeed, checks, options).catch((error: unknown): RunResult => ({
          seed: runSeed, durationMs: 0, kills: [], plans: [], logs: {}, judged: { writes: 0, weightWrites: 0 }, repeatedZeros: [],
          faults: { writeRequests: 0, writes500: 0, writes409: 0, watchesRefused: 0, watchesExpired: 0, expiryRounds: 0 },
          violations: [`harness: ${error instanceof Error ? error.stack ?? error.message : String(error)}`],
        }));
        results.push(result);
        console.log(describeRun(result));
        for (const z of result.repeatedZeros) console.log(`    repeated rollback 0: ${z}`);
        if (result.violations.length > 0) {
          for (const v of result.violations) console.log(`    ${v}`);
          for (const [identity, lines] of Object.entries(result.logs)) {
            console.log(`    last log lines of ${identity}:`);
            for (const line of lines) console.log(`      ${line}`);
          }
          console.log(`    rerun: node dist/bench/chaos.js --runs 1 --seed ${runSeed} --plans ${options.plans} --kills ${options.kills}`);
        }
      }
    }));
  } finally {
    await checks.stop();
  }
  const wallMs = Date.now() - started;
  const durations = results.map((r) => r.durationMs).sort((a, b) => a - b);
  const failed = results.filter((r) => r.violations.length > 0);
  const sum = (f: (r: RunResult) => number): number => results.reduce((n, r) => n + f(r), 0);
  console.log(`\n${results.length} runs in ${(wallMs / 1000).toFixed(0)} s (median run ${((durations[Math.floor(durations.length / 2)] ?? 0) / 1000).toFixed(1)} s, slowest ${((durations[durations.length - 1] ?? 0) / 1000).toFixed(1)} s)`);
  console.log(`kills ${sum((r) => r.kills.length)}; write faults ${sum((r) => r.faults.writes500)}x500 + ${sum((r) => r.faults.writes409)}x409 of ${sum((r) => r.faults.writeRequests)} write requests; watches refused with 410 ${sum((r) => r.faults.watchesRefused)}, ended with a 410 ERROR ${sum((r) => r.faults.watchesExpired)}`);
  console.log(`controller writes checked against the Lease ${sum((r) => r.judged.writes)}, of them target weight writes ${sum((r) => r.judged.weightWrites)}`);
  const repeats = results.filter((r) => r.repeatedZeros.length > 0);
  console.log(`a rollback's 0 written again to a target already at 0: ${sum((r) => r.repeatedZeros.length)} times in ${repeats.length} runs${repeats.length ? ` (seeds ${repeats.map((r) => r.seed).join(', ')})` : ''}${options.strictRollback ? ' (violations: --strict-rollback)' : ' (reported, not failed; --strict-rollback fails them)'}`);
  console.log(`plans ${sum((r) => r.plans.filter((p) => p.phase === 'Succeeded').length)} Succeeded, ${sum((r) => r.plans.filter((p) => p.phase === 'RolledBack').length)} RolledBack, of ${sum((r) => r.plans.length)}`);
  console.log(failed.length === 0 ? 'PASS: no violations' : `FAIL: ${failed.length} runs with violations (seeds ${failed.map((r) => r.seed).join(', ')})`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
