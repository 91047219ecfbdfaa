// A check endpoint for webhook checks: answers {"value": n} with whatever the test sets, and
// counts the calls. The controller reaches it over HTTP on loopback like any webhook.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the controller POSTs to a webhook check (src/checks/webhook.ts). */
export interface CheckRequest {
  /** The request's path and query (not part of the body): lets one server answer many plans. */
  url?: string;
  plan?: { name?: string; namespace?: string };
  check?: string;
  /** A check's step index; a hook's `{number, of, label}` (src/checks/hooks.ts HookPayload). */
  step?: number | { number?: number; of?: number; label?: string };
  weight?: number;
  /** Hooks only: which hook, and when. */
  hook?: { name?: string; when?: string };
  /** `stable` in a rollback validation's rounds, `canary` otherwise. */
  side?: 'canary' | 'stable';
}

export class CheckServer {
  value = 0;
  status = 200;
  calls = 0;
  /** When set, decides the value per request (e.g. fail once a plan reaches a step). */
  valueFor: ((request: CheckRequest) => number) | undefined;
  /** When set, decides the HTTP status per request (a hook passes on 2xx). */
  statusFor: ((request: CheckRequest) => number) | undefined;
  /** Every request body received, in order. */
  readonly received: CheckRequest[] = [];
  /** When set, holds the answer this long: a slow check (stop() hangs up on whatever is held). */
  delayMs = 0;
  /** When set, decides the delay per request instead of delayMs. */
  delayFor: ((request: CheckRequest) => number) | undefined;
  /** Requests received and not answered yet. */
  inFlight = 0;
  private server: http.Server | undefined;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.calls++;
        let body: CheckRequest = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CheckRequest;
        } catch {
          // not JSON: answer with the fixed value
        }
        const request = { ...body, url: req.url ?? '' };
        this.received.push(request);
        const value = this.valueFor ? this.valueFor(request) : this.value;
        const status = this.statusFor ? this.statusFor(request) : this.status;
        const answer = (): void => {
          this.inFlight--;
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ value }));
        };
        this.inFlight++;
        const delay = this.delayFor ? this.delayFor(request) : this.delayMs;
        if (delay > 0) {
          const timer = setTimeout(answer, delay);
          res.on('close', () => clearTimeout(timer));
        } else answer();
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/check`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
