// Two replicas with leader election on a Lease in the run's namespace: one leads and only it
// writes; a crashed leader (lease not released) is replaced once the lease runs out, a leader
// that stops cleanly (lease released) at once; the Lease's MicroTimes have six fractional digits.
//
// Who wrote is counted on each controller's own client (every API call of a controller goes
// through its one Kube instance), so it holds against a real cluster too.
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CheckServer } from '../support/checkServer';
import { startController } from '../support/controller';
import { createPlan, makeTarget, waitForPhase, waitForStatus, waitForWeight, webhookAnalysis } from '../support/plans';
import type { WeightRecorder } from '../support/targets';
import type { Controller } from '../../src/controller/controller';
import type { Kube, ResourceRef } from '../../src/kube';

const LEASE_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_MS = 500;

let cluster: TestCluster;
let checks: CheckServer;
let checkUrl: string;
const running: Controller[] = [];
const recorders: WeightRecorder[] = [];

beforeAll(async () => {
  cluster = await startCluster('leader');
  checks = new CheckServer();
  checkUrl = await checks.start();
});

afterAll(async () => {
  for (const r of recorders) r.stop();
  await Promise.all(running.map((c) => c.stop()));
  await checks?.stop();
  await cluster?.close();
});

/** Every write a controller sent to plans or targets (not its Lease or Events), with the time. */
class WriteLog {
  readonly writes: Array<{ at: number; verb: string; resource: string }> = [];

  constructor(kube: Kube) {
    for (const verb of ['create', 'replace', 'mergePatch', 'jsonPatch', 'delete'] as const) {
      const original = kube[verb].bind(kube) as (ref: ResourceRef, ...rest: unknown[]) => Promise<unknown>;
      (kube as unknown as Record<string, unknown>)[verb] = async (ref: ResourceRef, ...rest: unknown[]) => {
        if (ref.plural !== 'leases' && ref.plural !== 'events') this.writes.push({ at: Date.now(), verb, resource: `${ref.plural}/${ref.name ?? ''}` });
        return original(ref, ...rest);
      };
    }
  }

  since(at: number): number {
    return this.writes.filter((w) => w.at >= at).length;
  }
}

async function replica(identity: string, lease: string): Promise<{ controller: Controller; log: WriteLog }> {
  const controller = await startController(cluster, {
    leaderElection: { namespace: cluster.namespace, name: lease, identity, leaseDurationMs: LEASE_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_MS },
  });
  running.push(controller);
  // Installed right after start: a replica writes nothing before it leads, and leading takes a
  // Lease round trip after start resolves.
  return { controller, log: new WriteLog(controller.kube) };
}

async function stop(controller: Controller, options: { crash?: boolean } = {}): Promise<void> {
  running.splice(running.indexOf(controller), 1);
  await controller.stop(options);
}

