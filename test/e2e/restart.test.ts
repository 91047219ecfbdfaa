// Kill the controller at random points of a plan and start a new one, a few times per run: the
// plan still ends Succeeded, and every target saw each step's weight exactly once, in order.
// A kill here is `stop({ crash: true })`: reconciles in flight are aborted before their next
// write and nothing is handed over (no lease release, no flush), as when a process dies. A
// request already on the wire still lands, as it would from a killed process.
//
// Seeds are fixed, so a failure names the seed and its kill delays, and reruns the same way.
import { randomBytes } from 'node:crypto';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CheckServer } from '../support/checkServer';
import { startController } from '../support/controller';
import { createPlan, liveWeight, makeTarget, releasePlans, waitForPhase, webhookAnalysis } from '../support/plans';
import type { Controller } from '../../src/controller/controller';
import { isNotFound } from '../../src/kube';
import type { Target } from '../../src/plan/schema';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [11, 23, 37, 41, 53, 67, 71, 89, 97, 101, 113, 127, 131, 149, 151, 163, 173, 181, 191, 199];
const KILLS_PER_RUN = 3;
const MAX_KILL_DELAY_MS = 1500;
const STEPS = [25, 50, 75, 100];
const PROVIDERS: Array<Target['provider']> = ['nginx', 'gatewayAPI', 'istio', 'smi'];
/** Runs at once: each has its own namespace and controller. */
const PARALLEL = 10;

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
const namespaces: TestCluster[] = [];

beforeAll(async () => {
  cluster = await startCluster('restart');
  checks = new CheckServer();
  checkUrl = await checks.start();
});

afterAll(async () => {
  await checks?.stop();
  for (const ns of namespaces) {
    await releasePlans(ns).catch(() => undefined);
    await cluster.kube.delete({ group: '', version: 'v1', plural: 'namespaces', name: ns.namespace }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
  await cluster?.close();
});

/** The same cluster seen from a namespace of its own, so one seed's controller sees only its plan. */
async function ownNamespace(suffix: string): Promise<TestCluster> {
  const namespace = `ts-e2e-restart-${suffix}-${randomBytes(2).toString('hex')}`;
  await cluster.kube.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'trafficshift.io/e2e': 'true' } } });
  const view: TestCluster = { ...cluster, namespace, close: async () => undefined };
  namespaces.push(view);
  return view;
}

interface RunResult {
  kills: number[];
  phase: string | undefined;
  weight: number | undefined;
  weightsSeen: number[];
  writes: number;
}

async function runSeed(seed: number): Promise<RunResult> {
  const random = mulberry32(seed);
  const kills = Array.from({ length: KILLS_PER_RUN }, () => Math.floor(random() * MAX_KILL_DELAY_MS));
  const provider = PROVIDERS[seed % PROVIDERS.length] as Target['provider'];
  const ns = await ownNamespace(`s${seed}`);
  const { target, recorder } = await makeTarget(ns, provider, `seed-${seed}`);
  let controller: Controller = await startController(ns);
  try {
    await createPlan(ns, 'plan', { targets: [target], steps: STEPS.map((weight) => ({ weight })), analysis: webhookAnalysis(checkUrl) });
    for (const delay of kills) {
      await new Promise((r) => setTimeout(r, delay));
      await controller.stop({ crash: true });
      controller = await startController(ns);
    }
    const status = await waitForPhase(ns, 'plan', 'Succeeded', 40_000);
    await waitFor(() => recorder.current === 100, 5_000, `seed ${seed}: the watch to see 100`);
    return { kills, phase: status.phase, weight: await liveWeight(ns, target), weightsSeen: recorder.weights, writes: recorder.writes };
  } finally {
    recorder.stop();
    await controller.stop();
  }
}

const batches: number[][] = [];
for (let i = 0; i < SEEDS.length; i += PARALLEL) batches.push(SEEDS.slice(i, i + PARALLEL));

it.each(batches.map((b) => [b.join(', '), b] as const))(
  `a 4-step plan survives ${KILLS_PER_RUN} kills at random points per run (seeds %s): Succeeded at 100, each step written once, in order`,
  async (_label, seeds) => {
    const results = await Promise.all(seeds.map(async (seed) => [seed, await runSeed(seed)] as const));
    const expected = Object.fromEntries(results.map(([seed, r]) => [seed, { kills: r.kills, phase: 'Succeeded', weight: 100, weightsSeen: [0, ...STEPS], writes: STEPS.length }]));
    expect(Object.fromEntries(results)).toEqual(expected);
  },
  60_000,
);
