// Kill the controller at random points of a plan and start a new one, a few times per run: the
// plan still ends Succeeded, and every target saw each step's weight exactly once, in order.
// A kill here is SIGKILL of the `trafficshift controller` process: whatever it was doing stops
// mid-step and nothing is handed over (no lease release, no flush). A request already on the
// wire may still land, as it does when a pod is killed.
//
// Seeds are fixed, so a failure names the seed and its kill delays, and reruns the same way.
import { availableParallelism } from 'node:os';
import { extraNamespace, startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CheckServer } from '../support/checkServer';
import { SETTLE_MS } from '../support/deadlines';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import { createPlan, liveWeight, makeTarget, waitForPhase, webhookAnalysis } from '../support/plans';
import type { Target } from '../../src/plan/schema';
import { mulberry32 } from '../../src/bench/seededRandom';


const SEEDS = [11, 23, 37, 41, 53, 67, 71, 89, 97, 101, 113, 127, 131, 149, 151, 163, 173, 181, 191, 199];
const KILLS_PER_RUN = 3;
const MAX_KILL_DELAY_MS = 1500;
const STEPS = [25, 50, 75, 100];
const PROVIDERS: Array<Target['provider']> = ['nginx', 'gatewayAPI', 'istio', 'smi'];
/** Runs at once, each with its own namespace and controller process. Every kill means a Node
 * start-up (about 0.3 s of a core) in a burst, and every controller talks to the same API
 * server: two runs per core keep the CPU busy without starving each other on a loaded machine. */
const PARALLEL = Math.max(2, 2 * availableParallelism());
/** One run's deadline, from its first controller start to its final weight. A run takes about
 * 10 s on an idle 2-core machine (four 1 s rounds, three restarts). With a second test run and a
 * compiler beside it a step was seen to take 35 s, so a run gets two settling times. */
const RUN_DEADLINE_MS = 2 * SETTLE_MS;
/** jest's own limit for a test of `runs` runs: every wave of PARALLEL runs at its deadline, and
 * a minute for the namespaces. It is a backstop; the runs' deadlines are what fail a test. */
const testTimeout = (runs: number): number => Math.ceil(runs / PARALLEL) * RUN_DEADLINE_MS + 60_000;

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
const namespaces: TestCluster[] = [];

beforeAll(async () => {
  cluster = await startCluster('restart');
  checks = new CheckServer();
  checkUrl = await checks.start();
  // 1 breaches max 0.05: plans pointed at ?fail-from=50 fail their check from canary 50 on.
  checks.valueFor = (req) => (req.url?.includes('fail-from=50') && (req.weight ?? 0) >= 50 ? 1 : 0);
}, 60_000);

afterAll(async () => {
  await checks?.stop();
  await Promise.all(namespaces.map((ns) => ns.close()));
  await cluster?.close();
}, 120_000);

/** The same cluster seen from a namespace of its own, so one seed's controller sees only its plan. */
async function ownNamespace(suffix: string): Promise<TestCluster> {
  const view = await extraNamespace(cluster, `restart-${suffix}`);
  namespaces.push(view);
  return view;
}

/** Seeds for runs whose check fails from canary 50 on: they must roll back, through the kills. */
const ROLLBACK_SEEDS = [7, 19, 29, 43, 59, 61, 73, 83, 103, 109];

interface RunResult {
  kills: number[];
  phase: string | undefined;
  weight: number | undefined;
  weightsSeen: number[];
  writes: number;
}

async function runSeed(seed: number, outcome: 'Succeeded' | 'RolledBack' = 'Succeeded'): Promise<RunResult> {
  const deadline = Date.now() + RUN_DEADLINE_MS;
  const left = (): number => Math.max(1, deadline - Date.now());
  const random = mulberry32(seed);
  const kills = Array.from({ length: KILLS_PER_RUN }, () => Math.floor(random() * MAX_KILL_DELAY_MS));
  const provider = PROVIDERS[seed % PROVIDERS.length] as Target['provider'];
  const ns = await ownNamespace(`s${seed}`);
  const { target, recorder } = await makeTarget(ns, provider, `seed-${seed}`);
  let controller: ControllerProcess = await startControllerProcess(ns);
  try {
    const analysis = webhookAnalysis(outcome === 'Succeeded' ? checkUrl : `${checkUrl}?fail-from=50`);
    await createPlan(ns, 'plan', { targets: [target], steps: STEPS.map((weight) => ({ weight })), analysis });
    for (const delay of kills) {
      await new Promise((r) => setTimeout(r, delay));
      await controller.stop({ crash: true });
      controller = await startControllerProcess(ns);
    }
    const status = await waitForPhase(ns, 'plan', outcome, left());
    const final = outcome === 'Succeeded' ? 100 : 0;
    await waitFor(() => recorder.current === final, left(), `seed ${seed}: the watch to see ${final}`);
    return { kills, phase: status.phase, weight: await liveWeight(ns, target), weightsSeen: recorder.weights, writes: recorder.writes };
  } finally {
    recorder.stop();
    await controller.stop();
  }
}

/** Runs `run` over `items`, PARALLEL at a time; the results keep the items' order. A run that
 * throws gives its error's message in its place, so every run finishes (and stops its controller)
 * before the test judges, and the diff names each failed seed with its reason. */
async function pool<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<Array<R | { error: string }>> {
  const results: Array<R | { error: string }> = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i] as T).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return results;
}

const bySeed = <T>(seeds: readonly number[], values: readonly T[]): Record<number, T> => Object.fromEntries(seeds.map((seed, i) => [seed, values[i] as T]));

it(
  `a 4-step plan survives ${KILLS_PER_RUN} kills at random points per run (seeds ${SEEDS.join(', ')}): Succeeded at 100, each step written once, in order`,
  async () => {
    const results = await pool(SEEDS, (seed) => runSeed(seed));
    const expected = results.map((r) => ({ kills: 'kills' in r ? r.kills : [], phase: 'Succeeded', weight: 100, weightsSeen: [0, ...STEPS], writes: STEPS.length }));
    expect(bySeed(SEEDS, results)).toEqual(bySeed(SEEDS, expected));
  },
  testTimeout(SEEDS.length),
);

it(
  `a 4-step plan whose check fails at canary 50 rolls back through ${KILLS_PER_RUN} kills per run (seeds ${ROLLBACK_SEEDS.join(', ')}): RolledBack at 0, never above 50, each weight written once`,
  async () => {
    const results = await pool(ROLLBACK_SEEDS, (seed) => runSeed(seed, 'RolledBack'));
    const expected = results.map((r) => ({ kills: 'kills' in r ? r.kills : [], phase: 'RolledBack', weight: 0, weightsSeen: [0, 25, 50, 0], writes: 3 }));
    expect(bySeed(ROLLBACK_SEEDS, results)).toEqual(bySeed(ROLLBACK_SEEDS, expected));
  },
  testTimeout(ROLLBACK_SEEDS.length),
);
