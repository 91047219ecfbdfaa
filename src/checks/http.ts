// What both HTTP providers (and the notifier) share: a deadline that joins the check's own timeout
// with the round's AbortSignal, a bounded read of an answer, and a readable cause for a request
// that never got one.
import { TIMEOUT_RANGE_MS, type Check, type MigrationPlanSpec } from '../plan/schema';
import { formatDuration, isDuration, parseDuration } from '../plan/duration';

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** The timeout a check runs under, and why it differs from the plan's text when it does. */
export interface CheckTimeout {
  ms: number;
  /** Set when the plan's value was not used as written; messages append it. */
  adjusted?: string;
}

/**
 * The timeout a check runs under: its webhook's, or the Prometheus source's, else 10s, always
 * within TIMEOUT_RANGE_MS. The schema rejects values outside it, but an object stored before that
 * rule (or read without it) must still never run a check with 0s, which times out at once, or
 * with days, which would stall every round of the plan.
 */
export function checkTimeout(check: Check, spec: MigrationPlanSpec): CheckTimeout {
  const text = check.webhook !== undefined ? check.webhook.timeout : spec.analysis?.prometheus?.timeout;
  if (text === undefined) return { ms: DEFAULT_CHECK_TIMEOUT_MS };
  if (!isDuration(text)) return { ms: DEFAULT_CHECK_TIMEOUT_MS, adjusted: `the timeout "${text}" is not a duration, so the default ${formatDuration(DEFAULT_CHECK_TIMEOUT_MS)} applies` };
  const ms = parseDuration(text);
  if (ms < TIMEOUT_RANGE_MS.min) return { ms: TIMEOUT_RANGE_MS.min, adjusted: `the timeout ${text} is below the ${formatDuration(TIMEOUT_RANGE_MS.min)} minimum` };
  if (ms > TIMEOUT_RANGE_MS.max) return { ms: TIMEOUT_RANGE_MS.max, adjusted: `the timeout ${text} is above the ${formatDuration(TIMEOUT_RANGE_MS.max)} maximum` };
  return { ms };
}

/** checkTimeout's milliseconds. */
export function checkTimeoutMs(check: Check, spec: MigrationPlanSpec): number {
  return checkTimeout(check, spec).ms;
}

export class CheckTimedOut extends Error {
  override readonly name = 'CheckTimedOut';
  constructor(readonly timeoutMs: number, adjusted?: string) {
    super(`timed out after ${formatDuration(timeoutMs)}${adjusted === undefined ? '' : ` (${adjusted})`}`);
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
export function deadline(outer: AbortSignal, timeoutMs: number, adjusted?: string): Deadline {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new RoundAborted({ cause: outer.reason }));
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new CheckTimedOut(timeoutMs, adjusted)), timeoutMs);
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

/** The most of an answer from outside that is read: a check or a Slack reply is a few hundred
 * bytes; a server answering 100 MB (by mistake or on purpose) must not grow the controller. */
export const MAX_BODY_BYTES = 1024 * 1024;

function bytesText(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
  constructor(readonly limitBytes: number, readonly declaredBytes?: number) {
    super(`the answer is larger than ${bytesText(limitBytes)}${declaredBytes === undefined ? '' : ` (Content-Length ${declaredBytes})`}; stopped reading it`);
  }
}

/**
 * The body of `res` as text, read as a stream and never past `limitBytes`: past it the stream is
 * cancelled, which closes the connection, and BodyTooLarge is thrown. A Content-Length above the
 * limit is refused before reading anything.
 */
export async function readBody(res: Response, limitBytes = MAX_BODY_BYTES): Promise<string> {
  const body = res.body;
  if (body === null) return '';
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    await body.cancel().catch(() => undefined);
    throw new BodyTooLarge(limitBytes, declared);
  }
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limitBytes);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
