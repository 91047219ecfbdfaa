// A whole analysis round: concurrency, order, judging, and that no failure escapes as a throw.
import type { ServerResponse } from 'node:http';
import { createAnalysisRunner } from '../../src/checks/runner';
import type { CheckMetrics, RoundContext, SecretReader } from '../../src/checks/types';
import { MigrationPlanSpec } from '../../src/plan/schema';
import { json, startLoopback, type Loopback } from './loopback';

const noSecrets: SecretReader = { read: (ns, name, key) => Promise.reject(new Error(`secrets "${name}" not found in ${ns} (key ${key})`)) };
const sample = (v: string) => ({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1700000000, v] }] } });

let server: Loopback;
beforeAll(async () => {
  server = await startLoopback();
});
afterAll(() => server.close());
beforeEach(() => {
  server.received.length = 0;
});

function contextFor(checks: unknown[], prometheus: Record<string, unknown> = { address: server.url }, signal = new AbortController().signal): RoundContext {
  const spec = MigrationPlanSpec.parse({
    targets: [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } }],
    steps: [{ weight: 10 }, { weight: 100 }],
    analysis: { prometheus, checks },
  });
  return { plan: { name: 'checkout-v2', namespace: 'shop' }, spec, step: 0, weight: 10, signal };
}

/** Prometheus whose answer is the query text itself as a number: `query: "0.5"` answers 0.5. */
function echoPrometheus(): void {
  server.handle((req, res) => json(res, 200, sample(new URLSearchParams(req.body).get('query') ?? 'NaN')));
}

