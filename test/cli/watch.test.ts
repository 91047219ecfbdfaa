// `status --watch` and `wait`, driven by a status the test writes in the controller's place, so
// each change is one the test made: piped output is one line per change, a terminal gets the
// view redrawn in place, -o json one document per line; wait's three states, its early failure,
// its timeout, and Ctrl-C.
import { Readable } from 'node:stream';
import { runStatus } from '../../src/cli/commands/status';
import { runWait } from '../../src/cli/commands/wait';
import { connect } from '../../src/cli/connect';
import type { CliContext } from '../../src/cli/context';
import { INTERRUPTED } from '../../src/cli/interrupt';
import { REQUEST_ANNOTATIONS } from '../../src/plan/schema';
import type { PlanView } from '../../src/steering/view';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CATCH_UP_MS, SETTLE_MS } from '../support/deadlines';
import { at, capture, cli, expectOneLine, makePlan, planAt, setStatus, statusFor, watchStarted, type CapturedStream } from './cliSupport';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster('cli-watch');
});
afterAll(() => cluster?.close());

const lines = (out: CapturedStream): string[] => out.text().split('\n').filter((l) => l !== '');

function context(stdout: CapturedStream): { ctx: CliContext; stderr: CapturedStream } {
  const stderr = capture();
  return { ctx: { stdout, stderr, stdin: Readable.from(['']), setExitCode: () => undefined }, stderr };
}

