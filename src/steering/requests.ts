// Every way of steering a plan (REST, CLI, kubectl, an Alertmanager alert) ends in one of these
// small patches: `spec.paused`, or a request annotation the controller acts on once. Status
// belongs to the controller alone, so nothing here writes it.
import { boundText, isHandled } from '../engine/bounds';
import { isConflict, isNotFound, KubeError, type Kube, type KubeObject } from '../kube';
import { planResource, type PlanRef } from '../plan/ref';
import { MigrationPlanStatus, REQUEST_ANNOTATIONS, type RequestKind } from '../plan/schema';

export class PlanNotFound extends Error {
  readonly status = 404;
  constructor(readonly plan: PlanRef, options?: { cause?: unknown }) {
    super(`migrationplan ${plan.namespace}/${plan.name} not found`, options);
    this.name = 'PlanNotFound';
  }
}

async function patchPlan(kube: Kube, plan: PlanRef, patch: KubeObject): Promise<KubeObject> {
  try {
    return await kube.mergePatch(planResource(plan), patch);
  } catch (error) {
    if (isNotFound(error)) throw new PlanNotFound(plan, { cause: error });
    throw error;
  }
}

export async function getPlan(kube: Kube, plan: PlanRef): Promise<KubeObject> {
  try {
    return await kube.get(planResource(plan));
  } catch (error) {
    if (isNotFound(error)) throw new PlanNotFound(plan, { cause: error });
    throw error;
  }
}

export interface RequestResult {
  /** The annotation value: the request's reason, as the status will report it. */
  value: string;
  /** The plan as the server answered the write (or as read, when nothing was written). */
  object: KubeObject;
  /** False when the same request was still waiting, so nothing was written. */
  written: boolean;
}

export function setPaused(kube: Kube, plan: PlanRef, paused: boolean): Promise<KubeObject> {
  return patchPlan(kube, plan, { spec: { paused } });
}

/**
 * The annotation value for a new request. A request is pending while its value differs from the
 * one the controller recorded as handled, so a repeat of the same text gets a suffix that makes
 * it new; the controller shows the value as the reason.
 */
export function requestValue(text: string, handled: string | undefined, now: Date): string {
  // A reason from outside (an alert's name, a bot's message) is bounded before it is written.
  const base = text.trim() === '' ? `requested at ${now.toISOString()}` : boundText(text.trim());
  return isHandled(base, handled) ? `${base} (again at ${now.toISOString()})` : base;
}

/** Sets a request annotation (`trafficshift.io/rollback`, `promote` or `retry`). `beforeWrite`
 * sees the value first, so a caller can note when the request was made before the controller
 * can possibly act on it. `cached` (the plan as a watch last saw it) saves the read: the patch
 * then carries its resourceVersion as a precondition, and a stale copy (409) falls back to a
 * fresh read, so the value is never judged against an old status. */
export async function request(
  kube: Kube,
  plan: PlanRef,
  kind: RequestKind,
  text: string,
  now: Date = new Date(),
  beforeWrite?: (value: string) => void,
  cached?: KubeObject,
): Promise<RequestResult> {
  const resourceVersion = (cached?.['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
  if (cached !== undefined && resourceVersion !== undefined) {
    try {
      return await writeRequest(kube, plan, kind, text, now, cached, resourceVersion, beforeWrite);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
  return writeRequest(kube, plan, kind, text, now, await getPlan(kube, plan), undefined, beforeWrite);
}

async function writeRequest(
  kube: Kube,
  plan: PlanRef,
  kind: RequestKind,
  text: string,
  now: Date,
  current: KubeObject,
  resourceVersion: string | undefined,
  beforeWrite?: (value: string) => void,
): Promise<RequestResult> {
  const status = MigrationPlanStatus.safeParse(current['status'] ?? {});
  const handled = status.success ? status.data.handledRequests?.[kind] : undefined;
  const annotations = ((current['metadata'] as { annotations?: Record<string, string> } | undefined)?.annotations) ?? {};
  const pending = annotations[REQUEST_ANNOTATIONS[kind]];
  // The same request still waiting is not written twice: two clicks on "rollback" are one rollback.
  if (pending !== undefined && !isHandled(pending, handled) && pending === boundText(text.trim())) return { value: pending, object: current, written: false };
  const value = requestValue(text, handled, now);
  beforeWrite?.(value);
  const object = await patchPlan(kube, plan, { metadata: { ...(resourceVersion === undefined ? {} : { resourceVersion }), annotations: { [REQUEST_ANNOTATIONS[kind]]: value } } });
  return { value, object, written: true };
}

export function requestRollback(
  kube: Kube,
  plan: PlanRef,
  reason: string,
  now?: Date,
  beforeWrite?: (value: string) => void,
  cached?: KubeObject,
): Promise<RequestResult> {
  if (reason.trim() === '') throw new KubeError(400, 'BadRequest', 'a rollback needs a reason');
  return request(kube, plan, 'rollback', reason, now, beforeWrite, cached);
}

export function requestPromote(kube: Kube, plan: PlanRef, now: Date = new Date()): Promise<RequestResult> {
  return request(kube, plan, 'promote', `promoted at ${now.toISOString()}`, now);
}

export function requestRetry(kube: Kube, plan: PlanRef, now: Date = new Date()): Promise<RequestResult> {
  return request(kube, plan, 'retry', `retried at ${now.toISOString()}`, now);
}
