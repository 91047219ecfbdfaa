// The demo's sample backends: small HTTP servers that answer requests, fail a set share of them,
// and report what they served two ways: `/metrics` in the Prometheus text format (for a real
// Prometheus), and `/check/<name>` webhook endpoints that compute the same numbers over the last
// few seconds themselves (for when no Prometheus is installed).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';

export interface BackendOptions {
  /** The `service` label of its metrics, e.g. `checkout-svc`. */
  name: string;
  /** Share of requests answered 500, spread evenly: 0.2 fails every fifth request. */
  errorRatio: number;
  /** Made-up latency: each request is recorded as taking base..base+spread seconds. */
  latency: { baseSeconds: number; spreadSeconds: number };
}

/** The window the webhook checks compute over; Prometheus queries use the same range. */
export const CHECK_WINDOW_MS = 5000;
export const PROMQL_RANGE = '5s';

// Fine enough around the demo's latencies that histogram_quantile reads a plausible p99.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5];

interface Served {
  at: number;
  failed: boolean;
  seconds: number;
}

export class SampleBackend {
  private readonly registry = new Registry();
  private readonly requests: Counter<'service' | 'code'>;
  private readonly durations: Histogram<'service'>;
  private readonly recent: Served[] = [];
  private served = 0;
  private server: http.Server | undefined;
  private baseUrl = '';
  /** Whose numbers a webhook check asking with `side: stable` gets (a rollback validation). */
  stableSide: SampleBackend | undefined;

  constructor(private options: BackendOptions, private readonly now: () => number = Date.now) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'http_requests_total', help: 'Requests served, by status code.', labelNames: ['service', 'code'], registers });
    this.durations = new Histogram({ name: 'http_request_duration_seconds', help: 'Request latency.', labelNames: ['service'], buckets: BUCKETS, registers });
    // Both series exist from the start, so an error-rate query reads 0 (not "no series") while
    // the backend has not failed yet.
    for (const code of ['200', '500']) this.requests.inc({ service: options.name, code }, 0);
  }

  get name(): string {
    return this.options.name;
  }

  /** How it answers from now on: a canary that starts failing, or is fixed, mid-migration. */
  behave(change: Partial<Pick<BackendOptions, 'errorRatio' | 'latency'>>): void {
    this.options = { ...this.options, ...change };
  }

  /** Requests answered (not counting /metrics and /check scrapes). */
  get requestsServed(): number {
    return this.served;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error(`backend ${this.name} is not started`);
    return this.baseUrl;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void this.answer(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The error ratio over the last CHECK_WINDOW_MS; 0 when nothing was served (a webhook has no
   * "no data" answer, and an idle canary has failed nobody). */
  errorRate(): number {
    const window = this.window();
    return window.length === 0 ? 0 : window.filter((s) => s.failed).length / window.length;
  }

  /** The 99th percentile latency over the last CHECK_WINDOW_MS, in seconds; 0 when idle. */
  latencyP99(): number {
    const sorted = this.window().map((s) => s.seconds).sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? 0);
  }

  private window(): Served[] {
    const since = this.now() - CHECK_WINDOW_MS;
    while (this.recent.length > 0 && (this.recent[0]?.at ?? 0) < since) this.recent.shift();
    return this.recent;
  }

  private async answer(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://backend').pathname;
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': this.registry.contentType });
      res.end(await this.registry.metrics());
    } else if (path === '/check/error-rate' || path === '/check/latency-p99') {
      const subject = askedSide(body) === 'stable' ? (this.stableSide ?? this) : this;
      json(res, { value: round(path === '/check/error-rate' ? subject.errorRate() : subject.latencyP99()) });
    } else {
      this.serve(res);
    }
  }

  private serve(res: http.ServerResponse): void {
    this.served++;
    const { errorRatio, latency } = this.options;
    // Evenly spread failures instead of random ones: the same share in every window, every run.
    const failed = Math.floor(this.served * errorRatio) > Math.floor((this.served - 1) * errorRatio);
    const seconds = latency.baseSeconds + Math.random() * latency.spreadSeconds;
    this.requests.inc({ service: this.name, code: failed ? '500' : '200' });
    this.durations.observe({ service: this.name }, seconds);
    this.recent.push({ at: this.now(), failed, seconds });
    res.writeHead(failed ? 500 : 200, { 'content-type': 'text/plain' });
    res.end(failed ? `${this.name}: internal error\n` : `${this.name}: ok\n`);
  }
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

/** The `side` a webhook check's payload names (src/checks/webhook.ts); canary when it names none. */
function askedSide(body: string): string {
  try {
    const payload = JSON.parse(body) as { side?: unknown };
    return typeof payload?.side === 'string' ? payload.side : 'canary';
  } catch {
    return 'canary';
  }
}

function json(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
