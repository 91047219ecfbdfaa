// The built-in templates against a real Prometheus: the binary scrapes a tiny exporter every
// second, and a round's template checks must read the canary's error rate and p99 from it. Skips
// (loudly) where no `prometheus` binary is on PATH.
import { startPrometheus, type RunningPrometheus } from '../../src/demo/prometheus';
import { BINARIES, haveBinaries, itWithBinaries } from '../support/prometheus';
import { createAnalysisRunner } from '../../src/checks/runner';
import type { AnalysisRound, RoundContext } from '../../src/checks/types';
import { MigrationPlanSpec } from '../../src/plan/schema';
import { startLoopback, type Loopback } from './loopback';

const it = itWithBinaries('prometheus');

// The exporter's canary serves 100 req/s, 10 of them 5xx, every one taking between 0.1s and
// 0.25s; its stable backend 200 req/s, 2 of them 5xx, every one between 0.05s and 0.1s.
// Counters grow with wall time, so any rate() window sees exactly these proportions.
interface Backend {
  service: string;
  ok: number;
  failed: number;
  /** Every request's latency lies in (low, high]. */
  low: number;
  high: number;
}
const CANARY: Backend = { service: 'canary', ok: 90, failed: 10, low: 0.1, high: 0.25 };
const STABLE: Backend = { service: 'stable', ok: 198, failed: 2, low: 0.05, high: 0.1 };
const BUCKETS = [0.05, 0.1, 0.25];
const errorRate = (b: Backend): number => b.failed / (b.ok + b.failed);
// histogram_quantile interpolates linearly inside the bucket every request falls in.
const p99 = (b: Backend): number => b.low + (b.high - b.low) * 0.99;
const EXPECTED_ERROR_RATE = errorRate(CANARY);
const EXPECTED_P99 = p99(CANARY);

function series(b: Backend, seconds: number): string[] {
  const ok = b.ok * seconds;
  const failed = b.failed * seconds;
  const total = ok + failed;
  const labels = `namespace="shop",service="${b.service}"`;
  return [
    `http_requests_total{${labels},code="200"} ${ok}`,
    `http_requests_total{${labels},code="500"} ${failed}`,
    ...BUCKETS.map((le) => `http_request_duration_seconds_bucket{${labels},le="${le}"} ${le >= b.high ? total : 0}`),
    `http_request_duration_seconds_bucket{${labels},le="+Inf"} ${total}`,
    `http_request_duration_seconds_sum{${labels}} ${total * b.high}`,
    `http_request_duration_seconds_count{${labels}} ${total}`,
  ];
}

function exposition(seconds: number): string {
  const [canary, stable] = [series(CANARY, seconds), series(STABLE, seconds)];
  return [
    '# HELP http_requests_total Requests served.',
    '# TYPE http_requests_total counter',
    ...canary.slice(0, 2),
    ...stable.slice(0, 2),
    '# HELP http_request_duration_seconds Request latency.',
    '# TYPE http_request_duration_seconds histogram',
    ...canary.slice(2),
    ...stable.slice(2),
    '',
  ].join('\n');
}

