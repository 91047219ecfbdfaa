// A check endpoint for webhook checks: answers {"value": n} with whatever the test sets, and
// counts the calls. The controller reaches it over HTTP on loopback like any webhook.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class CheckServer {
  value = 0;
  status = 200;
  calls = 0;
  private server: http.Server | undefined;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.calls++;
        res.writeHead(this.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ value: this.value }));
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
