// A webhook check: POST where the plan is, and read the answer. A 2xx passes (with `{"value": n}`
// the number is recorded and compared with min/max by the runner); any other status fails with
// the status in the message; no answer (timeout, refused connection) is an Error.
import { z } from 'zod';
import { CheckTimedOut, checkTimeoutMs, deadline, describeFetchFailure, excerpt } from './http';
import type { CheckProvider, Measurement } from './types';

/** What a webhook receives. */
export interface WebhookPayload {
  plan: { name: string; namespace: string };
  check: string;
  step: number;
  weight: number;
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

export function createWebhookProvider(deps: { fetch?: typeof fetch } = {}): CheckProvider {
  const fetchImpl = deps.fetch ?? fetch;
  return {
    async evaluate(check, ctx): Promise<Measurement> {
      const hook = check.webhook;
      if (hook === undefined) return { value: null, result: 'Error', message: 'the check has no webhook' };
      const timeoutMs = checkTimeoutMs(check, ctx.spec);
      const payload: WebhookPayload = {
        plan: { name: ctx.plan.name, namespace: ctx.plan.namespace },
        check: check.name,
        step: ctx.step,
        weight: ctx.weight,
      };
      const limit = deadline(ctx.signal, timeoutMs);
      try {
        let res: Response;
        let text: string;
        try {
          res = await fetchImpl(hook.url, {
            method: 'POST',
            headers: { ...hook.headers, 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify(payload),
            signal: limit.signal,
          });
          text = await res.text();
        } catch (e) {
          if (limit.signal.reason instanceof CheckTimedOut) return { value: null, result: 'Error', message: `webhook ${hook.url} ${limit.signal.reason.message}` };
          return { value: null, result: 'Error', message: `cannot reach webhook ${hook.url}: ${describeFetchFailure(e, limit.signal)}` };
        }
        if (!res.ok) {
          const body = excerpt(text);
          return { value: null, result: 'Fail', message: `webhook answered ${res.status}${body === '' ? '' : `: ${body}`}` };
        }
        const value = valueIn(text);
        return { value: value ?? null, result: 'Pass' };
      } finally {
        limit.dispose();
      }
    },
  };
}
