// Runs the hooks the engine said are due (engine/hooks.ts): a JSON POST per hook, under the same
// outbound rules as webhook checks (callWebhook), retried with backoff. A 2xx passes; anything
// else (another status, a timeout, a refused connection, a host --allowed-hosts does not admit)
// fails once the retries are used up, with a bounded, redacted message.
import type { HookCall, HookResult } from '../engine/hooks';
import { TIMEOUT_RANGE_MS } from '../plan/schema';
import { formatDuration, isDuration, parseDuration } from '../plan/duration';
import { DEFAULT_CHECK_TIMEOUT_MS, excerpt, messageOf, type CheckTimeout } from './http';
import { redactUrl } from './redact';
import type { PlanRef } from './types';
import { callWebhook, type WebhookDeps } from './webhook';

export const HOOK_API_VERSION = 'trafficshift.io/hook/v1';

/** What a hook receives (README "Hooks"). Fields are only ever added within one apiVersion. */
export interface HookPayload {
  apiVersion: typeof HOOK_API_VERSION;
  plan: { namespace: string; name: string };
  hook: { name: string; when: HookCall['when'] };
  /** 1-based step number, the number of steps, and the step as status shows it. */
  step: { number: number; of: number; label: string };
  /** The canary weight the step writes (beforeStep), holds (afterStep), 0 after a rollback, 100 after success. */
  weight: number;
  side: HookCall['side'];
  /** 1 for the first call, then 2, 3... for retries. */
  attempt: number;
}

export interface HookRunner {
  run(plan: PlanRef, call: HookCall, signal: AbortSignal): Promise<HookResult>;
}

/** The first retry waits this long, each next one twice as long. */
export const HOOK_BACKOFF_MS = 1000;

export function hookTimeout(text: string | undefined): CheckTimeout {
  if (text === undefined || !isDuration(text)) return { ms: DEFAULT_CHECK_TIMEOUT_MS };
  const ms = parseDuration(text);
  return { ms: Math.min(Math.max(ms, TIMEOUT_RANGE_MS.min), TIMEOUT_RANGE_MS.max) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createHookRunner(deps: WebhookDeps & { now?: () => number; backoffMs?: number } = {}): HookRunner {
  const now = deps.now ?? Date.now;
  const backoffMs = deps.backoffMs ?? HOOK_BACKOFF_MS;
  return {
    async run(plan, call, signal) {
      const { hook } = call;
      const timeout = hookTimeout(hook.webhook.timeout);
      const tries = 1 + hook.retries;
      let message = '';
      let attempts = 0;
      for (let attempt = 1; attempt <= tries && !signal.aborted; attempt++) {
        if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2), signal);
        if (signal.aborted) break;
        attempts = attempt;
        const payload: HookPayload = {
          apiVersion: HOOK_API_VERSION,
          plan: { namespace: plan.namespace, name: plan.name },
          hook: { name: hook.name, when: call.when },
          step: { number: call.step + 1, of: call.steps, label: call.label },
          weight: call.weight,
          side: call.side,
          attempt,
        };
        try {
          const answer = await callWebhook(hook.webhook, payload, timeout, signal, deps);
          if (answer.answered && answer.status >= 200 && answer.status < 300) {
            return { name: hook.name, when: call.when, step: call.step, result: 'Pass', attempts, completedAt: now() };
          }
          if (answer.answered) {
            const body = excerpt(answer.text);
            message = redactUrl(`webhook ${hook.webhook.url} answered ${answer.status}${body === '' ? '' : `: ${body}`}`);
          } else message = answer.message;
          // Refused by --allowed-hosts: no retry will change that.
          if (!answer.answered && answer.message.includes(' is not called: ')) break;
        } catch (e) {
          message = redactUrl(messageOf(e));
        }
      }
      if (signal.aborted && attempts < tries) message = `${message === '' ? '' : `${message}; `}stopped before its ${tries} attempts (${formatDuration(timeout.ms)} timeout each): the reconcile was interrupted`;
      return { name: hook.name, when: call.when, step: call.step, result: 'Fail', attempts: Math.max(1, attempts), completedAt: now(), message: excerpt(message, 400) };
    },
  };
}
