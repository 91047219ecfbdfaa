// A real Prometheus (and the binaries it needs) for integration tests. Where a binary is missing
// the tests that need it are registered as skipped, each with a loud line and a running count:
// CI installs both (make tools), so only a bare local machine ever skips.
import { z } from 'zod';
import { findOnPath, startPrometheus, type PrometheusOptions, type RunningPrometheus } from '../../src/demo/prometheus';
import { waitFor } from './cluster';

export const BINARIES = {
  prometheus: findOnPath('prometheus'),
  // Debian names it prometheus-alertmanager; upstream tarballs and other distributions alertmanager.
  alertmanager: findOnPath('prometheus-alertmanager') ?? findOnPath('alertmanager'),
} as const;

export type BinaryName = keyof typeof BINARIES;

const INSTALL_HINT: Record<BinaryName, string> = {
  prometheus: 'apt-get install prometheus, or `make tools`',
  alertmanager: 'apt-get install prometheus-alertmanager, or `make tools`',
};

let skippedInFile = 0;

/** The test file that registered a test, from a stack trace: the first frame outside test/support. */
function fileOf(stack: string | undefined): string {
  const frame = (stack ?? '').split('\n').find((line) => /\.test\.ts:/.test(line));
  const match = frame ? /(test\/[^\s:()]+\.test\.ts)/.exec(frame) : null;
  return match?.[1] ?? 'this file';
}

/**
 * `it` for tests that need `binaries` on PATH. When one is missing each test is registered as
 * skipped and says so at collection time, with how many this file has skipped so far (jest runs
 * no afterAll in a file whose tests are all skipped, so a summary at the end would not print).
 */
export function itWithBinaries(...binaries: BinaryName[]): jest.It {
  const missing = binaries.filter((b) => BINARIES[b] === undefined);
  if (missing.length === 0) return it;
  return ((name: string, fn?: jest.ProvidesCallback, timeout?: number) => {
    skippedInFile++;
    const why = missing.map((b) => `${b} binary not found on PATH (${INSTALL_HINT[b]})`).join('; ');
    // Straight to stderr: jest does not print the buffered console of a file whose tests all skipped.
    process.stderr.write(`\n!!! SKIPPED: ${why}: "${name}" did not run. Skipped tests in ${fileOf(new Error().stack)} so far: ${skippedInFile}\n`);
    it.skip(name, fn, timeout);
  }) as jest.It;
}

/** True when every one of `binaries` is on PATH: guard beforeAll/afterAll work with it. */
export function haveBinaries(...binaries: BinaryName[]): boolean {
  return binaries.every((b) => BINARIES[b] !== undefined);
}

/** Starts Prometheus (1s scrape and rule evaluation) and waits until every target was scraped. */
export async function startTestPrometheus(options: Omit<PrometheusOptions, 'binary'>): Promise<RunningPrometheus> {
  const binary = BINARIES.prometheus;
  if (binary === undefined) throw new Error('prometheus binary not found on PATH; guard the caller with haveBinaries("prometheus")');
  const prometheus = await startPrometheus({ binary, scrapeInterval: '1s', ...options });
  try {
    await prometheus.waitForTargets(20_000);
  } catch (error) {
    await prometheus.stop();
    throw error;
  }
  return prometheus;
}

const VectorAnswer = z.looseObject({
  status: z.literal('success'),
  data: z.looseObject({ result: z.array(z.looseObject({ value: z.tuple([z.number(), z.string()]) })) }),
});

/** The single value an instant query returns now; undefined for no series, NaN or a failure. */
export async function queryValue(address: string, promql: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${address}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const parsed = VectorAnswer.safeParse(await res.json());
    const text = parsed.success ? parsed.data.data.result[0]?.value[1] : undefined;
    const value = text === undefined ? NaN : Number(text);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until `promql` has a finite value that satisfies `ok`. */
export async function waitForQuery(address: string, promql: string, ok: (value: number) => boolean, timeoutMs: number, what: string): Promise<number> {
  let last: number | undefined;
  await waitFor(async () => {
    last = await queryValue(address, promql);
    return last !== undefined && ok(last);
  }, timeoutMs, `${what} (query ${promql}, last value ${String(last)})`, 250);
  return last as number;
}
