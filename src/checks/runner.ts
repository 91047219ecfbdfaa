// One analysis round: every check of the plan at once, each under its own deadline, judged
// against its thresholds. A round always completes: whatever goes wrong inside one check becomes
// that check's Error outcome, so one slow or broken check never delays or hides the others.
import type { Check } from '../plan/schema';
import { formatDuration } from '../plan/duration';
import { CheckTimedOut, checkTimeoutMs, deadline, messageOf } from './http';
import type { OutboundPolicy } from './outbound';
import { createPrometheusProvider } from './prometheus';
import { redactUrl } from './redact';
import { judge } from './thresholds';
import { validationChecks } from '../engine/validation';
import type { AnalysisRunner, CheckMetrics, CheckOutcome, CheckProvider, Measurement, RoundContext, SecretReader } from './types';
import { createWebhookProvider } from './webhook';

/** How long past its own timeout the runner waits for a provider that ignores its signal. */
const GRACE_MS = 1000;

function errorOf(e: unknown): Measurement {
  return { value: null, result: 'Error', message: messageOf(e) };
}

/** Resolves when `signal` aborts, with its reason as an Error measurement. */
function whenAborted(signal: AbortSignal, timeoutMs: number): Promise<Measurement> {
  const measurement = (): Measurement =>
    signal.reason instanceof CheckTimedOut
      ? { value: null, result: 'Error', message: `no result within its ${formatDuration(timeoutMs)} timeout; abandoned after ${formatDuration(signal.reason.timeoutMs)}` }
      : errorOf(signal.reason);
  return new Promise((resolve) => {
    if (signal.aborted) resolve(measurement());
    else signal.addEventListener('abort', () => resolve(measurement()), { once: true });
  });
}

async function measure(provider: CheckProvider, check: Check, ctx: RoundContext): Promise<Measurement> {
  let guard: ReturnType<typeof deadline> | undefined;
  try {
    const timeoutMs = checkTimeoutMs(check, ctx.spec);
    guard = deadline(ctx.signal, timeoutMs + GRACE_MS);
    // Providers honour their own timeout; the race is the backstop for one that does not.
    return await Promise.race([provider.evaluate(check, { ...ctx, signal: guard.signal }), whenAborted(guard.signal, timeoutMs)]);
  } catch (e) {
    return errorOf(e);
  } finally {
    guard?.dispose();
  }
}

function outcome(name: string, m: Measurement): CheckOutcome {
  // Providers redact what they write; this catches what they did not write themselves (a throw
  // from a Secret reader or a provider bug) before it reaches status, Events and logs.
  return m.message === undefined ? { name, value: m.value, result: m.result } : { name, value: m.value, result: m.result, message: redactUrl(m.message) };
}

export function createAnalysisRunner(deps: {
  secrets: SecretReader;
  now?: () => number;
  fetch?: typeof fetch;
  metrics?: CheckMetrics;
  /** Where checks may call (--allowed-hosts); default: every host. */
  outbound?: OutboundPolicy;
  /** The most of an answer read; default MAX_BODY_BYTES (1 MiB). */
  maxBodyBytes?: number;
}): AnalysisRunner {
  const now = deps.now ?? Date.now;
  const shared = {
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    ...(deps.outbound === undefined ? {} : { outbound: deps.outbound }),
    ...(deps.maxBodyBytes === undefined ? {} : { maxBodyBytes: deps.maxBodyBytes }),
  };
  const prometheus = createPrometheusProvider({ secrets: deps.secrets, ...shared });
  const webhook = createWebhookProvider(shared);

  return {
    async runRound(ctx) {
      const side = ctx.side ?? 'canary';
      const checks = side === 'stable' ? validationChecks(ctx.spec) : (ctx.spec.analysis?.checks ?? []);
      const outcomes = await Promise.all(
        checks.map(async (check) => {
          const started = now();
          const judged = judge(check, await measure(check.webhook !== undefined ? webhook : prometheus, check, ctx));
          try {
            // trafficshift_check_value is the canary's; a validation's stable values are in its status.
            if (side === 'canary') deps.metrics?.observe(ctx.plan, check.name, judged.value, judged.result, (now() - started) / 1000);
          } catch {
            // Recording is best effort: a broken metrics hook must not change what a check says.
          }
          return outcome(check.name, judged);
        }),
      );
      return side === 'stable' ? { completedAt: now(), outcomes, side } : { completedAt: now(), outcomes };
    },
  };
}
