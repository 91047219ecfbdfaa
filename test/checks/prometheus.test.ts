// The Prometheus provider against a loopback server that answers like /api/v1/query, with the
// response shapes of Prometheus' HTTP API documentation.
import { createPrometheusProvider, CredentialUnavailable } from '../../src/checks/prometheus';
import { renderTemplate } from '../../src/checks/templates';
import type { RoundContext, SecretReader } from '../../src/checks/types';
import { Check, MigrationPlanSpec, type PrometheusSource } from '../../src/plan/schema';
import { closedPort, json, startLoopback, type Loopback } from './loopback';

const TS = 1435781451.781;
const vector = (...values: string[]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: values.map((v, i) => ({ metric: { __name__: 'http_requests_total', instance: `10.0.0.${i}:8080`, job: 'checkout' }, value: [TS, v] })),
  },
});

const noSecrets: SecretReader = { read: (ns, name, key) => Promise.reject(new Error(`no Secret ${ns}/${name} key ${key}`)) };

function contextFor(prometheus: PrometheusSource, checks: unknown[], signal = new AbortController().signal): RoundContext {
  const spec = MigrationPlanSpec.parse({
    targets: [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } }],
    steps: [{ weight: 10 }, { weight: 100 }],
    analysis: { prometheus, checks },
  });
  return { plan: { name: 'checkout-v2', namespace: 'shop' }, spec, step: 0, weight: 10, signal };
}

const errorRate = Check.parse({ name: 'error-rate', query: 'sum(rate(x[1m]))', max: 0.01 });

let prom: Loopback;
beforeAll(async () => {
  prom = await startLoopback();
});
afterAll(() => prom.close());
beforeEach(() => {
  prom.received.length = 0;
});

async function evaluateWith(answer: (res: import('node:http').ServerResponse) => void, check = errorRate, source: Partial<PrometheusSource> = {}) {
  prom.handle((_req, res) => answer(res));
  const ctx = contextFor({ address: prom.url, ...source }, [check]);
  return createPrometheusProvider({ secrets: noSecrets }).evaluate(check, ctx);
}

describe('Prometheus answers', () => {
  it('one sample is the value', async () => {
    expect(await evaluateWith((res) => json(res, 200, vector('0.0123')))).toStrictEqual({ value: 0.0123, result: 'Pass' });
  });

  it('an empty vector is NoData', async () => {
    expect(await evaluateWith((res) => json(res, 200, vector()))).toStrictEqual({ value: null, result: 'NoData', message: 'query returned no series' });
  });

  it('several series are an Error that says how to fix the query', async () => {
    const m = await evaluateWith((res) => json(res, 200, vector('1', '2', '3')));
    expect(m.result).toBe('Error');
    expect(m.value).toBeNull();
    expect(m.message).toMatch(/^query returned 3 series; a check needs exactly one — aggregate with sum\(\) or similar/);
  });

  it('NaN (0/0 without traffic) is NoData', async () => {
    expect(await evaluateWith((res) => json(res, 200, vector('NaN')))).toStrictEqual({
      value: null,
      result: 'NoData',
      message: 'value is NaN, e.g. 0/0 when there is no traffic',
    });
  });

  it.each(['+Inf', '-Inf'])('%s is an Error', async (inf) => {
    const m = await evaluateWith((res) => json(res, 200, vector(inf)));
    expect(m).toMatchObject({ value: null, result: 'Error' });
    expect(m.message).toContain(inf);
  });

  it('a scalar is the value', async () => {
    expect(await evaluateWith((res) => json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [TS, '42'] } }))).toStrictEqual({
      value: 42,
      result: 'Pass',
    });
  });

  it('a range vector is an Error', async () => {
    const m = await evaluateWith((res) => json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[TS, '1']] }] } }));
    expect(m).toMatchObject({ value: null, result: 'Error' });
  });

  it('400 carries Prometheus\' error text', async () => {
    const m = await evaluateWith((res) =>
      json(res, 400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:6: parse error: unexpected end of input' }),
    );
    expect(m).toStrictEqual({
      value: null,
      result: 'Error',
      message: 'Prometheus answered 400 Bad Request (bad_data): invalid parameter "query": 1:6: parse error: unexpected end of input',
    });
  });

  it('503 from a proxy without a Prometheus body keeps the status and the text', async () => {
    const m = await evaluateWith((res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('upstream connect error');
    });
    expect(m).toStrictEqual({ value: null, result: 'Error', message: 'Prometheus answered 503 Service Unavailable - upstream connect error' });
  });

  it('a 200 that is not JSON is an Error', async () => {
    const m = await evaluateWith((res) => res.end('<html>login</html>'));
    expect(m).toMatchObject({ value: null, result: 'Error' });
    expect(m.message).toContain('not JSON');
  });

  it('a refused connection is an Error with the cause', async () => {
    const port = await closedPort();
    const ctx = contextFor({ address: `http://127.0.0.1:${port}` }, [errorRate]);
    const m = await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx);
    expect(m).toMatchObject({ value: null, result: 'Error' });
    expect(m.message).toContain(`cannot reach Prometheus at http://127.0.0.1:${port}`);
    expect(m.message).toContain('ECONNREFUSED');
  });

  it('a server that never answers times out with prometheus.timeout', async () => {
    const m = await evaluateWith(() => undefined, errorRate, { timeout: '200ms' });
    expect(m).toStrictEqual({ value: null, result: 'Error', message: `Prometheus at ${prom.url} timed out after 200ms` });
  });

  it('an aborted round stops the query', async () => {
    prom.handle(() => undefined);
    const round = new AbortController();
    const ctx = contextFor({ address: prom.url }, [errorRate], round.signal);
    const pending = createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx);
    round.abort(new Error('controller stopping'));
    expect(await pending).toStrictEqual({ value: null, result: 'Error', message: `cannot reach Prometheus at ${prom.url}: the analysis round was aborted` });
  });
});

