// The commands whose point is the controller's answer, against a real controller on the
// in-process API server: the one-command rollback of a 3-target plan (it waits until every
// target holds 0 and says how long that took), `wait` on a plan the controller runs, and
// `status --watch` piped following a plan to Succeeded. A second namespace no controller
// watches shows what happens when nobody acts: the rollback times out naming the targets.
import type { Controller } from '../../src/controller/controller';
import { REQUEST_ANNOTATIONS, type Target } from '../../src/plan/schema';
import { extraNamespace, startCluster, type TestCluster } from '../support/cluster';
import { startController } from '../support/controller';
import { SETTLE_MS } from '../support/deadlines';
import { createPlan, liveWeight, setWeightByHand, waitForPhase } from '../support/plans';
import { createObjects, targetFixture } from '../support/targets';
import { annotations, at, capture, cli, expectOneLine, makePlan, resourceVersion, statusFor } from './cliSupport';

let cluster: TestCluster;
let idle: TestCluster;
let controller: Controller;

beforeAll(async () => {
  cluster = await startCluster('cli-controlled');
  idle = await extraNamespace(cluster, 'cli-idle');
  controller = await startController(cluster);
});
afterAll(async () => {
  await controller?.stop();
  await idle?.close();
  await cluster?.close();
});

async function targets(c: TestCluster, base: string, providers: ReadonlyArray<Target['provider']>): Promise<Target[]> {
  const made: Target[] = [];
  for (const provider of providers) {
    const { target, objects } = targetFixture(provider, `${base}-${provider.toLowerCase()}`);
    await createObjects(c, objects);
    made.push(target);
  }
  return made;
}

const SETTLE = `${Math.round(SETTLE_MS / 1000)}s`;

