// The Prometheus provider against a loopback server that answers like /api/v1/query, with the
// response shapes of Prometheus' HTTP API documentation.
import { AllowedHosts } from '../../src/checks/outbound';
import { createAnalysisRunner } from '../../src/checks';
import { createPrometheusProvider, CredentialUnavailable, queryUrl } from '../../src/checks/prometheus';
import { renderTemplate } from '../../src/checks/templates';
import type { RoundContext, SecretReader } from '../../src/checks/types';
import { Check, MigrationPlanSpec, type PrometheusSource } from '../../src/plan/schema';
import { closedPort, json, startLoopback, streamBytes, type Loopback, type Streamed } from './loopback';

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

describe('the query URL', () => {
  it.each([
    ['http://prom:9090', 'http://prom:9090/api/v1/query'],
    ['http://prom:9090/', 'http://prom:9090/api/v1/query'],
    ['http://prom:9090/prefix', 'http://prom:9090/prefix/api/v1/query'],
    ['http://prom:9090/prefix/', 'http://prom:9090/prefix/api/v1/query'],
    ['http://prom:9090/prefix?x=1', 'http://prom:9090/prefix/api/v1/query?x=1'],
    ['http://prom:9090/prefix/?x=1&y=2', 'http://prom:9090/prefix/api/v1/query?x=1&y=2'],
    ['https://prom.example.com/prefix#part', 'https://prom.example.com/prefix/api/v1/query'],
  ])('%s queries %s', (address, url) => {
    expect(queryUrl(address).href).toBe(url);
  });

  it('an address with a query string keeps it and still queries /api/v1/query below its path', async () => {
    prom.handle((_req, res) => json(res, 200, vector('0')));
    const ctx = contextFor({ address: `${prom.url}/prefix?x=1` }, [errorRate]);
    expect(await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx)).toMatchObject({ result: 'Pass' });
    expect(prom.received.map((r) => r.path)).toStrictEqual(['/prefix/api/v1/query?x=1']);
  });
});

