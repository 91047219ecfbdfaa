// A real Prometheus for the demo (and for tests that want one): started from the binary on PATH
// on a free loopback port, with a throwaway data directory and a 1 s scrape interval, and
// removed without a trace on stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { z } from 'zod';

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

export interface RunningPrometheus {
  /** e.g. http://127.0.0.1:40123 */
  address: string;
  /** Resolves once every target has been scraped successfully once. */
  waitForTargets(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A port that was free a moment ago: bound once, then closed. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function configYaml(targets: readonly ScrapeTarget[], scrapeInterval: string): string {
  return [
    `global: {scrape_interval: ${scrapeInterval}, evaluation_interval: ${scrapeInterval}}`,
    'scrape_configs:',
    ...targets.flatMap((t) => [`  - job_name: ${JSON.stringify(t.job)}`, `    static_configs: [{targets: [${JSON.stringify(t.address)}]}]`]),
    '',
  ].join('\n');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

/** An instant query's answer, as far as `count(...)` needs it. */
const CountAnswer = z.looseObject({
  data: z.looseObject({ result: z.array(z.looseObject({ value: z.tuple([z.number(), z.string()]) })) }),
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(options: { binary: string; targets: readonly ScrapeTarget[]; scrapeInterval?: string; readyTimeoutMs?: number }): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'trafficshift-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml(options.targets, options.scrapeInterval ?? '1s'));
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child = spawn(
    options.binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    // The tail is what explains a failed start.
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const failure = await Promise.race([spawnFailed, sleep(0).then(() => undefined)]);
    if (failure) {
      await stop();
      throw new PrometheusStartError(`cannot run ${options.binary}: ${failure.message}`, { cause: failure });
    }
    if (child.exitCode !== null) {
      await stop();
      throw new PrometheusStartError(`${options.binary} exited with code ${child.exitCode}: ${stderr.trim()}`);
    }
    const ready = await fetch(`${address}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new PrometheusStartError(`${options.binary} was not ready at ${address} within ${options.readyTimeoutMs ?? 30_000} ms: ${stderr.trim()}`);
    }
    await sleep(200);
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
    stop,
  };
}
