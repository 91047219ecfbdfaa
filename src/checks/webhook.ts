// A webhook check: POST where the plan is, and read the answer. A 2xx passes (with `{"value": n}`
// the number is recorded and compared with min/max by the runner); any other status fails with
// the status in the message; no answer (timeout, refused connection) is an Error.
import { z } from 'zod';
import { BodyTooLarge, CheckTimedOut, checkTimeout, deadline, describeFetchFailure, excerpt, MAX_BODY_BYTES, readBody } from './http';
import { ALLOW_ALL_HOSTS, refuseDestination, type OutboundPolicy } from './outbound';
import { redactUrl } from './redact';
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

export function createWebhookProvider(deps: {
  fetch?: typeof fetch;
  /** Where it may call (--allowed-hosts); default: every host. */
  outbound?: OutboundPolicy;
  maxBodyBytes?: number;
} = {}): CheckProvider {
  const fetchImpl = deps.fetch ?? fetch;
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  return {
    async evaluate(check, ctx): Promise<Measurement> {
      const hook = check.webhook;
      if (hook === undefined) return error('the check has no webhook');
      // Status, Events and logs repeat messages: the URL in them never carries its credentials.
      const shown = redactUrl(hook.url);
      let url: URL;
      try {
        url = new URL(hook.url);
      } catch {
        return error(`webhook ${shown} is not a URL`);
      }
      const refused = refuseDestination(url, { policy: deps.outbound ?? ALLOW_ALL_HOSTS });
      if (refused !== undefined) return error(`webhook ${shown} is not called: ${refused}`);
      const timeout = checkTimeout(check, ctx.spec);
      const payload: WebhookPayload = {
        plan: { name: ctx.plan.name, namespace: ctx.plan.namespace },
        check: check.name,
        step: ctx.step,
        weight: ctx.weight,
        side: ctx.side ?? 'canary',
      };
      const limit = deadline(ctx.signal, timeout.ms, timeout.adjusted);
      try {
        const failed = (e: unknown): Measurement => {
          if (limit.signal.reason instanceof CheckTimedOut) return error(`webhook ${shown} ${limit.signal.reason.message}`);
          return error(redactUrl(`cannot reach webhook ${shown}: ${describeFetchFailure(e, limit.signal)}`));
        };
        let res: Response;
        try {
          res = await fetchImpl(url, {
            method: 'POST',
            headers: { ...hook.headers, 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify(payload),
            signal: limit.signal,
            // Not followed: --allowed-hosts was checked for this URL, not for a Location header.
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
          if (e instanceof BodyTooLarge) return error(`webhook ${shown} answered ${res.status}, but ${e.message}`);
          return failed(e);
        }
        if (res.status >= 300 && res.status < 400) {
          return error(redactUrl(`webhook ${shown} answered ${res.status} to ${res.headers.get('location') ?? 'nowhere'}; redirects are not followed: put the final URL in the check`));
        }
        if (!res.ok) {
          const body = excerpt(text);
          return { value: null, result: 'Fail', message: redactUrl(`webhook answered ${res.status}${body === '' ? '' : `: ${body}`}`) };
        }
        const value = valueIn(text);
        return { value: value ?? null, result: 'Pass' };
      } finally {
        limit.dispose();
      }
    },
  };
}
