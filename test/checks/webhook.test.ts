// The webhook provider, on its own and inside a round, against a loopback server.
import { AllowedHosts } from '../../src/checks/outbound';
import { createAnalysisRunner } from '../../src/checks/runner';
import type { CheckMetrics, RoundContext, SecretReader } from '../../src/checks/types';
import { createWebhookProvider, type WebhookPayload } from '../../src/checks/webhook';
import { Check, MigrationPlanSpec } from '../../src/plan/schema';
import { closedPort, json, startLoopback, streamBytes, type Loopback, type Streamed } from './loopback';

const noSecrets: SecretReader = { read: () => Promise.reject(new Error('no secrets in webhook tests')) };

function contextFor(checks: unknown[], signal = new AbortController().signal): RoundContext {
  const spec = MigrationPlanSpec.parse({
    targets: [{ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }],
    steps: [{ weight: 5 }, { weight: 25 }, { weight: 100 }],
    analysis: { checks },
  });
  return { plan: { name: 'checkout-v2', namespace: 'shop' }, spec, step: 1, weight: 25, signal };
}

let hooks: Loopback;
beforeAll(async () => {
  hooks = await startLoopback();
});
afterAll(() => hooks.close());
beforeEach(() => {
  hooks.received.length = 0;
});

describe('webhook provider', () => {
  const smoke = (extra: Record<string, unknown> = {}) => Check.parse({ name: 'smoke', webhook: { url: `${hooks.url}/smoke`, ...extra } });

  it('posts where the plan is, with the custom headers', async () => {
    hooks.handle((_req, res) => res.end());
    const check = smoke({ headers: { 'X-Api-Key': 'k1' } });
    await createWebhookProvider().evaluate(check, contextFor([check]));
    const [req] = hooks.received;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/smoke');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['x-api-key']).toBe('k1');
    const payload: WebhookPayload = { plan: { name: 'checkout-v2', namespace: 'shop' }, check: 'smoke', step: 1, weight: 25, side: 'canary' };
    expect(JSON.parse(req?.body ?? '')).toStrictEqual(payload);
  });

  it('names the stable side in a rollback validation round', async () => {
    hooks.handle((_req, res) => json(res, 200, { value: 0.01 }));
    const check = smoke();
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound({ ...contextFor([check]), weight: 0, side: 'stable' });
    expect(round).toMatchObject({ side: 'stable', outcomes: [{ name: 'smoke', value: 0.01, result: 'Pass' }] });
    expect(JSON.parse(hooks.received[0]?.body ?? '')).toMatchObject({ check: 'smoke', weight: 0, side: 'stable' });
  });

  it('200 with {"value": n} records the number', async () => {
    hooks.handle((_req, res) => json(res, 200, { value: 0.2, detail: 'ok' }));
    const check = smoke();
    expect(await createWebhookProvider().evaluate(check, contextFor([check]))).toStrictEqual({ value: 0.2, result: 'Pass' });
  });

  it('200 with a plain body passes without a value', async () => {
    hooks.handle((_req, res) => res.end('all good'));
    const check = smoke();
    expect(await createWebhookProvider().evaluate(check, contextFor([check]))).toStrictEqual({ value: null, result: 'Pass' });
  });

  it('500 fails with the status and body in the message', async () => {
    hooks.handle((_req, res) => {
      res.writeHead(500);
      res.end('smoke test: checkout returned 502');
    });
    const check = smoke();
    expect(await createWebhookProvider().evaluate(check, contextFor([check]))).toStrictEqual({
      value: null,
      result: 'Fail',
      message: 'webhook answered 500: smoke test: checkout returned 502',
    });
  });

  it('a refused connection is an Error, not a Fail', async () => {
    const port = await closedPort();
    const check = Check.parse({ name: 'smoke', webhook: { url: `http://127.0.0.1:${port}/smoke` } });
    const m = await createWebhookProvider().evaluate(check, contextFor([check]));
    expect(m).toMatchObject({ value: null, result: 'Error' });
    expect(m.message).toContain('ECONNREFUSED');
  });
});

