// Two replicas (two `trafficshift controller` processes) with leader election on a Lease in the
// run's namespace: one leads and only it writes; a crashed leader (SIGKILL: lease not released)
// is replaced once the lease runs out, a leader that stops cleanly (SIGTERM: lease released) at
// once; the Lease's MicroTimes have six fractional digits.
//
// Who leads and who wrote is read from each process's /metrics (trafficshift_leader,
// trafficshift_weight_writes_total), so it holds against a real cluster too.
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CheckServer } from '../support/checkServer';
import { startControllerProcess, type ControllerProcess } from '../support/controllerProcess';
import { createPlan, makeTarget, waitForPhase, waitForStatus, waitForWeight, webhookAnalysis } from '../support/plans';
import type { WeightRecorder } from '../support/targets';

const LEASE_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_MS = 500;

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
const running: ControllerProcess[] = [];
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('leader');
  checks = new CheckServer();
  checkUrl = await checks.start();
});

// Replicas of one test hold a Lease of their own; left running they would lead for it and
// reconcile the next test's plans too.
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  await checks?.stop();
  await cluster?.close();
});

interface Replica {
  identity: string;
  process: ControllerProcess;
}

async function replica(identity: string, leaseName: string): Promise<Replica> {
  const process = await startControllerProcess(cluster, {
    leaderElection: { identity, leaseName, leaseDurationMs: LEASE_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_MS },
  });
  running.push(process);
  return { identity, process };
}

async function stop(r: Replica, options: { crash?: boolean } = {}): Promise<void> {
  running.splice(running.indexOf(r.process), 1);
  await r.process.stop(options);
}

/** Samples both replicas until stopped; counts the samples in which both claimed to lead. */
function watchLeadership(a: Replica, b: Replica): { stop(): Promise<number> } {
  let both = 0;
  let active = true;
  const loop = (async () => {
    while (active) {
      const [la, lb] = await Promise.all([a.process.isLeader(), b.process.isLeader()]);
      if (la && lb) both++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      active = false;
      await loop;
      return both;
    },
  };
}

async function someoneLeads(a: Replica, b: Replica): Promise<{ leader: Replica; follower: Replica }> {
  let found: { leader: Replica; follower: Replica } | undefined;
  await waitFor(async () => {
    const [la, lb] = await Promise.all([a.process.isLeader(), b.process.isLeader()]);
    if (la && lb) throw new Error('both replicas lead');
    if (la) found = { leader: a, follower: b };
    if (lb) found = { leader: b, follower: a };
    return found !== undefined;
  }, 10_000, 'a leader');
  return found as { leader: Replica; follower: Replica };
}

it('lets exactly one of two replicas lead; only the leader writes; the Lease times have six fractional digits', async () => {
  const lease = 'one-leader';
  const a = await replica('replica-a', lease);
  const b = await replica('replica-b', lease);
  const sampler = watchLeadership(a, b);
  const { leader, follower } = await someoneLeads(a, b);

  const { target, recorder } = await makeTarget(cluster, 'gatewayAPI', 'one-leader');
  recorders.push(recorder);
  await createPlan(cluster, 'one-leader', { targets: [target], steps: [{ weight: 20 }, { weight: 60 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForPhase(cluster, 'one-leader', 'Succeeded');
  await waitForWeight(cluster, target, 100);

  expect(await sampler.stop()).toBe(0);
  expect(await follower.process.weightWrites()).toBe(0);
  expect(await leader.process.weightWrites()).toBe(3);
  expect(recorder.weights).toEqual([0, 20, 60, 100]);

  const leaseObj = await cluster.kube.get({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: cluster.namespace, name: lease });
  const spec = leaseObj['spec'] as { holderIdentity: string; renewTime: string; acquireTime: string; leaseDurationSeconds: number };
  expect(spec.holderIdentity).toBe(leader.identity);
  expect(spec.leaseDurationSeconds).toBe(LEASE_MS / 1000);
  expect(spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  expect(spec.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
});

it('hands over when the leader crashes (lease not released): the other takes over once the lease runs out and finishes the plan', async () => {
  const lease = 'crash';
  const a = await replica('crash-a', lease);
  const b = await replica('crash-b', lease);
  const { leader, follower } = await someoneLeads(a, b);

  const { target, recorder } = await makeTarget(cluster, 'nginx', 'crash');
  recorders.push(recorder);
  await createPlan(cluster, 'crash', { targets: [target], steps: [{ weight: 20, pause: '2s' }, { weight: 60 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForStatus(cluster, 'crash', (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 20, 'step 1 landed');

  const crashedAt = Date.now();
  await stop(leader, { crash: true });
  await waitFor(() => follower.process.isLeader(), LEASE_MS + 5_000, 'the follower to lead', 50);
  const takeoverMs = Date.now() - crashedAt;
  // It must wait out the lease it last saw renewed (at most one retry period before the crash),
  // and it notices within a retry period after it ran out.
  expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS - 200);
  expect(takeoverMs).toBeLessThan(LEASE_MS + RETRY_MS + 1_500);

  await waitForPhase(cluster, 'crash', 'Succeeded');
  await waitForWeight(cluster, target, 100);
  // Each step landed once; the follower wrote exactly the two steps after the crash.
  expect(recorder.weights).toEqual([0, 20, 60, 100]);
  expect(await follower.process.weightWrites()).toBe(2);
  expect(recorder.writes).toBe(3);
});

it('hands over near-immediately when the leader stops cleanly (lease released)', async () => {
  const lease = 'graceful';
  const a = await replica('graceful-a', lease);
  const b = await replica('graceful-b', lease);
  const { leader, follower } = await someoneLeads(a, b);

  const { target, recorder } = await makeTarget(cluster, 'istio', 'graceful');
  recorders.push(recorder);
  await createPlan(cluster, 'graceful', { targets: [target], steps: [{ weight: 20, pause: '2s' }, { weight: 60 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForStatus(cluster, 'graceful', (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 20, 'step 1 landed');

  const stoppedAt = Date.now();
  await stop(leader);
  await waitFor(() => follower.process.isLeader(), LEASE_MS + 5_000, 'the follower to lead', 50);
  // About one retry period; in any case well short of the lease a crash leaves to wait out.
  expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS - RETRY_MS);

  await waitForPhase(cluster, 'graceful', 'Succeeded');
  await waitForWeight(cluster, target, 100);
  expect(recorder.weights).toEqual([0, 20, 60, 100]);
  expect(recorder.writes).toBe(3);
});
