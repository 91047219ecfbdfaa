// What both HTTP providers share: a deadline that joins the check's own timeout with the round's
// AbortSignal, and a readable cause for a request that never got an answer.
import type { Check, MigrationPlanSpec } from '../plan/schema';
import { formatDuration, parseDuration } from '../plan/duration';

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** The timeout a check runs under: its webhook's, or the Prometheus source's, else 10s. */
export function checkTimeoutMs(check: Check, spec: MigrationPlanSpec): number {
  const text = check.webhook !== undefined ? check.webhook.timeout : spec.analysis?.prometheus?.timeout;
  return text === undefined ? DEFAULT_CHECK_TIMEOUT_MS : parseDuration(text);
}

export class CheckTimedOut extends Error {
  override readonly name = 'CheckTimedOut';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${formatDuration(timeoutMs)}`);
  }
}

export class RoundAborted extends Error {
  override readonly name = 'RoundAborted';
  constructor(options?: { cause?: unknown }) {
    super('the analysis round was aborted', options);
  }
}

export interface Deadline {
  signal: AbortSignal;
  dispose(): void;
}

/** A signal that aborts with CheckTimedOut after `timeoutMs`, or with RoundAborted when `outer`
 * aborts. Call dispose() when done so no timer outlives the check. */
export function deadline(outer: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new RoundAborted({ cause: outer.reason }));
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new CheckTimedOut(timeoutMs)), timeoutMs);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}

interface ErrorLike {
  message: string;
  cause?: unknown;
  code?: unknown;
  errors?: unknown;
}

// Duck-typed, not instanceof: undici's errors come from Node's own realm, which is not the realm
// of code run under jest's vm sandbox, so `instanceof Error` is false for them there.
function isErrorLike(e: unknown): e is ErrorLike {
  return typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string';
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return isErrorLike(e) ? e.message : String(e);
}

/** The root cause of a failed fetch, as one line: `connect ECONNREFUSED 127.0.0.1:9090`.
 * undici wraps it as TypeError('fetch failed', {cause}); happy-eyeballs connects wrap several
 * attempts into an AggregateError. */
export function describeFetchFailure(e: unknown, signal: AbortSignal): string {
  if (signal.aborted && isErrorLike(signal.reason)) return signal.reason.message;
  let cause: unknown = e;
  while (isErrorLike(cause) && cause.cause !== undefined && cause.message === 'fetch failed') cause = cause.cause;
  if (isErrorLike(cause) && Array.isArray(cause.errors) && cause.errors.length > 0) {
    const first: unknown = cause.errors[0];
    if (isErrorLike(first) && first.message !== '') return first.message;
  }
  if (isErrorLike(cause)) {
    if (cause.message !== '') return cause.message;
    if (typeof cause.code === 'string') return cause.code;
  }
  return String(cause);
}

/** At most `max` characters of a response body, for messages. */
export function excerpt(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
