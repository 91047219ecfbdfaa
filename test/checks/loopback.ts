// A loopback HTTP server for check tests: records what it received and answers through a
// handler the test sets. Not a test file itself.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Received, res: ServerResponse) => void;

export interface Loopback {
  url: string;
  received: Received[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startLoopback(initial: Handler = (_req, res) => res.end()): Promise<Loopback> {
  let handler = initial;
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    handle(h) {
      handler = h;
    },
    close() {
      // Requests left hanging on purpose (timeout tests) would keep close() waiting.
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound once, then closed. */
export async function closedPort(): Promise<number> {
  const l = await startLoopback();
  const port = Number(new URL(l.url).port);
  await l.close();
  return port;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export interface Streamed {
  /** Bytes handed to the socket before it closed. */
  written: number;
  /** Whether the whole body was written; false when the client hung up first. */
  finished: boolean;
}

/**
 * Answers 200 with `total` bytes of `filler`, written as the client reads them (backpressure), and
 * resolves once the connection is closed. A client that stops reading and hangs up makes it
 * resolve with `finished: false` long before `total` bytes went out: the proof that the client
 * did not read the whole answer into memory.
 */
export function streamBytes(res: ServerResponse, total: number, headers: Record<string, string | number> = {}, filler = 'x'): Promise<Streamed> {
  const chunk = Buffer.alloc(64 * 1024, filler);
  let written = 0;
  return new Promise((resolve) => {
    res.on('close', () => resolve({ written, finished: res.writableFinished }));
    res.on('error', () => undefined); // a write after the client hung up; 'close' tells the story
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    const pump = (): void => {
      while (written < total && !res.destroyed) {
        const n = Math.min(chunk.length, total - written);
        written += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
}
