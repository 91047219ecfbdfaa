// The dashboard's data from the running controller process (runController, as `trafficshift
// controller` runs it, with --auth=none): the event stream follows a plan the controller moves,
// read with fetch and a stream reader as the browser reads it; the timeline has the check values
// the controller's own rounds measured (the CheckMetrics hook compose.ts wraps); and stopping the
// process ends open streams instead of waiting on them.
import { Readable } from 'node:stream';
import { runController, type ControllerFlags } from '../../src/cli/commands/controller';
import type { CliContext } from '../../src/cli/context';
import { silentLogger } from '../../src/controller/logger';
import { PlanViewSchema, Timeline } from '../../src/api/schemas';
import type { PlanView } from '../../src/steering/view';
import { CheckServer } from '../support/checkServer';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { createPlan, deletePlan, makeTarget, webhookAnalysis } from '../support/plans';

const ctx: CliContext = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from(['']), setExitCode: () => undefined };

let cluster: TestCluster;
const checks = new CheckServer();
let checkUrl: string;

beforeAll(async () => {
  cluster = await startCluster('dashboard-process');
  checkUrl = await checks.start();
});
afterAll(async () => {
  await checks.stop();
  await cluster?.close();
});

/** Server-sent events read from a fetch() body, as the dashboard reads them. */
class FetchedEvents {
  readonly events: Array<{ event: string; data: unknown }> = [];
  ended = false;
  private readonly abort = new AbortController();

  async open(url: string): Promise<Response> {
    const res = await fetch(url, { signal: this.abort.signal });
    if (res.body) void this.read(res.body.getReader());
    return res;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name !== undefined && data !== undefined) this.events.push({ event: name, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  plans(name: string): PlanView[] {
    return this.events.filter((e) => e.event === 'plan' && (e.data as { name: string }).name === name).map((e) => PlanViewSchema.parse(e.data));
  }

  close(): void {
    this.abort.abort();
  }
}

it('streams the plan as the controller moves it, draws its checks from the controller\'s rounds, and ends streams when stopped', async () => {
  const flags: ControllerFlags = {
    kubeconfig: cluster.kubeconfigPath, namespace: cluster.namespace, port: 0, leaderElect: false, leaseName: 'l', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000, logFormat: 'text', concurrency: 2, resync: 30_000,
    auth: 'none',
  };
  const stop = new AbortController();
  let url = '';
  const exit = runController(flags, ctx, stop.signal, { log: silentLogger(), onListening: (u) => (url = u) });
  const stream = new FetchedEvents();
  try {
    await waitFor(() => url !== '', 10_000, 'the HTTP server to listen');
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, 'ready');
    expect(await (await fetch(`${url}/api/v1/info`)).json()).toEqual({ version: expect.any(String), authMode: 'none' });

    const res = await stream.open(`${url}/api/v1/stream?namespace=${cluster.namespace}`);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await waitFor(() => stream.events.some((e) => e.event === 'snapshot'), 5000, 'the snapshot');
    expect(stream.events[0]).toEqual({ event: 'snapshot', data: { plans: [] } });

    checks.value = 0.01;
    const { target, recorder } = await makeTarget(cluster, 'nginx', 'dash-web');
    await recorder.stop();
    await createPlan(cluster, 'dash', { targets: [target], steps: [{ weight: 20 }, { weight: 60, pause: {} }, { weight: 100 }], analysis: webhookAnalysis(checkUrl) });
    await waitFor(() => stream.plans('dash').some((p) => p.phase === 'WaitingForPromotion'), 20_000, 'the plan to wait for promotion, seen on the stream').catch((error: Error) => {
      throw new Error(`${error.message}; the stream had: ${JSON.stringify(stream.plans('dash').map((p) => [p.phase, p.canaryWeight, p.events.slice(-1)]))}`);
    });
    const weights = stream.plans('dash').map((p) => p.canaryWeight);
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
    expect(weights).toContain(20);
    expect(weights[weights.length - 1]).toBe(60);

    // Rounds go on while it waits: the timeline has this process's own measurements.
    const timelineUrl = `${url}/api/v1/namespaces/${cluster.namespace}/plans/dash/timeline`;
    await waitFor(async () => Timeline.parse(await (await fetch(timelineUrl)).json()).checks[0]!.points.length >= 3, 20_000, 'three measured points');
    const timeline = Timeline.parse(await (await fetch(timelineUrl)).json());
    expect(timeline.note).toBeUndefined();
    expect(timeline.checks[0]).toMatchObject({ name: 'smoke', threshold: { max: 0.05 } });
    expect(timeline.checks[0]!.points.every((p) => p.value === 0.01 && p.result === 'Pass')).toBe(true);
    expect(timeline.weights.map((w) => w.weight)).toEqual(expect.arrayContaining([20, 60]));

    checks.value = 1;
    await waitFor(() => stream.plans('dash').some((p) => p.phase === 'RolledBack'), 20_000, 'the rollback, seen on the stream');
    const rolledBack = Timeline.parse(await (await fetch(timelineUrl)).json());
    expect(rolledBack.rollback?.triggeredAt).toEqual(expect.any(String));
    expect(rolledBack.checks[0]!.points.some((p) => p.result === 'Fail')).toBe(true);

    await deletePlan(cluster, 'dash');
    await waitFor(() => stream.events.some((e) => e.event === 'deleted'), 20_000, 'the deletion, seen on the stream');
    expect(stream.events.find((e) => e.event === 'deleted')?.data).toEqual({ namespace: cluster.namespace, name: 'dash' });
  } finally {
    const stoppedAt = Date.now();
    stop.abort();
    expect(await exit).toBe(0);
    // The open stream did not hold the shutdown.
    await waitFor(() => stream.ended, 5000, 'the stream to end');
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    stream.close();
  }
}, 90_000);
