// The demo's stand-in for the ingress controllers and the users behind them. Each target is an
// "edge": it reads the canary weight from the live route object through the API (as ingress-nginx
// reads its canary Ingress), and sends requests to the stable or the canary backend in that
// proportion. The backends' metrics then follow what the controller wrote, with no shortcut.
import type { Kube } from '../kube';
import type { Target } from '../plan/schema';
import { createProvider, type TrafficProvider } from '../providers';
import type { SampleBackend } from './backends';

/** How often an edge re-reads its route object. */
export const ROUTE_POLL_MS = 200;

export interface Edge {
  target: Target;
  stable: SampleBackend;
  canary: SampleBackend;
}

/** Polls every edge's route object; `weight(i)` is what edge i's object held at the last read. */
export class LiveRoutes {
  private readonly providers: TrafficProvider[];
  private readonly weights: Array<number | undefined>;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(kube: Kube, namespace: string, readonly edges: readonly Edge[]) {
    this.providers = edges.map((e) => createProvider(kube, namespace, e.target));
    this.weights = edges.map(() => undefined);
  }

  /** Reads every route once, then keeps reading every ROUTE_POLL_MS. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => (this.polling = undefined));
    }, ROUTE_POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  weight(index: number): number | undefined {
    return this.weights[index];
  }

  /** Reads every route now (not the cached value). */
  async readNow(): Promise<Array<number | undefined>> {
    await this.poll();
    return [...this.weights];
  }

  describe(index: number): string {
    return this.providers[index]?.describe() ?? `target ${index}`;
  }

  private async poll(): Promise<void> {
    await Promise.all(
      this.providers.map(async (p, i) => {
        try {
          const state = await p.read();
          this.weights[i] = state.ok ? state.weight : undefined;
        } catch {
          // A failed read keeps the last weight, as an ingress keeps its last config.
        }
      }),
    );
  }
}

const REQUEST_TIMEOUT_MS = 2000;

/** What the load generator reads: the edges and each one's current weight. */
export type RouteWeights = Pick<LiveRoutes, 'edges' | 'weight'>;

/** Sends `requestsPerSecond` requests per edge, split between stable and canary by the edge's
 * live weight. The split is exact rather than random (a running credit), so the canary's share of
 * requests over any few seconds is the weight. */
export class LoadGenerator {
  private timer: NodeJS.Timeout | undefined;
  private readonly credit: number[];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly routes: RouteWeights, private readonly requestsPerSecond = 40) {
    this.credit = routes.edges.map(() => 0);
  }

  start(): void {
    const tickMs = 50;
    const perTick = (this.requestsPerSecond * tickMs) / 1000;
    let owed = 0;
    this.timer = setInterval(() => {
      owed += perTick;
      for (; owed >= 1; owed--) this.routes.edges.forEach((edge, i) => this.send(edge, i));
    }, tickMs);
  }

  /** Stops sending and waits for the answers still on their way (each has a short deadline). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.inFlight);
  }

  private send(edge: Edge, index: number): void {
    const weight = this.routes.weight(index) ?? 0;
    this.credit[index] = (this.credit[index] ?? 0) + weight / 100;
    let backend = edge.stable;
    if ((this.credit[index] ?? 0) >= 1) {
      this.credit[index] = (this.credit[index] ?? 0) - 1;
      backend = edge.canary;
    }
    const request = fetch(`${backend.url}/`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      .then((res) => res.arrayBuffer())
      .then(
        () => undefined,
        () => undefined, // a backend that is gone or slow; a 5xx is an answer, not an exception
      );
    this.inFlight.add(request);
    void request.finally(() => this.inFlight.delete(request));
  }
}