/** Samples both replicas until `done`; fails if both ever claim to lead at once. */
function watchLeadership(a: Controller, b: Controller): { stop(): Promise<number> } {
  let both = 0;
  let active = true;
  const loop = (async () => {
    while (active) {
      if (a.isLeader && b.isLeader) both++;
      await new Promise((r) => setTimeout(r, 10));
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

function leaderOf(...replicas: Array<{ controller: Controller; log: WriteLog }>) {
  const leading = replicas.filter((r) => r.controller.isLeader);
  if (leading.length !== 1) throw new Error(`expected one leader, found ${leading.length}`);
  return { leader: leading[0] as (typeof replicas)[number], follower: replicas.find((r) => !r.controller.isLeader) as (typeof replicas)[number] };
}

it('lets exactly one of two replicas lead; only the leader writes; the Lease times have six fractional digits', async () => {
  const lease = 'one-leader';
  const a = await replica('replica-a', lease);
  const b = await replica('replica-b', lease);
  const sampler = watchLeadership(a.controller, b.controller);
  await waitFor(() => a.controller.isLeader || b.controller.isLeader, 10_000, 'a leader');
  const { leader, follower } = leaderOf(a, b);

  const { target, recorder } = await makeTarget(cluster, 'gatewayAPI', 'one-leader');
  recorders.push(recorder);
  await createPlan(cluster, 'one-leader', { targets: [target], steps: [{ weight: 20 }, { weight: 60 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForPhase(cluster, 'one-leader', 'Succeeded');
  await waitForWeight(cluster, target, 100);

  expect(await sampler.stop()).toBe(0);
  expect(follower.log.writes).toEqual([]);
  expect(leader.log.writes.length).toBeGreaterThan(0);
  expect(recorder.weights).toEqual([0, 20, 60, 100]);

  const leaseObj = await cluster.kube.get({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: cluster.namespace, name: lease });
  const spec = leaseObj['spec'] as { holderIdentity: string; renewTime: string; acquireTime: string; leaseDurationSeconds: number };
  expect(spec.holderIdentity).toBe(leader.controller.identity);
  expect(spec.leaseDurationSeconds).toBe(LEASE_MS / 1000);
  expect(spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  expect(spec.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
});

it('hands over when the leader crashes (lease not released): the other takes over once the lease runs out and finishes the plan', async () => {
  const lease = 'crash';
  const a = await replica('crash-a', lease);
  const b = await replica('crash-b', lease);
  await waitFor(() => a.controller.isLeader || b.controller.isLeader, 10_000, 'a leader');
  const { leader, follower } = leaderOf(a, b);

  const { target, recorder } = await makeTarget(cluster, 'nginx', 'crash');
  recorders.push(recorder);
  await createPlan(cluster, 'crash', { targets: [target], steps: [{ weight: 20, pause: '2s' }, { weight: 60 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForStatus(cluster, 'crash', (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 20, 'step 1 landed');

  const crashedAt = Date.now();
  await stop(leader.controller, { crash: true });
  await waitFor(() => follower.controller.isLeader, LEASE_MS + 5_000, 'the follower to lead');
  const takeoverMs = Date.now() - crashedAt;
  // It must wait out the lease it last saw renewed (at most one retry period before the crash),
  // and it notices within a retry period after it ran out.
  expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS - 200);
  expect(takeoverMs).toBeLessThan(LEASE_MS + RETRY_MS + 1_500);

  await waitForPhase(cluster, 'crash', 'Succeeded');
  await waitForWeight(cluster, target, 100);
  expect(leader.log.since(crashedAt)).toBe(0);
  expect(follower.log.writes.length).toBeGreaterThan(0);
  expect(follower.log.writes.every((w) => w.at >= crashedAt)).toBe(true);
  expect(recorder.weights).toEqual([0, 20, 60, 100]);
  expect(recorder.writes).toBe(3);
});

it('hands over near-immediately when the leader stops cleanly (lease released)', async () => {
  const lease = 'graceful';
  const a = await replica('graceful-a', lease);
  const b = await replica('graceful-b', lease);
  await waitFor(() => a.controller.isLeader || b.controller.isLeader, 10_000, 'a leader');
  const { leader, follower } = leaderOf(a, b);

  const { target, recorder } = await makeTarget(cluster, 'istio', 'graceful');
  recorders.push(recorder);
  await createPlan(cluster, 'graceful', { targets: [target], steps: [{ weight: 20, pause: '2s' }, { weight: 60 }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
  await waitForStatus(cluster, 'graceful', (s) => s?.stepStartedAt !== undefined && s.canaryWeight === 20, 'step 1 landed');

  const stoppedAt = Date.now();
  await stop(leader.controller);
  await waitFor(() => follower.controller.isLeader, LEASE_MS + 5_000, 'the follower to lead');
  // About one retry period; in any case well short of the lease a crash leaves to wait out.
  expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS - RETRY_MS);

  await waitForPhase(cluster, 'graceful', 'Succeeded');
  await waitForWeight(cluster, target, 100);
  expect(recorder.weights).toEqual([0, 20, 60, 100]);
  expect(recorder.writes).toBe(3);
});