describe('webhook checks in a round', () => {
  it('a value above max fails, with the value kept', async () => {
    hooks.handle((_req, res) => json(res, 200, { value: 0.2 }));
    const ctx = contextFor([{ name: 'smoke', webhook: { url: `${hooks.url}/smoke` }, max: 0.1 }]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(round.outcomes).toStrictEqual([{ name: 'smoke', value: 0.2, result: 'Fail', message: '0.2 is above max 0.1' }]);
  });

  it('a 2xx without a value cannot meet a threshold', async () => {
    hooks.handle((_req, res) => res.end('ok'));
    const ctx = contextFor([{ name: 'smoke', webhook: { url: `${hooks.url}/smoke` }, max: 0.1 }]);
    const round = await createAnalysisRunner({ secrets: noSecrets }).runRound(ctx);
    expect(round.outcomes[0]?.result).toBe('Error');
  });

  it('a webhook that never answers times out as an Error without holding up the others', async () => {
    hooks.handle((req, res) => {
      if (req.path === '/fast') res.end();
      // /slow never answers
    });
    const durations = new Map<string, number>();
    const metrics: CheckMetrics = { observe: (_plan, check, _value, _result, seconds) => durations.set(check, seconds) };
    const ctx = contextFor([
      { name: 'slow', webhook: { url: `${hooks.url}/slow`, timeout: '1500ms' } },
      { name: 'fast', webhook: { url: `${hooks.url}/fast` } },
    ]);
    const round = await createAnalysisRunner({ secrets: noSecrets, metrics }).runRound(ctx);
    expect(round.outcomes).toStrictEqual([
      { name: 'slow', value: null, result: 'Error', message: `webhook ${hooks.url}/slow timed out after 1s500ms` },
      { name: 'fast', value: null, result: 'Pass' },
    ]);
    // Generous bound: the fast check is done long before the slow one's 1.5s timeout.
    expect(durations.get('fast')).toBeLessThan(1);
    expect(durations.get('slow')).toBeGreaterThanOrEqual(1.4);
  });
});

describe('webhook outbound rules', () => {
  const smoke = (url: string) => Check.parse({ name: 'smoke', webhook: { url } });

  it('a host outside --allowed-hosts is an Error naming the host and the flag, and is not called', async () => {
    const check = smoke(`${hooks.url}/smoke`);
    const m = await createWebhookProvider({ outbound: { allowedHosts: AllowedHosts.parse('checks.shop.svc') } }).evaluate(check, contextFor([check]));
    expect(m).toStrictEqual({
      value: null,
      result: 'Error',
      message: `webhook ${hooks.url}/smoke is not called: host "127.0.0.1" is not in the controller's --allowed-hosts; the operator must add it to call it`,
    });
    expect(hooks.received).toHaveLength(0);
  });

  it('a 2xx answer over 1 MiB is an Error, never a pass, and the controller hangs up', async () => {
    let streamed: Promise<Streamed> | undefined;
    hooks.handle((_req, res) => {
      streamed = streamBytes(res, 100 * 1024 * 1024);
    });
    const check = smoke(`${hooks.url}/smoke`);
    const m = await createWebhookProvider().evaluate(check, contextFor([check]));
    expect(m).toStrictEqual({ value: null, result: 'Error', message: `webhook ${hooks.url}/smoke answered 200, but the answer is larger than 1 MiB; stopped reading it` });
    expect((await (streamed as Promise<Streamed>)).finished).toBe(false);
  });

  it('a redirect is an Error and is not followed', async () => {
    hooks.handle((req, res) => {
      if (req.path === '/smoke') {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
      } else res.end();
    });
    const check = smoke(`${hooks.url}/smoke`);
    expect(await createWebhookProvider().evaluate(check, contextFor([check]))).toStrictEqual({
      value: null,
      result: 'Error',
      message: `webhook ${hooks.url}/smoke answered 302 to /elsewhere; redirects are not followed: put the final URL in the spec`,
    });
    expect(hooks.received.map((r) => r.path)).toStrictEqual(['/smoke']);
  });

  it('a token in the URL is redacted from a connection failure', async () => {
    const port = await closedPort();
    const check = smoke(`http://127.0.0.1:${port}/smoke?token=s3cret`);
    const m = await createWebhookProvider().evaluate(check, contextFor([check]));
    expect(m.message).toContain(`cannot reach webhook http://127.0.0.1:${port}/smoke?token=REDACTED: `);
    expect(m.message).not.toContain('s3cret');
  });

  it('a URL with credentials in a failing answer is redacted', async () => {
    hooks.handle((_req, res) => {
      res.writeHead(500);
      res.end('upstream http://ci:pat123@jenkins/job?apikey=k9 failed');
    });
    const check = smoke(`${hooks.url}/smoke`);
    expect(await createWebhookProvider().evaluate(check, contextFor([check]))).toStrictEqual({
      value: null,
      result: 'Fail',
      message: 'webhook answered 500: upstream http://jenkins/job?apikey=REDACTED failed',
    });
  });
});
