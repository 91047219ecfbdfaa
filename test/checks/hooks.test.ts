// The hook runner against a loopback server: the payload, retries with backoff, timeouts,
// non-2xx answers, --allowed-hosts and redaction.
import { createHookRunner, HOOK_API_VERSION, type HookPayload } from '../../src/checks/hooks';
import { AllowedHosts } from '../../src/checks/outbound';
import type { HookCall } from '../../src/engine/hooks';
import { Hook } from '../../src/plan/schema';
import { closedPort, json, startLoopback, type Loopback } from './loopback';

const plan = { name: 'checkout-v2', namespace: 'shop' };
let server: Loopback;
beforeAll(async () => {
  server = await startLoopback();
});
afterAll(() => server.close());
beforeEach(() => {
  server.received.length = 0;
});

function call(hook: Record<string, unknown>, rest: Partial<HookCall> = {}): HookCall {
  return {
    hook: Hook.parse({ name: 'journeys', when: 'afterStep', ...hook }),
    when: 'afterStep',
    step: 1,
    steps: 4,
    label: 'step 2/4: canary 25%',
    weight: 25,
    side: 'canary',
    ...rest,
  };
}

const runner = createHookRunner({ backoffMs: 10, now: () => Date.parse('2026-11-25T10:00:00Z') });
const signal = (): AbortSignal => new AbortController().signal;

describe('hook runner', () => {
  it('posts the versioned payload with the custom headers; a 2xx passes', async () => {
    server.handle((_req, res) => json(res, 204, {}));
    const result = await runner.run(plan, call({ webhook: { url: `${server.url}/journeys`, headers: { 'X-Api-Key': 'k1' } } }), signal());
    expect(result).toEqual({ name: 'journeys', when: 'afterStep', step: 1, result: 'Pass', attempts: 1, completedAt: Date.parse('2026-11-25T10:00:00Z') });
    const [req] = server.received;
    expect(req?.method).toBe('POST');
    expect(req?.headers['x-api-key']).toBe('k1');
    expect(req?.headers['content-type']).toBe('application/json');
    const payload: HookPayload = {
      apiVersion: HOOK_API_VERSION,
      plan: { namespace: 'shop', name: 'checkout-v2' },
      hook: { name: 'journeys', when: 'afterStep' },
      step: { number: 2, of: 4, label: 'step 2/4: canary 25%' },
      weight: 25,
      side: 'canary',
      attempt: 1,
    };
    expect(JSON.parse(req?.body ?? '')).toEqual(payload);
  });

  it('retries a non-2xx answer and passes when a retry does', async () => {
    let n = 0;
    server.handle((_req, res) => json(res, ++n < 3 ? 503 : 200, {}));
    const result = await runner.run(plan, call({ webhook: { url: `${server.url}/j` } }), signal());
    expect(result).toMatchObject({ result: 'Pass', attempts: 3 });
    expect(server.received.map((r) => (JSON.parse(r.body) as HookPayload).attempt)).toEqual([1, 2, 3]);
  });

  it('fails after its retries with the status and an excerpt of the answer', async () => {
    server.handle((_req, res) => {
      res.writeHead(500);
      res.end(`checkout journey broke ${'x'.repeat(2000)}`);
    });
    const result = await runner.run(plan, call({ webhook: { url: `${server.url}/j` }, retries: 1 }), signal());
    expect(result).toMatchObject({ result: 'Fail', attempts: 2, message: expect.stringMatching(/answered 500: checkout journey broke x+…$/) });
    expect(result.message?.length).toBeLessThan(450);
    expect(server.received).toHaveLength(2);
  });

  it('fails a hook that does not answer within its timeout', async () => {
    server.handle(() => undefined); // never answers
    const result = await runner.run(plan, call({ webhook: { url: `${server.url}/slow`, timeout: '200ms' }, retries: 0 }), signal());
    expect(result).toMatchObject({ result: 'Fail', attempts: 1, message: expect.stringContaining('timed out after 200ms') });
  });

  it('fails on a refused connection, retried', async () => {
    const port = await closedPort();
    const result = await runner.run(plan, call({ webhook: { url: `http://127.0.0.1:${port}/j` }, retries: 2 }), signal());
    expect(result).toMatchObject({ result: 'Fail', attempts: 3, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('never calls a host --allowed-hosts does not admit, and does not retry it', async () => {
    const strict = createHookRunner({ backoffMs: 10, outbound: { allowedHosts: AllowedHosts.parse('checks.shop.svc') } });
    const result = await strict.run(plan, call({ webhook: { url: `${server.url}/j` } }), signal());
    expect(result).toMatchObject({ result: 'Fail', attempts: 1, message: expect.stringContaining('--allowed-hosts') });
    expect(server.received).toHaveLength(0);
  });

  it('redacts credentials in the URL from every message', async () => {
    server.handle((_req, res) => json(res, 502, {}));
    const result = await runner.run(plan, call({ webhook: { url: `${server.url}/j?token=s3cret` }, retries: 0 }), signal());
    expect(result.message).toContain('answered 502');
    expect(result.message).not.toContain('s3cret');
    const port = await closedPort();
    const refused = await runner.run(plan, call({ webhook: { url: `http://user:pa55@127.0.0.1:${port}/j?api_key=s3cret` }, retries: 0 }), signal());
    expect(refused.message).not.toMatch(/s3cret|pa55/);
  });

  it('stops retrying when the reconcile is interrupted', async () => {
    server.handle((_req, res) => json(res, 503, {}));
    const abort = new AbortController();
    const slow = createHookRunner({ backoffMs: 5_000 });
    const running = slow.run(plan, call({ webhook: { url: `${server.url}/j` }, retries: 5 }), abort.signal);
    setTimeout(() => abort.abort(), 100);
    const result = await running;
    expect(result).toMatchObject({ result: 'Fail', attempts: 1, message: expect.stringContaining('interrupted') });
  });
});