describe('runRound for the stable side (rollback validation)', () => {
  it('runs stableQuery and the stable template, and leaves out a query check without stableQuery', async () => {
    const queries: string[] = [];
    server.handle((req, res) => {
      const query = new URLSearchParams(req.body).get('query') ?? '';
      queries.push(query);
      json(res, 200, sample(query.startsWith('sum(rate(') ? '0.001' : query));
    });
    const ctx = contextFor([
      { name: 'canary-only', query: '0.9', max: 1 },
      { name: 'paired', query: '0.9', stableQuery: '0.25', max: 0.5 },
      { name: 'errors', template: 'error-rate', max: 0.01 },
    ]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound({ ...ctx, weight: 0, side: 'stable' });
    expect(round.side).toBe('stable');
    expect(round.outcomes).toStrictEqual([
      { name: 'paired', value: 0.25, result: 'Pass' },
      { name: 'errors', value: 0.001, result: 'Pass' },
    ]);
    expect(queries.sort()).toStrictEqual([
      '0.25',
      'sum(rate(http_requests_total{namespace="shop",service="monolith",code=~"5.."}[1m])) / sum(rate(http_requests_total{namespace="shop",service="monolith"}[1m]))',
    ]);
  });

  it('a canary round carries no side and runs every check with its canary query', async () => {
    echoPrometheus();
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(contextFor([{ name: 'paired', query: '0.9', stableQuery: '0.25', max: 1 }]));
    expect(round.side).toBeUndefined();
    expect(round.outcomes).toStrictEqual([{ name: 'paired', value: 0.9, result: 'Pass' }]);
  });
});

describe('runRound', () => {
  it('runs the checks of a round at the same time', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const waiting: ServerResponse[] = [];
    let fallback: NodeJS.Timeout | undefined;
    const releaseAll = () => {
      clearTimeout(fallback);
      waiting.splice(0).forEach((r) => r.end());
    };
    server.handle((_req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('finish', () => (inFlight -= 1));
      waiting.push(res);
      // Both in flight: answer them. A runner that went one by one would never get here; the
      // fallback answers it after 1s so the test fails on the count instead of hanging.
      if (inFlight === 2) releaseAll();
      else fallback = setTimeout(releaseAll, 1000);
    });
    const ctx = contextFor([
      { name: 'smoke-a', webhook: { url: `${server.url}/a` } },
      { name: 'smoke-b', webhook: { url: `${server.url}/b` } },
    ]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(maxInFlight).toBe(2);
    expect(round.outcomes.map((o) => o.result)).toStrictEqual(['Pass', 'Pass']);
  });

  it('keeps the spec order of checks whatever order they finish in', async () => {
    server.handle((req, res) => {
      if (req.path === '/first') setTimeout(() => res.end(), 100);
      else res.end();
    });
    const ctx = contextFor([
      { name: 'first', webhook: { url: `${server.url}/first` } },
      { name: 'second', webhook: { url: `${server.url}/second` } },
      { name: 'third', webhook: { url: `${server.url}/third` } },
    ]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(round.outcomes.map((o) => o.name)).toStrictEqual(['first', 'second', 'third']);
  });

  it('judges values against min and max, both inclusive', async () => {
    echoPrometheus();
    const ctx = contextFor([
      { name: 'at-max', query: '0.5', max: 0.5 },
      { name: 'over-max', query: '0.51', max: 0.5 },
      { name: 'at-min', query: '5', min: 5 },
      { name: 'under-min', query: '4', min: 5 },
      { name: 'in-range', query: '0.3', min: 0.1, max: 0.5 },
      { name: 'at-range-edges', query: '0.1', min: 0.1, max: 0.1 },
    ]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(round.outcomes).toStrictEqual([
      { name: 'at-max', value: 0.5, result: 'Pass' },
      { name: 'over-max', value: 0.51, result: 'Fail', message: '0.51 is above max 0.5' },
      { name: 'at-min', value: 5, result: 'Pass' },
      { name: 'under-min', value: 4, result: 'Fail', message: '4 is below min 5' },
      { name: 'in-range', value: 0.3, result: 'Pass' },
      { name: 'at-range-edges', value: 0.1, result: 'Pass' },
    ]);
  });

  it('NoData stays NoData whatever the thresholds', async () => {
    echoPrometheus();
    const ctx = contextFor([{ name: 'quiet', query: 'NaN', max: 1 }]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(round.outcomes[0]).toMatchObject({ name: 'quiet', value: null, result: 'NoData' });
  });

  it('a provider that throws gives that check an Error with the cause, and the others still run', async () => {
    echoPrometheus();
    const ctx = contextFor(
      [
        { name: 'needs-token', query: '0.1', max: 1 },
        { name: 'smoke', webhook: { url: `${server.url}/smoke` } },
      ],
      { address: server.url, bearerTokenFrom: { secretKeyRef: { name: 'prom-auth', key: 'token' } } },
    );
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(round.outcomes).toStrictEqual([
      {
        name: 'needs-token',
        value: null,
        result: 'Error',
        message: 'cannot read key "token" of Secret shop/prom-auth: secrets "prom-auth" not found in shop (key token)',
      },
      { name: 'smoke', value: null, result: 'Pass' },
    ]);
  });

  it('a message a provider did not write itself is redacted before it reaches the outcome', async () => {
    const leaky: SecretReader = { read: () => Promise.reject(new Error('proxy http://svc:p4ss@proxy.corp:3128/?token=t0k refused')) };
    const ctx = contextFor([{ name: 'needs-token', query: '0.1', max: 1 }], { address: server.url, bearerTokenFrom: { secretKeyRef: { name: 'prom-auth', key: 'token' } } });
    const round = await createAnalysisRunner({ secrets: leaky }).runRound(ctx);
    expect(round.outcomes[0]?.message).toBe('cannot read key "token" of Secret shop/prom-auth: proxy http://proxy.corp:3128/?token=REDACTED refused');
  });

  it('a fetch that ignores its abort signal is cut off by the runner shortly after the check timeout', async () => {
    const hangs: typeof fetch = () => new Promise<Response>(() => undefined);
    const ctx = contextFor([{ name: 'stuck', webhook: { url: `${server.url}/x`, timeout: '100ms' } }]);
    const round = await createAnalysisRunner({ secrets: noSecrets, fetch: hangs }).runRound(ctx);
    expect(round.outcomes).toStrictEqual([{ name: 'stuck', value: null, result: 'Error', message: 'no result within its 100ms timeout; abandoned after 1s100ms' }]);
  });

  it('an aborted round ends every check with an Error', async () => {
    server.handle(() => undefined);
    const abort = new AbortController();
    const ctx = contextFor(
      [
        { name: 'metric', query: 'up', min: 1 },
        { name: 'smoke', webhook: { url: `${server.url}/smoke` } },
      ],
      { address: server.url },
      abort.signal,
    );
    const pending = createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    abort.abort(new Error('shutting down'));
    const round = await pending;
    expect(round.outcomes.map((o) => [o.name, o.result])).toStrictEqual([['metric', 'Error'], ['smoke', 'Error']]);
  });

  it('completedAt is the clock after the last check finished', async () => {
    let clock = 1000;
    server.handle((req, res) => {
      if (req.path === '/late') {
        setTimeout(() => {
          clock = 2000;
          res.end();
        }, 50);
      } else res.end();
    });
    const ctx = contextFor([
      { name: 'late', webhook: { url: `${server.url}/late` } },
      { name: 'early', webhook: { url: `${server.url}/early` } },
    ]);
    const round = await createAnalysisRunner({ secrets: noSecrets, now: () => clock }).runRound(ctx);
    expect(round.completedAt).toBe(2000);
  });

  it('reports every judged outcome to the metrics hook, and a throwing hook changes nothing', async () => {
    echoPrometheus();
    const seen: Array<[string, number | null, string]> = [];
    const metrics: CheckMetrics = {
      observe: (plan, check, value, result) => {
        seen.push([`${plan.namespace}/${plan.name}/${check}`, value, result]);
        throw new Error('registry broke');
      },
    };
    const ctx = contextFor([{ name: 'error-rate', query: '0.2', max: 0.01 }]);
    const round = await createAnalysisRunner({ secrets: noSecrets, metrics }).runRound(ctx);
    expect(seen).toStrictEqual([['shop/checkout-v2/error-rate', 0.2, 'Fail']]);
    expect(round.outcomes[0]?.result).toBe('Fail');
  });

  it('a plan without checks has an empty round', async () => {
    const round = await createAnalysisRunner({ secrets: noSecrets, now: () => 7 }).runRound(contextFor([]));
    expect(round).toStrictEqual({ completedAt: 7, outcomes: [] });
  });
});
