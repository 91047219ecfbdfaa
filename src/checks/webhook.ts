// A webhook check: POST where the plan is, and read the answer. A 2xx passes (with `{"value": n}`
// the number is recorded and compared with min/max by the runner); any other status fails with
// the status in the message; no answer (timeout, refused connection) is an Error. callWebhook,
// the POST itself under every outbound rule, is shared with hooks (hooks.ts).
import { z } from 'zod';
import { BodyTooLarge, CheckTimedOut, checkTimeout, deadline, describeFetchFailure, excerpt, MAX_BODY_BYTES, readBody } from './http';
import { ALLOW_ALL_HOSTS, refuseDestination, type OutboundPolicy } from './outbound';
import { redactUrl } from './redact';
import type { Webhook } from '../plan/schema';
import type { CheckProvider, Measurement } from './types';

/** What a webhook receives. */
export interface WebhookPayload {
  plan: { name: string; namespace: string };
  check: string;
  step: number;
  weight: number;
  /** The backend to judge: `canary` while the plan runs, `stable` in a rollback validation. */
  side: 'canary' | 'stable';
}

const ValueBody = z.looseObject({ value: z.number() });

function valueIn(text: string): number | undefined {
  try {
    const parsed = ValueBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.value : undefined;
  } catch {
    return undefined; // plain text or an empty body: the status alone is the answer
  }
}

function error(message: string): Measurement {
  return { value: null, result: 'Error', message };
}

/** What one POST to a webhook came to: an answer (any status, its body read within the limit),
 * or why there was none, already redacted. */
export type WebhookCall = { answered: true; status: number; text: string } | { answered: false; message: string };

export interface WebhookDeps {
  fetch?: typeof fetch;
  /** Where it may call (--allowed-hosts); default: every host. */
  outbound?: OutboundPolicy;
  maxBodyBytes?: number;
}

/**
 * POSTs `payload` as JSON to `hook.url` under `timeout` (and `signal`), following the rules of
 * every outbound call: --allowed-hosts checked first, no redirects followed (the policy was
 * checked for this URL, not a Location), the answer read only up to the limit, and the URL
 * redacted in every message. Shared by webhook checks and hooks.
 */
export async function callWebhook(
  hook: Webhook,
  payload: unknown,
  timeout: { ms: number; adjusted?: string },
  signal: AbortSignal,
  deps: WebhookDeps = {},
): Promise<WebhookCall> {
  const fetchImpl = deps.fetch ?? fetch;
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  // Status, Events and logs repeat messages: the URL in them never carries its credentials.
  const shown = redactUrl(hook.url);
  let url: URL;
  try {
    url = new URL(hook.url);
  } catch {
    return { answered: false, message: `webhook ${shown} is not a URL` };
  }
  const refused = refuseDestination(url, { policy: deps.outbound ?? ALLOW_ALL_HOSTS });
  if (refused !== undefined) return { answered: false, message: `webhook ${shown} is not called: ${refused}` };
  const limit = deadline(signal, timeout.ms, timeout.adjusted);
  try {
    const failed = (e: unknown): WebhookCall => {
      if (limit.signal.reason instanceof CheckTimedOut) return { answered: false, message: `webhook ${shown} ${limit.signal.reason.message}` };
      return { answered: false, message: redactUrl(`cannot reach webhook ${shown}: ${describeFetchFailure(e, limit.signal)}`) };
    };
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method: 'POST',
        headers: { ...hook.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(payload),
        signal: limit.signal,
        redirect: 'manual',
      });
    } catch (e) {
      return failed(e);
    }
    let text: string;
    try {
      text = await readBody(res, maxBodyBytes);
    } catch (e) {
      // Never a pass: a 2xx whose value was cut off has not said what it measured.
      if (e instanceof BodyTooLarge) return { answered: false, message: `webhook ${shown} answered ${res.status}, but ${e.message}` };
      return failed(e);
    }
    if (res.status >= 300 && res.status < 400) {
      return { answered: false, message: redactUrl(`webhook ${shown} answered ${res.status} to ${res.headers.get('location') ?? 'nowhere'}; redirects are not followed: put the final URL in the spec`) };
    }
    return { answered: true, status: res.status, text };
  } finally {
    limit.dispose();
  }
}

export function createWebhookProvider(deps: WebhookDeps = {}): CheckProvider {
  return {
    async evaluate(check, ctx): Promise<Measurement> {
      const hook = check.webhook;
      if (hook === undefined) return error('the check has no webhook');
      const payload: WebhookPayload = {
        plan: { name: ctx.plan.name, namespace: ctx.plan.namespace },
        check: check.name,
        step: ctx.step,
        weight: ctx.weight,
        side: ctx.side ?? 'canary',
      };
      const call = await callWebhook(hook, payload, checkTimeout(check, ctx.spec), ctx.signal, deps);
      if (!call.answered) return error(call.message);
      if (call.status < 200 || call.status >= 300) {
        const body = excerpt(call.text);
        return { value: null, result: 'Fail', message: redactUrl(`webhook answered ${call.status}${body === '' ? '' : `: ${body}`}`) };
      }
      const value = valueIn(call.text);
      return { value: value ?? null, result: 'Pass' };
    },
  };
}