describe('status --watch', () => {
  it('piped: one line per change (time, plan, phase, step, weights, failing checks), ending by itself once settled', async () => {
    const name = 'piped';
    await makePlan(cluster, name, { status: statusFor('Progressing', { currentStep: 0, canaryWeight: 25 }) });
    const out = capture();
    const running = cli(['status', name, ...at(cluster), '--watch'], { stdout: out });
    await waitFor(() => lines(out).length === 1, CATCH_UP_MS, 'the first line');

    const failing = { name: 'error-rate', value: 0.2, threshold: '<= 0.05', result: 'Fail' as const, consecutiveFailures: 1, at: new Date().toISOString() };
    await setStatus(cluster, name, statusFor('Holding', { currentStep: 0, canaryWeight: 25, checks: [failing] }));
    await waitFor(() => lines(out).length === 2, CATCH_UP_MS, 'a line for the hold');
    await setStatus(cluster, name, statusFor('RolledBack', { currentStep: 0, canaryWeight: 0 }));

    const run = await running;
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const ns = cluster.namespace;
    const printed = run.stdout.trimEnd().split('\n');
    expect(printed.map((l) => l.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ''))).toStrictEqual([
      `${ns}/${name} Progressing step 1/4 canary 25% weights Ingress/${name}-ing-canary=0`,
      `${ns}/${name} Holding step 1/4 canary 25% weights Ingress/${name}-ing-canary=0 failing error-rate=0.2(<= 0.05,Fail)`,
      `${ns}/${name} RolledBack step 1/4 canary 0% weights Ingress/${name}-ing-canary=0 rollback "errors seen"`,
    ]);
    for (const l of printed) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  });

  it('in a terminal: redraws the view in place with cursor-up and clear-line codes', async () => {
    const name = 'tty';
    await makePlan(cluster, name, { status: statusFor('Progressing', { currentStep: 1, canaryWeight: 50 }) });
    const tty = capture({ columns: 100, rows: 40 });
    const running = cli(['status', name, ...at(cluster), '--watch'], { stdout: tty });
    await waitFor(() => tty.text().includes('Ctrl-C to stop'), CATCH_UP_MS, 'the first frame');
    await setStatus(cluster, name, statusFor('Succeeded', { currentStep: 3, canaryWeight: 100 }));
    const run = await running;
    expect(run.code).toBe(0);

    // Frames, each after a cursor-up over every line of the one before: [frame, n, frame, n, ...].
    const parts = run.stdout.split(/\x1b\[(\d+)A\r/);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts[0]).toMatch(/^\x1b\[2KName: /);
    for (let i = 1; i < parts.length; i += 2) expect(Number(parts[i])).toBe((parts[i - 1] as string).split('\n').length - 1);
    // Each frame rewrites every line cleared and clears whatever the last one left below.
    for (let i = 0; i < parts.length; i += 2) {
      expect((parts[i] as string).split('\n').slice(0, -1).every((l) => l.startsWith('\x1b[2K'))).toBe(true);
      expect((parts[i] as string).endsWith('\n\x1b[J')).toBe(true);
    }
    const final = parts[parts.length - 1] as string;
    expect(final).toContain('\x1b[2KPhase:       Succeeded\n');
    expect(final).toContain('\x1b[2KProgress:    [##########] step 4/4  canary 100%\n');
    expect(final).toContain('(Succeeded: done watching)');
    // No line is wider than the terminal.
    for (const line of run.stdout.replace(/\x1b\[[0-9]*[A-Za-z]/g, '').split(/[\r\n]/)) expect(line.length).toBeLessThan(100);
  });

  it('-o json: one JSON view per line per change', async () => {
    const name = 'json';
    await makePlan(cluster, name, { status: statusFor('WaitingForPromotion', { currentStep: 0, canaryWeight: 25 }) });
    const out = capture();
    const running = cli(['status', name, ...at(cluster), '--watch', '-o', 'json'], { stdout: out });
    await waitFor(() => lines(out).length === 1, CATCH_UP_MS, 'the first document');
    await setStatus(cluster, name, statusFor('Failed', { currentStep: 0, canaryWeight: 25 }));
    const run = await running;
    expect(run.code).toBe(0);
    const views = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PlanView);
    expect(views.map((v) => v.phase)).toStrictEqual(['WaitingForPromotion', 'Failed']);
    expect(views[0]).toMatchObject({ name, namespace: cluster.namespace, step: { number: 1, count: 4 }, canaryWeight: 25, targets: [{ provider: 'nginx', weight: 0 }] });
  });

  it('a plan already settled: shows it once and ends', async () => {
    await makePlan(cluster, 'settled', { status: statusFor('Succeeded', { currentStep: 3, canaryWeight: 100 }) });
    const once = await cli(['status', 'settled', ...at(cluster), '--watch']);
    expect(once.code).toBe(0);
    expect(once.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a deleted plan ends it with exit 1', async () => {
    await makePlan(cluster, 'doomed', { status: statusFor('Progressing') });
    const out = capture();
    const running = cli(['status', 'doomed', ...at(cluster), '--watch'], { stdout: out });
    await watchStarted(cluster, 'doomed');
    await cluster.kube.delete(planAt(cluster, 'doomed'));
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${cluster.namespace}/doomed was deleted\n`);
  });

  it('Ctrl-C ends it with exit 0', async () => {
    await makePlan(cluster, 'stopped', { status: statusFor('Progressing') });
    const out = capture();
    const { ctx } = context(out);
    const conn = connect({ kubeconfig: cluster.kubeconfigPath, namespace: cluster.namespace });
    const interrupt = new AbortController();
    try {
      const running = runStatus(conn, 'stopped', { watch: true }, ctx, interrupt.signal);
      await waitFor(() => lines(out).length === 1, CATCH_UP_MS, 'the first line');
      interrupt.abort();
      expect(await running).toBe(0);
    } finally {
      conn.kube.close();
    }
  });
});

describe('wait', () => {
  it.each([
    ['Succeeded', statusFor('Succeeded', { currentStep: 3, canaryWeight: 100 }), 'Succeeded (canary 100%)'],
    ['RolledBack', statusFor('RolledBack'), 'is RolledBack: errors seen'],
    ['Ready', statusFor('Succeeded', { currentStep: 3, canaryWeight: 100 }), 'is Ready (phase Succeeded, canary 100%)'],
  ] as const)('--for %s: exit 0 once the plan gets there', async (want, status, said) => {
    const name = `reach-${want.toLowerCase()}`;
    await makePlan(cluster, name, { status: statusFor('Progressing') });
    const waiting = cli(['wait', name, ...at(cluster), '--for', want, '--timeout', `${SETTLE_MS / 1000}s`]);
    await setStatus(cluster, name, statusFor('Progressing', { currentStep: 1, canaryWeight: 50 }));
    await setStatus(cluster, name, status);
    expect(await waiting).toStrictEqual({ code: 0, stdout: `${cluster.namespace}/${name} ${said}\n`, stderr: '' });
  });

  it.each([
    ['Succeeded', 'RolledBack'],
    ['Ready', 'Failed'],
    ['Succeeded', 'RollingBack'],
    ['RolledBack', 'Succeeded'],
  ] as const)('--for %s fails at once, exit 1, when the plan is %s', async (want, phase) => {
    const name = `early-${want.toLowerCase()}-${phase.toLowerCase()}`;
    await makePlan(cluster, name, { status: statusFor('Progressing') });
    const started = Date.now();
    const waiting = cli(['wait', name, ...at(cluster), '--for', want, '--timeout', '10m']);
    await setStatus(cluster, name, statusFor(phase));
    const run = await waiting;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: ${cluster.namespace}/${name} (is ${phase}, not ${want}, and will not get there without a person|is rolling back, so it will not be ${want})`));
    expectOneLine(run.stderr);
    expect(Date.now() - started).toBeLessThan(CATCH_UP_MS);
  });

  it('a RolledBack plan with a retry pending is not judged yet: it times out instead (exit 2, one line)', async () => {
    const name = 'retrying';
    await makePlan(cluster, name, { status: statusFor('RolledBack') });
    await cluster.kube.mergePatch(planAt(cluster, name), { metadata: { annotations: { [REQUEST_ANNOTATIONS.retry]: 'after the fix' } } });
    const run = await cli(['wait', name, ...at(cluster), '--for', 'Succeeded', '--timeout', '1s']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: timed out after 1s waiting for ${cluster.namespace}/${name} to be Succeeded (now RolledBack at step 1/4, canary 0%)\n`);
  });

  it('a deleted plan fails it at once', async () => {
    await makePlan(cluster, 'vanishing', { status: statusFor('Progressing') });
    const waiting = cli(['wait', 'vanishing', ...at(cluster), '--for', 'Succeeded', '--timeout', '10m']);
    await watchStarted(cluster, 'vanishing');
    await cluster.kube.delete(planAt(cluster, 'vanishing'));
    const run = await waiting;
    expect(run).toMatchObject({ code: 1, stderr: `error: ${cluster.namespace}/vanishing was deleted while waiting for Succeeded\n` });
  });

  it('Ctrl-C: exit 130, saying where the plan is', async () => {
    await makePlan(cluster, 'impatient', { status: statusFor('Progressing') });
    const out = capture();
    const { ctx, stderr } = context(out);
    const conn = connect({ kubeconfig: cluster.kubeconfigPath, namespace: cluster.namespace });
    const interrupt = new AbortController();
    try {
      const running = runWait(conn, 'impatient', { for: 'Succeeded', timeout: SETTLE_MS }, ctx, interrupt.signal);
      setTimeout(() => interrupt.abort(), 200);
      expect(await running).toBe(INTERRUPTED);
      expect(stderr.text()).toBe(`interrupted while waiting for ${cluster.namespace}/impatient to be Succeeded (now Progressing at step 1/4, canary 25%)\n`);
    } finally {
      conn.kube.close();
    }
  });
});