async function until<T>(what: () => string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await attempt().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`gave up after ${timeoutMs}ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('templates against a real Prometheus', () => {
  let exporter: Loopback | undefined;
  let prometheus: RunningPrometheus | undefined;
  let address: string;

  beforeAll(async () => {
    if (!haveBinaries('prometheus')) return;
    const started = Date.now();
    exporter = await startLoopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(exposition((Date.now() - started) / 1000));
    });
    prometheus = await startPrometheus({ binary: BINARIES.prometheus as string, targets: [{ job: 'canary', address: new URL(exporter.url).host }] });
    address = prometheus.address;
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.close();
  });

  function context(checks: unknown[]): RoundContext {
    const spec = MigrationPlanSpec.parse({
      targets: [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'stable', canaryBackend: 'canary' } }],
      steps: [{ weight: 10 }, { weight: 100 }],
      analysis: { prometheus: { address }, checks },
    });
    return { plan: { name: 'checkout-v2', namespace: 'shop' }, spec, step: 0, weight: 10, signal: new AbortController().signal };
  }

  it('reads the canary error rate and p99 latency through the built-in templates', async () => {
    const runner = createAnalysisRunner({ secrets: { read: () => Promise.reject(new Error('no secrets here')) } });
    const ctx = context([
      { name: 'error-rate', template: 'error-rate', max: 0.5 },
      { name: 'error-rate-strict', template: 'error-rate', max: 0.05 },
      { name: 'latency-p99', template: 'latency-p99', max: 0.3 },
    ]);
    // rate() needs two scrapes inside its window; until then the templates answer NoData.
    const round = await until<AnalysisRound>(
      () => 'two scrapes of the exporter',
      async () => {
        const r = await runner.runRound(ctx);
        return r.outcomes.every((o) => o.result !== 'NoData') ? r : undefined;
      },
      30_000,
    );
    const [loose, strict, latency] = round.outcomes;
    expect(loose).toMatchObject({ name: 'error-rate', result: 'Pass' });
    expect(loose?.value).toBeCloseTo(EXPECTED_ERROR_RATE, 3);
    expect(strict).toMatchObject({ name: 'error-rate-strict', result: 'Fail' });
    expect(latency).toMatchObject({ name: 'latency-p99', result: 'Pass' });
    expect(latency?.value).toBeCloseTo(EXPECTED_P99, 3);
  }, 45_000);

  it('measures the stable backend in a rollback validation round: templates for stable, a stableQuery, and a query check without one left out', async () => {
    const runner = createAnalysisRunner({ secrets: { read: () => Promise.reject(new Error('no secrets here')) } });
    const ctx = {
      ...context([
        { name: 'error-rate', template: 'error-rate', max: 0.05 },
        { name: 'latency-p99', template: 'latency-p99', max: 0.3 },
        {
          name: 'throughput',
          // irate: the last two scrapes, so the rate is right from the second scrape on.
          query: 'sum(irate(http_requests_total{service="canary"}[1m]))',
          stableQuery: 'sum(irate(http_requests_total{service="stable"}[1m]))',
          min: 150,
        },
        { name: 'canary-only', query: 'sum(rate(http_requests_total{service="canary"}[1m]))', min: 1 },
      ]),
      weight: 0,
      side: 'stable' as const,
    };
    const round = await until<AnalysisRound>(
      () => 'two scrapes of the exporter',
      async () => {
        const r = await runner.runRound(ctx);
        return r.outcomes.every((o) => o.result !== 'NoData') ? r : undefined;
      },
      30_000,
    );
    expect(round.side).toBe('stable');
    expect(round.outcomes.map((o) => o.name)).toStrictEqual(['error-rate', 'latency-p99', 'throughput']);
    const [errors, latency, throughput] = round.outcomes;
    // Stable's numbers, not the canary's (0.1 errors, p99 0.2485, 100 req/s): the canary would fail
    // error-rate and throughput here.
    expect(errors).toMatchObject({ result: 'Pass' });
    expect(errors?.value).toBeCloseTo(errorRate(STABLE), 3);
    expect(latency).toMatchObject({ result: 'Pass' });
    expect(latency?.value).toBeCloseTo(p99(STABLE), 3);
    expect(throughput).toMatchObject({ result: 'Pass' });
    // Scrapes land a few milliseconds off the exporter's clock: within 10% of 200 req/s.
    expect(Math.abs((throughput?.value ?? 0) / (STABLE.ok + STABLE.failed) - 1)).toBeLessThan(0.1);
  }, 45_000);

  it('a selector that matches nothing is NoData, and bad PromQL is an Error with Prometheus\' message', async () => {
    const runner = createAnalysisRunner({ secrets: { read: () => Promise.reject(new Error('no secrets here')) } });
    const round = await runner.runRound(
      context([
        { name: 'absent', query: 'sum(rate(http_requests_total{service="nobody"}[1m]))', max: 1 },
        { name: 'broken', query: 'sum(rate(http_requests_total[1m])', max: 1 },
      ]),
    );
    expect(round.outcomes[0]).toStrictEqual({ name: 'absent', value: null, result: 'NoData', message: 'query returned no series' });
    expect(round.outcomes[1]).toMatchObject({ name: 'broken', value: null, result: 'Error' });
    expect(round.outcomes[1]?.message).toMatch(/^Prometheus answered 400 Bad Request \(bad_data\): .*parse error/);
  });
});