describe('rollback', () => {
  const name = 'three';
  let planTargets: Target[];

  beforeAll(async () => {
    planTargets = await targets(cluster, name, ['nginx', 'gatewayAPI', 'istio']);
    // A promotion gate at 30: the plan holds there, every target carrying canary traffic.
    await createPlan(cluster, name, { targets: planTargets, steps: [{ weight: 30, pause: {} }, { weight: 100 }] });
    await waitForPhase(cluster, name, 'WaitingForPromotion');
    for (const t of planTargets) expect(await liveWeight(cluster, t)).toBe(30);
  });

  it('writes the request, waits until every target holds 0, prints the reason, the recovery time and each target at 0; exit 0', async () => {
    const run = await cli(['rollback', name, ...at(cluster), '--reason', 'p99 doubled', '--timeout', SETTLE]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [first, ...lines] = run.stdout.trimEnd().split('\n');
    expect(first).toMatch(new RegExp(`^rolled back ${cluster.namespace}/${name} in \\d+(\\.\\d+)?s: p99 doubled$`));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^ {2}\S.*\s0%$/);
    // The targets themselves, read back: every one at 0.
    for (const t of planTargets) expect(await liveWeight(cluster, t)).toBe(0);
    expect((await waitForPhase(cluster, name, 'RolledBack', 1)).rollback?.reason).toBe('p99 doubled');
  });

  it('again: says it was already rolled back and writes nothing; exit 0', async () => {
    const rv = await resourceVersion(cluster, name);
    const run = await cli(['rollback', name, ...at(cluster)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${cluster.namespace}/${name} was already rolled back in \\d+(\\.\\d+)?s: p99 doubled\\n`));
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });

  it('wait --for RolledBack answers at once for it', async () => {
    const run = await cli(['wait', name, ...at(cluster), '--for', 'RolledBack', '--timeout', '30s']);
    expect(run).toStrictEqual({ code: 0, stdout: `${cluster.namespace}/${name} is RolledBack: p99 doubled\n`, stderr: '' });
  });

  it('--no-wait returns once written (default reason: who asked); wait --for RolledBack then sees it through', async () => {
    const quick = 'quick';
    const [t] = await targets(cluster, quick, ['smi']);
    await createPlan(cluster, quick, { targets: [t], steps: [{ weight: 40, pause: {} }, { weight: 100 }] });
    await waitForPhase(cluster, quick, 'WaitingForPromotion');
    const run = await cli(['rollback', quick, ...at(cluster), '--no-wait']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`rollback of ${cluster.namespace}/${quick} requested: rollback requested by localkube-admin via trafficshift CLI\n`);
    expect((await annotations(cluster, quick))[REQUEST_ANNOTATIONS.rollback]).toBe('rollback requested by localkube-admin via trafficshift CLI');
    const waited = await cli(['wait', quick, ...at(cluster), '--for', 'RolledBack', '--timeout', SETTLE]);
    expect(waited).toMatchObject({ code: 0, stderr: '' });
    expect(await liveWeight(cluster, t as Target)).toBe(0);
  });

  it('times out when nobody acts on it: exit 2, one line naming the targets still carrying traffic', async () => {
    const stuck = 'stuck';
    await makePlan(idle, stuck, { status: statusFor('Progressing', { canaryWeight: 25 }) });
    await setWeightByHand(idle, targetFixture('nginx', `${stuck}-ing`).target, 25);
    const started = Date.now();
    const run = await cli(['rollback', stuck, ...at(idle), '--timeout', '1s']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `error: ${idle.namespace}/${stuck} is not rolled back after 1s (phase Progressing; the request stands): still carrying canary traffic: nginx Ingress ${idle.namespace}/${stuck}-ing-canary at 25%\n`,
    );
    expect(Date.now() - started).toBeLessThan(SETTLE_MS);
    expect((await annotations(idle, stuck))[REQUEST_ANNOTATIONS.rollback]).toBe('rollback requested by localkube-admin via trafficshift CLI');
  });

  it('refuses a Succeeded plan: exit 1, one line, nothing written', async () => {
    const done = 'done';
    await makePlan(idle, done, { status: statusFor('Succeeded', { currentStep: 3, canaryWeight: 100 }) });
    const rv = await resourceVersion(idle, done);
    const run = await cli(['rollback', done, ...at(idle)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot roll back: .* Succeeded, which is final/);
    expectOneLine(run.stderr);
    expect(await resourceVersion(idle, done)).toBe(rv);
  });
});

describe('a plan the controller runs to the end', () => {
  it('status --watch piped prints one line per change and ends by itself at Succeeded; wait --for Succeeded and Ready agree', async () => {
    const name = 'runs';
    const [t] = await targets(cluster, name, ['gatewayAPI']);
    await createPlan(cluster, name, { targets: [t], steps: [{ weight: 10 }, { weight: 50, pause: '1s' }, { weight: 100 }] });
    const out = capture();
    const watching = cli(['status', name, ...at(cluster), '--watch'], { stdout: out });
    const waitingSucceeded = cli(['wait', name, ...at(cluster), '--for', 'Succeeded', '--timeout', SETTLE]);
    const waitingReady = cli(['wait', name, ...at(cluster), '--for', 'ready', '--timeout', SETTLE]);

    const [watched, succeeded, ready] = await Promise.all([watching, waitingSucceeded, waitingReady]);
    expect(succeeded).toStrictEqual({ code: 0, stdout: `${cluster.namespace}/${name} Succeeded (canary 100%)\n`, stderr: '' });
    expect(ready).toStrictEqual({ code: 0, stdout: `${cluster.namespace}/${name} is Ready (phase Succeeded, canary 100%)\n`, stderr: '' });
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trimEnd().split('\n');
    // At least the start and the end; each line says when, which plan, phase, step and weights.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const line = new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${cluster.namespace}/${name} (\\w+) (?:not started \\(3 steps\\)|step (\\d)/3) canary (\\d+)% weights HTTPRoute/${name}-gatewayapi=(\\d+)`);
    const parsed = lines.map((l) => {
      const m = line.exec(l);
      expect(m).not.toBeNull();
      return { phase: m?.[1], canary: Number(m?.[3]), live: Number(m?.[4]) };
    });
    expect(new Set(lines).size).toBe(lines.length);
    expect(parsed[parsed.length - 1]).toStrictEqual({ phase: 'Succeeded', canary: 100, live: 100 });
    const canaries = parsed.map((p) => p.canary);
    expect([...canaries].sort((a, b) => a - b)).toStrictEqual(canaries);
  });
});
