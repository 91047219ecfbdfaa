// Strings from outside (a rollback reason from an annotation or an alert, a check's message from
// a webhook's body, an error from a server) are bounded before they reach the status, an Event or
// a notification. A status is one object of at most about 1.5 MB in etcd, and the reason of a
// rollback is copied into several of its fields: an unbounded one makes the status write fail,
// and a status that cannot be written must never be what stands between traffic and stable.
import { createHash } from 'node:crypto';
import type { MigrationPlanStatus } from '../plan/schema';
import type { Action } from './types';

/** Characters kept of any message or reason; room for a sentence and a URL, not for a body. */
export const MESSAGE_LIMIT = 1024;
/** A request value longer than this is recorded in status.handledRequests by its hash. */
export const REQUEST_VALUE_LIMIT = 256;

export function boundText(text: string, limit = MESSAGE_LIMIT): string {
  if (text.length <= limit) return text;
  const cut = `… (${text.length - limit + 1} more characters)`;
  return `${text.slice(0, Math.max(0, limit - cut.length))}${cut}`;
}

/** What status.handledRequests records of a request value: the value itself, or its hash when
 * long, so that a huge annotation is still handled exactly once without being copied. */
export function requestFingerprint(value: string): string {
  return value.length <= REQUEST_VALUE_LIMIT ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** Whether status.handledRequests records `value` as handled (`handled` is what it holds). */
export function isHandled(value: string, handled: string | undefined): boolean {
  return requestFingerprint(value) === handled;
}

/** Every free-text field of a status the engine produced, bounded. */
export function boundStatus(status: MigrationPlanStatus): void {
  if (status.rollback) status.rollback.reason = boundText(status.rollback.reason);
  if (status.lastRound?.message !== undefined) status.lastRound.message = boundText(status.lastRound.message);
  for (const h of status.history ?? []) h.message = boundText(h.message);
  for (const c of status.conditions ?? []) c.message = boundText(c.message);
  for (const c of status.checks ?? []) if (c.message !== undefined) c.message = boundText(c.message);
  for (const h of status.hooks ?? []) if (h.message !== undefined) h.message = boundText(h.message);
  const validation = status.rollback?.validation;
  if (validation?.message !== undefined) validation.message = boundText(validation.message);
  for (const c of validation?.checks ?? []) if (c.message !== undefined) c.message = boundText(c.message);
}

export function boundAction(action: Action): Action {
  switch (action.kind) {
    case 'setWeight':
      return { ...action, reason: boundText(action.reason) };
    case 'event':
      return { ...action, message: boundText(action.message) };
    case 'notify':
      return action.snapshot?.reason === undefined
        ? { ...action, message: boundText(action.message) }
        : { ...action, message: boundText(action.message), snapshot: { ...action.snapshot, reason: boundText(action.snapshot.reason) } };
  }
}
