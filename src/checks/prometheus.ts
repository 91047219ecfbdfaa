// A metric check: one instant query against Prometheus' HTTP API, which must come back as exactly
// one number. Everything else (no series, several series, NaN, infinities, HTTP and network
// failures) is NoData or Error with the reason, never a Pass: a check that cannot see the canary
// must not wave it through.
import { z } from 'zod';
import type { Check, PrometheusSource } from '../plan/schema';
import { BodyTooLarge, CheckTimedOut, checkTimeout, deadline, describeFetchFailure, excerpt, MAX_BODY_BYTES, messageOf, readBody } from './http';
import { ALLOW_ALL_HOSTS, refuseDestination, type OutboundPolicy } from './outbound';
import { redactUrl } from './redact';
import { renderTemplate } from './templates';
import type { CheckProvider, Measurement, RoundContext, SecretReader } from './types';

export class CredentialUnavailable extends Error {
  override readonly name = 'CredentialUnavailable';
}

// Response shapes of GET|POST /api/v1/query (Prometheus docs, "HTTP API" > "Instant queries").
// Sample values are strings so that NaN and ±Inf survive JSON.
const Sample = z.tuple([z.number(), z.string()]);
const VectorSeries = z.looseObject({
  metric: z.record(z.string(), z.string()),
  value: Sample.optional(),
  histogram: z.unknown().optional(), // native histograms carry this instead of `value`
});
const QueryData = z.discriminatedUnion('resultType', [
  z.looseObject({ resultType: z.literal('vector'), result: z.array(VectorSeries) }),
  z.looseObject({ resultType: z.literal('scalar'), result: Sample }),
  z.looseObject({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
  z.looseObject({ resultType: z.literal('string'), result: Sample }),
]);
const QuerySuccess = z.looseObject({ status: z.literal('success'), data: QueryData });
const QueryFailure = z.looseObject({
  status: z.literal('error'),
  errorType: z.string().optional(),
  error: z.string().optional(),
});

function error(message: string): Measurement {
  return { value: null, result: 'Error', message };
}

/** A sample's value string as a measurement. */
function sampleValue(text: string): Measurement {
  if (text === 'NaN') return { value: null, result: 'NoData', message: 'value is NaN, e.g. 0/0 when there is no traffic' };
  if (text === '+Inf' || text === '-Inf' || text === 'Inf') return error(`value is ${text}, e.g. a division by zero`);
  const value = Number(text);
  if (!Number.isFinite(value)) return error(`value "${text}" is not a number`);
  return { value, result: 'Pass' };
}

function seriesName(metric: Record<string, string>): string {
  const { __name__: name, ...labels } = metric;
  const inner = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  return `${name ?? ''}{${inner}}`;
}

/** The measurement in a 2xx body. */
export function parseQueryResponse(body: unknown): Measurement {
  const failure = QueryFailure.safeParse(body);
  if (failure.success) return error(`Prometheus answered status error (${failure.data.errorType ?? 'unknown'}): ${failure.data.error ?? 'no message'}`);
  const parsed = QuerySuccess.safeParse(body);
  if (!parsed.success) return error(`Prometheus answered an unexpected body: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const data = parsed.data.data;
  switch (data.resultType) {
    case 'scalar':
      return sampleValue(data.result[1]);
    case 'vector': {
      const series = data.result;
      if (series.length === 0) return { value: null, result: 'NoData', message: 'query returned no series' };
      if (series.length > 1) {
        const names = series.slice(0, 3).map((s) => seriesName(s.metric)).join(', ');
        return error(`query returned ${series.length} series; a check needs exactly one — aggregate with sum() or similar (${names}${series.length > 3 ? ', …' : ''})`);
      }
      const only = series[0] as z.infer<typeof VectorSeries>;
      if (only.value === undefined) return error('query returned a native histogram sample; a check needs a number, e.g. histogram_quantile(0.99, ...)');
      return sampleValue(only.value[1]);
    }
    case 'matrix':
      return error('query returned a range vector; a check needs an instant value — drop the [range] or wrap it in rate() or similar');
    case 'string':
      return error('query returned a string; a check needs a number');
  }
}

async function authorization(source: PrometheusSource, ctx: RoundContext, secrets: SecretReader): Promise<string | undefined> {
  const namespace = ctx.plan.namespace;
  const read = async (name: string, key: string): Promise<string> => {
    try {
      return await secrets.read(namespace, name, key);
    } catch (e) {
      throw new CredentialUnavailable(`cannot read key "${key}" of Secret ${namespace}/${name}: ${messageOf(e)}`, { cause: e });
    }
  };
  if (source.bearerTokenFrom !== undefined) {
    const ref = source.bearerTokenFrom.secretKeyRef;
    // Secrets made with `echo token > file` carry a trailing newline that breaks the header.
    return `Bearer ${(await read(ref.name, ref.key)).trim()}`;
  }
  if (source.basicAuthFrom !== undefined) {
    const name = source.basicAuthFrom.secretRef.name;
    const [username, password] = await Promise.all([read(name, 'username'), read(name, 'password')]);
    return `Basic ${Buffer.from(`${username.trim()}:${password.trim()}`).toString('base64')}`;
  }
  return undefined;
}

function queryOf(check: Check, ctx: RoundContext): string | undefined {
  const side = ctx.side ?? 'canary';
  // A canary query never stands in for stable: without stableQuery the check is not run there.
  if (check.query !== undefined) return side === 'stable' ? check.stableQuery : check.query;
  if (check.template !== undefined) return renderTemplate(check.template, ctx.spec, ctx.plan.namespace, side);
  return undefined;
}

function statusLine(res: Response): string {
  return res.statusText === '' ? String(res.status) : `${res.status} ${res.statusText}`;
}

/** Where the instant-query API of `address` is: its path plus /api/v1/query, with the address's
 * query string kept (a proxy in front of Prometheus may need one) and any fragment dropped. */
export function queryUrl(address: string): URL {
  const url = new URL(address);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.hash = '';
  return url;
}

/** What the source sends that must not leak, for refusal messages; undefined when nothing. */
function credentialsOf(source: PrometheusSource): string | undefined {
  if (source.bearerTokenFrom !== undefined) return 'the bearer token (bearerTokenFrom)';
  if (source.basicAuthFrom !== undefined) return 'basic auth (basicAuthFrom)';
  return undefined;
}

async function readJson(res: Response, maxBodyBytes: number): Promise<{ json: unknown; text: string }> {
  const text = await readBody(res, maxBodyBytes);
  try {
    return { json: JSON.parse(text) as unknown, text };
  } catch {
    return { json: undefined, text };
  }
}

export function createPrometheusProvider(deps: {
  secrets: SecretReader;
  fetch?: typeof fetch;
  /** Where it may call (--allowed-hosts); default: every host. */
  outbound?: OutboundPolicy;
  maxBodyBytes?: number;
}): CheckProvider {
  const fetchImpl = deps.fetch ?? fetch;
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  return {
    async evaluate(check, ctx) {
      const source = ctx.spec.analysis?.prometheus;
      if (source === undefined) return error('the plan has no analysis.prometheus to query');
      const query = queryOf(check, ctx);
      if (query === undefined) {
        return error(check.query !== undefined ? 'the check has no stableQuery, so it cannot measure stable' : 'the check has neither query nor template');
      }
      // Every message that names the address goes through redactUrl: status, Events and logs
      // repeat it, and an address may carry `user:pass@` or a token in its query string.
      const address = redactUrl(source.address);
      let url: URL;
      try {
        url = queryUrl(source.address);
      } catch {
        return error(`analysis.prometheus.address ${address} is not a URL`);
      }
      // Before reading any Secret: a refused destination must not even learn whether it exists.
      const refused = refuseDestination(url, {
        policy: deps.outbound ?? ALLOW_ALL_HOSTS,
        ...(credentialsOf(source) === undefined ? {} : { credentials: credentialsOf(source) }),
        credentialsOverHttp: { allowed: source.allowCredentialsOverHttp === true, field: 'analysis.prometheus.allowCredentialsOverHttp' },
      });
      if (refused !== undefined) return error(`Prometheus at ${address} is not queried: ${refused}`);
      const timeout = checkTimeout(check, ctx.spec);

      const headers: Record<string, string> = {
        ...source.headers,
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      };
      const auth = await authorization(source, ctx, deps.secrets);
      if (auth !== undefined) headers.authorization = auth;
      // POST: a long query would not fit a URL; Prometheus takes the same form fields as a body.
      // `timeout` makes Prometheus give up when we do, instead of finishing a query nobody reads.
      const body = new URLSearchParams({ query, timeout: `${timeout.ms}ms` }).toString();

      const limit = deadline(ctx.signal, timeout.ms, timeout.adjusted);
      try {
        const failed = (e: unknown): Measurement => {
          if (limit.signal.reason instanceof CheckTimedOut) return error(`Prometheus at ${address} ${limit.signal.reason.message}`);
          return error(redactUrl(`cannot reach Prometheus at ${address}: ${describeFetchFailure(e, limit.signal)}`));
        };
        let res: Response;
        try {
          // Redirects are not followed: the allowed-hosts and plain-http rules were checked for
          // this URL, not for wherever a Location header points.
          res = await fetchImpl(url, { method: 'POST', headers, body, signal: limit.signal, redirect: 'manual' });
        } catch (e) {
          return failed(e);
        }
        let payload: { json: unknown; text: string };
        try {
          payload = await readJson(res, maxBodyBytes);
        } catch (e) {
          if (e instanceof BodyTooLarge) return error(`Prometheus at ${address} answered ${statusLine(res)}, but ${e.message}`);
          return failed(e);
        }
        if (res.status >= 300 && res.status < 400) {
          return error(redactUrl(`Prometheus at ${address} answered ${statusLine(res)} to ${res.headers.get('location') ?? 'nowhere'}; redirects are not followed: put the final address in analysis.prometheus.address`));
        }
        if (!res.ok) {
          const failure = QueryFailure.safeParse(payload.json);
          const detail = failure.success
            ? `(${failure.data.errorType ?? 'unknown'}): ${failure.data.error ?? 'no message'}`
            : `- ${excerpt(payload.text) || 'empty body'}`;
          return error(redactUrl(`Prometheus answered ${statusLine(res)} ${detail}`));
        }
        if (payload.json === undefined) return error(redactUrl(`Prometheus answered ${res.status} with a body that is not JSON: ${excerpt(payload.text)}`));
        return parseQueryResponse(payload.json);
      } finally {
        limit.dispose();
      }
    },
  };
}