describe('where the provider may call, and what it sends', () => {
  /** A fetch that records what it was asked and answers one sample, for hosts tests cannot reach. */
  function recordingFetch(): { fetch: typeof fetch; calls: Array<{ url: string; authorization: string | undefined }> } {
    const calls: Array<{ url: string; authorization: string | undefined }> = [];
    const fake = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') ?? undefined });
      return new Response(JSON.stringify(vector('0')), { status: 200 });
    }) as typeof fetch;
    return { fetch: fake, calls };
  }
  function recordingSecrets(): { secrets: SecretReader; reads: string[] } {
    const reads: string[] = [];
    return { reads, secrets: { read: (ns, name, key) => (reads.push(`${ns}/${name}/${key}`), Promise.resolve('tok')) } };
  }
  const withToken = { bearerTokenFrom: { secretKeyRef: { name: 'prom-auth', key: 'token' } } };

  it('a host outside --allowed-hosts is an Error naming the host and the flag; nothing is sent and no Secret is read', async () => {
    const { secrets, reads } = recordingSecrets();
    const ctx = contextFor({ address: prom.url, ...withToken }, [errorRate]);
    const m = await createPrometheusProvider({ secrets, outbound: { allowedHosts: AllowedHosts.parse('prom.example.com') } }).evaluate(errorRate, ctx);
    expect(m).toStrictEqual({
      value: null,
      result: 'Error',
      message: `Prometheus at ${prom.url} is not queried: host "127.0.0.1" is not in the controller's --allowed-hosts; the operator must add it to call it`,
    });
    expect(prom.received).toHaveLength(0);
    expect(reads).toStrictEqual([]);
  });

  it('a host in --allowed-hosts is queried', async () => {
    prom.handle((_req, res) => json(res, 200, vector('0.5')));
    const ctx = contextFor({ address: prom.url }, [errorRate]);
    expect(await createPrometheusProvider({ secrets: noSecrets, outbound: { allowedHosts: AllowedHosts.parse('10.0.0.0/8,127.0.0.0/8') } }).evaluate(errorRate, ctx)).toStrictEqual({ value: 0.5, result: 'Pass' });
  });

  it('the policy reaches the provider through the runner that builds it', async () => {
    const runner = createAnalysisRunner({ secrets: noSecrets, outbound: { allowedHosts: AllowedHosts.parse('prom.example.com') } });
    const round = await runner.runRound({ plan: { namespace: 'shop', name: 'checkout' }, spec: contextFor({ address: prom.url }, [errorRate]).spec, step: 0, weight: 10, signal: new AbortController().signal });
    expect(round.outcomes[0]).toMatchObject({ result: 'Error', message: expect.stringContaining('--allowed-hosts') });
    expect(prom.received).toHaveLength(0);
  });

  it.each([
    ['a bearer token', withToken, 'the bearer token (bearerTokenFrom)'],
    ['basic auth', { basicAuthFrom: { secretRef: { name: 'prom-basic' } } }, 'basic auth (basicAuthFrom)'],
  ])('%s is never sent over plain http outside the cluster: an Error, nothing sent, no Secret read', async (_what, auth, what) => {
    const { fetch: fake, calls } = recordingFetch();
    const { secrets, reads } = recordingSecrets();
    const ctx = contextFor({ address: 'http://prom.example.com:9090', ...auth }, [errorRate]);
    const m = await createPrometheusProvider({ secrets, fetch: fake }).evaluate(errorRate, ctx);
    expect(m).toStrictEqual({
      value: null,
      result: 'Error',
      message: `Prometheus at http://prom.example.com:9090 is not queried: ${what} is not sent over plain http to "prom.example.com", which is outside the cluster: use https, or set analysis.prometheus.allowCredentialsOverHttp: true`,
    });
    expect(calls).toStrictEqual([]);
    expect(reads).toStrictEqual([]);
  });

  it.each([
    ['over https outside the cluster', { address: 'https://prom.example.com' }, 'https://prom.example.com/api/v1/query'],
    ['over http to a Service in the cluster', { address: 'http://prometheus.monitoring.svc:9090' }, 'http://prometheus.monitoring.svc:9090/api/v1/query'],
    ['over http outside when the plan says allowCredentialsOverHttp', { address: 'http://prom.example.com:9090', allowCredentialsOverHttp: true }, 'http://prom.example.com:9090/api/v1/query'],
  ])('a bearer token is sent %s', async (_what, source, url) => {
    const { fetch: fake, calls } = recordingFetch();
    const ctx = contextFor({ ...source, ...withToken }, [errorRate]);
    expect(await createPrometheusProvider({ secrets: recordingSecrets().secrets, fetch: fake }).evaluate(errorRate, ctx)).toMatchObject({ result: 'Pass' });
    expect(calls).toStrictEqual([{ url, authorization: 'Bearer tok' }]);
  });

  it('a redirect is an Error and is not followed', async () => {
    prom.handle((req, res) => {
      if (req.path.startsWith('/elsewhere')) return json(res, 200, vector('0'));
      res.writeHead(307, { location: `${prom.url}/elsewhere?token=t0k` });
      res.end();
    });
    const m = await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, contextFor({ address: prom.url }, [errorRate]));
    expect(m).toStrictEqual({
      value: null,
      result: 'Error',
      message: `Prometheus at ${prom.url} answered 307 Temporary Redirect to ${prom.url}/elsewhere?token=REDACTED; redirects are not followed: put the final address in analysis.prometheus.address`,
    });
    expect(prom.received.map((r) => r.path)).toStrictEqual(['/api/v1/query']);
  });

  it('an answer over 1 MiB is an Error, and the controller hangs up instead of reading it', async () => {
    let streamed: Promise<Streamed> | undefined;
    prom.handle((_req, res) => {
      streamed = streamBytes(res, 100 * 1024 * 1024, {}, ' '); // 100 MB of JSON white space
    });
    const m = await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, contextFor({ address: prom.url }, [errorRate]));
    expect(m).toStrictEqual({ value: null, result: 'Error', message: `Prometheus at ${prom.url} answered 200 OK, but the answer is larger than 1 MiB; stopped reading it` });
    const seen = await (streamed as Promise<Streamed>);
    expect(seen.finished).toBe(false);
  });
});

describe('credentials never reach a message', () => {
  it('an address with user:pass@ is refused, and the message shows it without them', async () => {
    const ctx = contextFor({ address: prom.url.replace('http://', 'http://grafana:hunter2@') }, [errorRate]);
    const m = await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx);
    expect(m).toStrictEqual({
      value: null,
      result: 'Error',
      message: `Prometheus at ${prom.url} is not queried: a URL with a user name or password in it (user:pass@) is not called: send credentials from a Secret or in a header`,
    });
    expect(prom.received).toHaveLength(0);
  });

  it('a token in the address\'s query string is redacted from a connection failure', async () => {
    const port = await closedPort();
    const ctx = contextFor({ address: `http://127.0.0.1:${port}/prom?x=1&access_token=s3cret` }, [errorRate]);
    const m = await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, ctx);
    expect(m.message).toContain(`cannot reach Prometheus at http://127.0.0.1:${port}/prom?x=1&access_token=REDACTED: `);
    expect(m.message).not.toContain('s3cret');
  });

  it('a token in a URL that an error body echoes is redacted', async () => {
    prom.handle((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway calling http://admin:pw@thanos:10902/api?token=s3cret');
    });
    const m = await createPrometheusProvider({ secrets: noSecrets }).evaluate(errorRate, contextFor({ address: prom.url }, [errorRate]));
    expect(m).toStrictEqual({ value: null, result: 'Error', message: 'Prometheus answered 502 Bad Gateway - bad gateway calling http://thanos:10902/api?token=REDACTED' });
  });
});
