// Sample backends and live traffic for metric-gate tests: a stable and a canary backend per
// scenario, serving `http_requests_total{service,code}` and `http_request_duration_seconds` in
// the Prometheus text format, and a load generator that splits requests between them by the
// weight the target object holds now, read through the API as an ingress would.
import { SampleBackend, type BackendOptions } from '../../src/demo/backends';
import type { ScrapeTarget } from '../../src/demo/prometheus';
import { LiveRoutes, LoadGenerator } from '../../src/demo/traffic';
import type { Target } from '../../src/plan/schema';
import type { TestCluster } from './cluster';

export type Behaviour = Pick<BackendOptions, 'errorRatio' | 'latency'>;

/** Answers every request 200, in 20-70 ms. */
export const HEALTHY: Behaviour = { errorRatio: 0, latency: { baseSeconds: 0.02, spreadSeconds: 0.05 } };

export interface BackendPair {
  stable: SampleBackend;
  canary: SampleBackend;
}

/** A started stable/canary pair whose metrics carry service="<prefix>-stable" and "<prefix>-canary". */
export async function startPair(prefix: string, canary: Partial<Behaviour> = {}): Promise<BackendPair> {
  const pair = {
    stable: new SampleBackend({ name: `${prefix}-stable`, ...HEALTHY }),
    canary: new SampleBackend({ name: `${prefix}-canary`, ...HEALTHY, ...canary }),
  };
  await Promise.all([pair.stable.start(), pair.canary.start()]);
  return pair;
}

export async function stopPairs(pairs: readonly BackendPair[]): Promise<void> {
  await Promise.all(pairs.flatMap((p) => [p.stable.stop(), p.canary.stop()]));
}

/** One scrape job per backend, named after it. */
export function scrapeTargets(pairs: readonly BackendPair[]): ScrapeTarget[] {
  return pairs.flatMap((p) => [p.stable, p.canary]).map((b) => ({ job: b.name, address: new URL(b.url).host }));
}

/** Traffic through one target: follows the canary weight its live object holds. */
export class Traffic {
  private readonly routes: LiveRoutes;
  private readonly load: LoadGenerator;

  constructor(cluster: TestCluster, target: Target, pair: BackendPair, requestsPerSecond = 20) {
    this.routes = new LiveRoutes(cluster.kube, cluster.namespace, [{ target, stable: pair.stable, canary: pair.canary }]);
    this.load = new LoadGenerator(this.routes, requestsPerSecond);
  }

  async start(): Promise<void> {
    await this.routes.start();
    this.load.start();
  }

  async stop(): Promise<void> {
    await this.load.stop();
    await this.routes.stop();
  }
}

/**
 * The range of rate() in the tests' PromQL. Prometheus scrapes every second, and rate() needs two
 * samples inside the range, so 5s is several scrapes of slack on a busy machine while a fixed
 * canary reads clean again within seconds.
 */
export const RATE_RANGE = '5s';

/** Share of the canary's requests answered 5xx; NaN (NoData) while it gets no traffic. */
export function errorRateQuery(service: string): string {
  return `sum(rate(http_requests_total{service="${service}",code=~"5.."}[${RATE_RANGE}])) / sum(rate(http_requests_total{service="${service}"}[${RATE_RANGE}]))`;
}

/** The canary's p99 latency in seconds. */
export function latencyP99Query(service: string): string {
  return `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="${service}"}[${RATE_RANGE}])))`;
}

/** The canary's 5xx answers per second: 0, not NaN, while it gets no traffic (the counter exists from the start). */
export function errorsPerSecondQuery(service: string): string {
  return `sum(rate(http_requests_total{service="${service}",code=~"5.."}[${RATE_RANGE}]))`;
}
