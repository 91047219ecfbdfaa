import { CHECK_WINDOW_MS, SampleBackend } from '../../src/demo/backends';
import { LoadGenerator, type Edge, type RouteWeights } from '../../src/demo/traffic';
import { findOnPath } from '../../src/demo/prometheus';

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SampleBackend', () => {
  let backend: SampleBackend;
  let clock = 1_000_000;
  beforeEach(async () => {
    backend = new SampleBackend({ name: 'payments-svc', errorRatio: 0.2, latency: { baseSeconds: 0.04, spreadSeconds: 0.01 } }, () => clock);
    await backend.start();
  });
  afterEach(() => backend.stop());

  it('fails exactly its share of requests, and its metrics and check endpoints say so', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 50; i++) codes.push((await fetch(`${backend.url}/`)).status);
    expect(codes.filter((c) => c === 500)).toHaveLength(10);
    expect(codes.filter((c) => c === 200)).toHaveLength(40);

    const metrics = await (await fetch(`${backend.url}/metrics`)).text();
    expect(metrics).toContain('http_requests_total{service="payments-svc",code="500"} 10');
    expect(metrics).toContain('http_requests_total{service="payments-svc",code="200"} 40');
    expect(metrics).toContain('http_request_duration_seconds_bucket{le="0.05",service="payments-svc"} 50');

    expect(await (await fetch(`${backend.url}/check/error-rate`, { method: 'POST', body: '{}' })).json()).toStrictEqual({ value: 0.2 });
    const p99 = (await (await fetch(`${backend.url}/check/latency-p99`, { method: 'POST' })).json()) as { value: number };
    expect(p99.value).toBeGreaterThanOrEqual(0.04);
    expect(p99.value).toBeLessThanOrEqual(0.05);
  });

  it('checks cover the last few seconds only, and an idle backend reports 0', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${backend.url}/`);
    expect(backend.errorRate()).toBe(0.2);
    clock += CHECK_WINDOW_MS + 1;
    expect(backend.errorRate()).toBe(0);
    expect(backend.latencyP99()).toBe(0);
  });

  it('exposes both status codes from the start, so an error-rate query has a series to read', async () => {
    const metrics = await (await fetch(`${backend.url}/metrics`)).text();
    expect(metrics).toContain('http_requests_total{service="payments-svc",code="500"} 0');
  });
});

describe('LoadGenerator', () => {
  it('sends each edge\'s canary exactly its weight\'s share of the requests, and follows a weight change', async () => {
    const stable = new SampleBackend({ name: 'monolith', errorRatio: 0, latency: { baseSeconds: 0.01, spreadSeconds: 0 } });
    const canary = new SampleBackend({ name: 'checkout-svc', errorRatio: 0, latency: { baseSeconds: 0.01, spreadSeconds: 0 } });
    await stable.start();
    await canary.start();
    let weight = 25;
    const edge: Edge = { target: { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }, stable, canary };
    const routes: RouteWeights = { edges: [edge], weight: () => weight };
    const load = new LoadGenerator(routes, 200);
    try {
      load.start();
      await until('40 requests', () => stable.requestsServed + canary.requestsServed >= 40);
      await load.stop();
      const total = stable.requestsServed + canary.requestsServed;
      expect(canary.requestsServed).toBe(Math.floor(total * 0.25));

      weight = 0;
      const before = canary.requestsServed;
      const load2 = new LoadGenerator(routes, 200);
      load2.start();
      await until('40 more requests', () => stable.requestsServed + canary.requestsServed >= total + 40);
      await load2.stop();
      expect(canary.requestsServed).toBe(before);
    } finally {
      await load.stop();
      await stable.stop();
      await canary.stop();
    }
  });
});

describe('findOnPath', () => {
  it('finds an executable the way `which` does, and nothing on an empty PATH', () => {
    expect(findOnPath('node', process.env['PATH'])).toMatch(/node$/);
    expect(findOnPath('node', '')).toBeUndefined();
  });
});
