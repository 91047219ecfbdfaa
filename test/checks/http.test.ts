// What every outbound call shares: the clamped check timeout and the bounded read of an answer.
import { BodyTooLarge, CheckTimedOut, checkTimeout, checkTimeoutMs, deadline, DEFAULT_CHECK_TIMEOUT_MS, MAX_BODY_BYTES, readBody } from '../../src/checks/http';
import { Check, MigrationPlanSpec, TIMEOUT_RANGE_MS } from '../../src/plan/schema';
import { startLoopback, streamBytes, type Loopback, type Streamed } from './loopback';

/** A spec as an object stored before the timeout range existed could hold: parsed, then the
 * timeout set past the schema's rules (the controller never re-validates a parsed value). */
function specWithTimeouts(promTimeout: string | undefined, hookTimeout: string | undefined): { spec: MigrationPlanSpec; metric: Check; hook: Check } {
  const spec = MigrationPlanSpec.parse({
    targets: [{ provider: 'smi', smi: { trafficSplit: 't', stableBackend: 'a', canaryBackend: 'b' } }],
    steps: [{ weight: 100 }],
    analysis: {
      prometheus: { address: 'http://prom:9090' },
      checks: [
        { name: 'metric', query: 'up', min: 1 },
        { name: 'hook', webhook: { url: 'http://hook/' } },
      ],
    },
  });
  const analysis = spec.analysis as NonNullable<MigrationPlanSpec['analysis']>;
  if (promTimeout !== undefined) (analysis.prometheus as { timeout?: string }).timeout = promTimeout;
  const [metric, hook] = analysis.checks as [Check, Check];
  if (hookTimeout !== undefined) (hook.webhook as { timeout?: string }).timeout = hookTimeout;
  return { spec, metric, hook };
}

describe('checkTimeout', () => {
  it.each([
    ['unset: the default', undefined, { ms: DEFAULT_CHECK_TIMEOUT_MS }],
    ['in range: as written', '2s', { ms: 2000 }],
    ['the smallest allowed', '100ms', { ms: 100 }],
    ['the largest allowed', '5m', { ms: 300_000 }],
    ['0s: raised to the minimum', '0s', { ms: TIMEOUT_RANGE_MS.min, adjusted: 'the timeout 0s is below the 100ms minimum' }],
    ['0: raised to the minimum', '0', { ms: TIMEOUT_RANGE_MS.min, adjusted: 'the timeout 0 is below the 100ms minimum' }],
    ['days: capped at the maximum', '72h', { ms: TIMEOUT_RANGE_MS.max, adjusted: 'the timeout 72h is above the 5m maximum' }],
    ['not a duration: the default', 'soon', { ms: DEFAULT_CHECK_TIMEOUT_MS, adjusted: 'the timeout "soon" is not a duration, so the default 10s applies' }],
  ])('a webhook timeout %s', (_what, text, expected) => {
    const { spec, hook } = specWithTimeouts(undefined, text);
    expect(checkTimeout(hook, spec)).toStrictEqual(expected);
    expect(checkTimeoutMs(hook, spec)).toBe(expected.ms);
  });

  it.each([
    ['0s', TIMEOUT_RANGE_MS.min],
    ['24h', TIMEOUT_RANGE_MS.max],
    ['30s', 30_000],
  ])('prometheus.timeout %s runs a metric check for %d ms', (text, ms) => {
    const { spec, metric } = specWithTimeouts(text, undefined);
    expect(checkTimeoutMs(metric, spec)).toBe(ms);
  });

  it('the timeout message names the time it ran for and why that differs from the plan', async () => {
    const { spec, hook } = specWithTimeouts(undefined, '0s');
    const t = checkTimeout(hook, spec);
    const limit = deadline(new AbortController().signal, t.ms, t.adjusted);
    await new Promise((resolve) => limit.signal.addEventListener('abort', resolve, { once: true }));
    limit.dispose();
    expect(limit.signal.reason).toBeInstanceOf(CheckTimedOut);
    expect((limit.signal.reason as CheckTimedOut).message).toBe('timed out after 100ms (the timeout 0s is below the 100ms minimum)');
  });
});

describe('readBody', () => {
  let server: Loopback;
  let streamed: Promise<Streamed> | undefined;
  beforeAll(async () => {
    server = await startLoopback();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    streamed = undefined;
  });

  /** The server answers `total` bytes, chunked unless `headers` set a Content-Length. */
  function answer(total: number, headers: Record<string, string | number> = {}): void {
    server.handle((_req, res) => {
      streamed = streamBytes(res, total, headers);
    });
  }

  it('reads an answer up to the limit whole', async () => {
    answer(1000);
    expect(await readBody(await fetch(server.url), 1000)).toBe('x'.repeat(1000));
  });

  it('decodes UTF-8 split across chunks', async () => {
    const text = 'ü€'.repeat(40_000); // multi-byte characters cross 64 KiB chunk edges
    server.handle((_req, res) => res.end(text));
    expect(await readBody(await fetch(server.url))).toBe(text);
  });

  it('one byte over the limit is BodyTooLarge', async () => {
    answer(1001);
    await expect(readBody(await fetch(server.url), 1000)).rejects.toThrow(new BodyTooLarge(1000));
  });

  it('stops a 64 MiB stream at the default 1 MiB limit and hangs up: the server never finishes writing', async () => {
    const total = 64 * MAX_BODY_BYTES;
    answer(total);
    await expect(readBody(await fetch(server.url))).rejects.toThrow('the answer is larger than 1 MiB; stopped reading it');
    const seen = await (streamed as Promise<Streamed>);
    expect(seen.finished).toBe(false);
    // What got out is what the socket buffers held, far below the whole answer.
    expect(seen.written).toBeLessThan(total / 4);
  });

  it('refuses a Content-Length above the limit before reading, and hangs up', async () => {
    const total = 64 * MAX_BODY_BYTES;
    answer(total, { 'content-length': total });
    await expect(readBody(await fetch(server.url))).rejects.toThrow(new BodyTooLarge(MAX_BODY_BYTES, total));
    const seen = await (streamed as Promise<Streamed>);
    expect(seen.finished).toBe(false);
    expect(seen.written).toBeLessThan(total / 4);
  });
});
