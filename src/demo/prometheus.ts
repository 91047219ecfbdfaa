// A real Prometheus for the demo (and for tests that want one): started from the binary on PATH
// on a free loopback port, with a throwaway data directory and a 1 s scrape interval, and
// removed without a trace on stop(). Tests also use it to load alerting rules, send alerts to an
// Alertmanager, and stop and restart the server on the same port and data (an outage).
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { z } from 'zod';
import { spawnTied } from './childProcess';

export class PrometheusStartError extends Error {
  override readonly name = 'PrometheusStartError';
}

/** The executable `name` in a directory of $PATH, as `which` finds it. */
export function findOnPath(name: string, searchPath: string = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface ScrapeTarget {
  job: string;
  /** host:port */
  address: string;
}

export interface PrometheusOptions {
  binary: string;
  targets: readonly ScrapeTarget[];
  /** How often targets are scraped and rules evaluated; default 1s. */
  scrapeInterval?: string;
  readyTimeoutMs?: number;
  /** The text of a rule file (alerting or recording rules) to evaluate. */
  rules?: string;
  /** Alertmanagers (host:port) that firing and resolved alerts are sent to. */
  alertmanagers?: readonly string[];
}

export interface RunningPrometheus {
  /** e.g. http://127.0.0.1:40123 */
  address: string;
  /** Resolves once every target has been scraped successfully once. */
  waitForTargets(timeoutMs?: number): Promise<void>;
  /** Stops the server but keeps its port and data directory: an outage, not the end. */
  halt(): Promise<void>;
  /** Starts the server again after halt(), on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago: bound once, then closed. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function configYaml(options: PrometheusOptions, ruleFile: string | undefined): string {
  const interval = options.scrapeInterval ?? '1s';
  const lines = [`global: {scrape_interval: ${interval}, evaluation_interval: ${interval}}`];
  if (ruleFile !== undefined) lines.push(`rule_files: [${JSON.stringify(ruleFile)}]`);
  if (options.alertmanagers !== undefined && options.alertmanagers.length > 0) {
    lines.push('alerting:', `  alertmanagers: [{static_configs: [{targets: [${options.alertmanagers.map((a) => JSON.stringify(a)).join(', ')}]}]}]`);
  }
  lines.push(
    'scrape_configs:',
    ...options.targets.flatMap((t) => [`  - job_name: ${JSON.stringify(t.job)}`, `    static_configs: [{targets: [${JSON.stringify(t.address)}]}]`]),
    '',
  );
  return lines.join('\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ServerProcess {
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Runs `binary` with `args`, tied to this process (it cannot outlive it), and resolves once
 * `readyUrl` answers 2xx. A failed start (no such binary, an early exit, not ready in time)
 * stops the child and throws PrometheusStartError with the tail of its stderr.
 */
export async function launchServer(binary: string, args: readonly string[], readyUrl: string, readyTimeoutMs: number): Promise<ServerProcess> {
  let stderr = '';
  const server = spawnTied(binary, args);
  server.child.stderr?.on('data', (chunk: Buffer) => {
    // The tail is what explains a failed start.
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const stop = async (): Promise<void> => {
    await server.stop();
  };
  const spawnFailed = new Promise<Error>((resolve) => server.child.once('error', resolve));

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const failure = await Promise.race([spawnFailed, sleep(0).then(() => undefined)]);
    if (failure) {
      await stop();
      throw new PrometheusStartError(`cannot run ${binary}: ${failure.message}`, { cause: failure });
    }
    if (!server.running) {
      const code = await server.exited;
      throw new PrometheusStartError(`${binary} exited with code ${code}: ${stderr.trim()}`);
    }
    const ready = await fetch(readyUrl).then((r) => r.ok, () => false);
    if (ready) return { pid: server.pid, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new PrometheusStartError(`${binary} was not ready at ${readyUrl} within ${readyTimeoutMs} ms: ${stderr.trim()}`);
    }
    await sleep(200);
  }
}

/** An instant query's answer, as far as `count(...)` needs it. */
const CountAnswer = z.looseObject({
  data: z.looseObject({ result: z.array(z.looseObject({ value: z.tuple([z.number(), z.string()]) })) }),
});

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'trafficshift-prometheus-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  let ruleFile: string | undefined;
  if (options.rules !== undefined) {
    ruleFile = join(dir, 'rules.yml');
    writeFileSync(ruleFile, options.rules);
  }
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml(options, ruleFile));
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const args = [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
  const launch = (): Promise<ServerProcess> => launchServer(options.binary, args, `${address}/-/ready`, readyTimeoutMs);

  let server: ServerProcess | undefined;
  try {
    server = await launch();
  } catch (error) {
    remove();
    throw error;
  }

  return {
    address,
    async waitForTargets(timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      const query = `${address}/api/v1/query?query=${encodeURIComponent('count(up == 1)')}`;
      for (;;) {
        const count = await fetch(query)
          .then((r) => r.json())
          .then((body) => {
            const parsed = CountAnswer.safeParse(body);
            return parsed.success ? Number(parsed.data.data.result[0]?.value[1] ?? 0) : 0;
          }, () => 0);
        if (count >= options.targets.length) return;
        if (Date.now() > end) throw new PrometheusStartError(`Prometheus at ${address} scraped ${count} of ${options.targets.length} targets within ${timeoutMs} ms`);
        await sleep(200);
      }
    },
    async halt() {
      const running = server;
      server = undefined;
      await running?.stop();
    },
    async restart() {
      if (server !== undefined) throw new PrometheusStartError(`Prometheus at ${address} is running; halt() it before restart()`);
      server = await launch();
    },
    async stop() {
      const running = server;
      server = undefined;
      await running?.stop();
      remove();
    },
  };
}