describe('what Prometheus receives', () => {
  it('the query as a POST form with the timeout, at the address path', async () => {
    prom.handle((_req, res) => json(res, 200, vector('0')));
    const ctx = contextFor({ address: `${prom.url}/prom/`, timeout: '5s' }, [errorRate]);
    await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx);
    const [req] = prom.received;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/prom/api/v1/query');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req?.body))).toStrictEqual({ query: 'sum(rate(x[1m]))', timeout: '5000ms' });
  });

  it('a template check sends the rendered template', async () => {
    prom.handle((_req, res) => json(res, 200, vector('0')));
    const check = Check.parse({ name: 'latency', template: 'latency-p99', max: 0.5 });
    const ctx = contextFor({ address: prom.url }, [check]);
    await createPrometheusProvider({ secrets: noSecrets }).evaluate(check, ctx);
    expect(new URLSearchParams(prom.received[0]?.body).get('query')).toBe(renderTemplate('latency-p99', ctx.spec, 'shop'));
  });

  it('a bearer token from the plan namespace\'s Secret, trimmed, and custom headers', async () => {
    prom.handle((_req, res) => json(res, 200, vector('0')));
    const reads: string[] = [];
    const secrets: SecretReader = {
      read: (ns, name, key) => {
        reads.push(`${ns}/${name}/${key}`);
        return Promise.resolve('s3cret-token\n');
      },
    };
    const ctx = contextFor(
      { address: prom.url, headers: { 'X-Scope-OrgID': 'tenant-a' }, bearerTokenFrom: { secretKeyRef: { name: 'prom-auth', key: 'token' } } },
      [errorRate],
    );
    expect(await createPrometheusProvider({ secrets }).evaluate(errorRate, ctx)).toMatchObject({ result: 'Pass' });
    expect(reads).toStrictEqual(['shop/prom-auth/token']);
    expect(prom.received[0]?.headers.authorization).toBe('Bearer s3cret-token');
    expect(prom.received[0]?.headers['x-scope-orgid']).toBe('tenant-a');
  });

  it('basic auth from the Secret\'s username and password keys', async () => {
    prom.handle((_req, res) => json(res, 200, vector('0')));
    const secrets: SecretReader = { read: (_ns, _name, key) => Promise.resolve(key === 'username' ? 'grafana' : 'pa:ss') };
    const ctx = contextFor({ address: prom.url, basicAuthFrom: { secretRef: { name: 'prom-basic' } } }, [errorRate]);
    await createPrometheusProvider({ secrets }).evaluate(errorRate, ctx);
    const header = prom.received[0]?.headers.authorization ?? '';
    expect(header.startsWith('Basic ')).toBe(true);
    expect(Buffer.from(header.slice('Basic '.length), 'base64').toString()).toBe('grafana:pa:ss');
  });

  it('a missing credential Secret rejects with CredentialUnavailable and sends nothing', async () => {
    const ctx = contextFor({ address: prom.url, bearerTokenFrom: { secretKeyRef: { name: 'gone', key: 'token' } } }, [errorRate]);
    await expect(createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx)).rejects.toThrow(CredentialUnavailable);
    expect(prom.received).toHaveLength(0);
  });
});
