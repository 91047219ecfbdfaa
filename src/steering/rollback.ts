// The one-command rollback, shared by `POST …/rollback?wait=30s` and `trafficshift rollback`:
// write the request, then wait until the controller has put every target back on stable, and say
// how long it took. Done means the plan is RolledBack for this request and no target that can be
// read still gives the canary traffic.
import { isHandled } from '../engine/bounds';
import type { Kube, KubeObject } from '../kube';
import type { PlanRef } from '../plan/ref';
import { MigrationPlanStatus, type Phase } from '../plan/schema';
import { waitForPlan, type PlanFeed } from './feed';
import { requestRollback } from './requests';
import { planView, readTargetWeights, targetsCarryingTraffic, type TargetWeight } from './view';

export type RollbackOutcome =
  /** Every target holds 0. `written` is false when nothing had to be written: the plan was already
   * rolled back or rolling back, or the same request was still waiting. */
  | { kind: 'done'; written: boolean; reason: string; recoverySeconds?: number; targets: TargetWeight[] }
  /** Asked for, but not finished in time (or not waited for). */
  | { kind: 'pending'; reason: string; phase: Phase; targets: TargetWeight[]; carrying: TargetWeight[] }
  /** The plan cannot be rolled back: it Succeeded, which is final. */
  | { kind: 'refused'; phase: Phase; message: string };

export interface RollbackOptions {
  /** 0: write the request and return at once. */
  timeoutMs: number;
  now?: () => Date;
  /** Sees the request value before it is written (the controller notes when it was asked). */
  beforeWrite?: (value: string) => void;
  /** Called with the plan as the write left it, before any waiting (the controller enqueues it). */
  afterWrite?: (written: KubeObject) => void;
  /** How often the live targets are read again while the plan says RolledBack but a target disagrees. */
  pollMs?: number;
  signal?: AbortSignal;
}

function statusOf(obj: KubeObject | undefined): MigrationPlanStatus {
  const parsed = MigrationPlanStatus.safeParse(obj?.['status'] ?? {});
  return parsed.success ? parsed.data : {};
}

/** Targets the live read says still send traffic to the canary. One that could not be read is
 * left to the status: RolledBack means the controller saw it at 0. */
function readableCarrying(targets: readonly TargetWeight[]): TargetWeight[] {
  return targetsCarryingTraffic(targets).filter((t) => t.weight !== null);
}

export async function rollBackAndWait(kube: Kube, feed: PlanFeed, plan: PlanRef, reason: string, options: RollbackOptions): Promise<RollbackOutcome> {
  const before = statusOf(feed.current());
  const phaseBefore = before.phase ?? 'Pending';
  if (phaseBefore === 'Succeeded') {
    return { kind: 'refused', phase: phaseBefore, message: `${plan.namespace}/${plan.name} Succeeded, which is final: all traffic is on the canary by design; to move it back, create a plan in the other direction` };
  }
  // Asking a rolled-back plan to roll back again changes nothing, so nothing is written.
  if (phaseBefore === 'RolledBack') {
    const targets = (await readTargetWeights(kube, feed.current() ?? {})) ?? [];
    if (readableCarrying(targets).length === 0) {
      return { kind: 'done', written: false, reason: before.rollback?.reason ?? '', ...recovery(before), targets };
    }
  }
  // A rollback under way is not asked for twice (the engine would ignore the second): wait for it.
  const inFlight = phaseBefore === 'RollingBack';
  let value = before.rollback?.reason ?? reason;
  let wrote = false;
  if (!inFlight) {
    const request = await requestRollback(kube, plan, reason, options.now?.(), options.beforeWrite, feed.current());
    value = request.value;
    wrote = request.written;
    if (wrote) options.afterWrite?.(request.object);
  }
  const handledHere = (obj: KubeObject | undefined): MigrationPlanStatus | undefined => {
    const status = statusOf(obj);
    return inFlight || isHandled(value, status.handledRequests?.rollback) ? status : undefined;
  };
  const finished = await waitForPlan(
    feed,
    async (obj) => {
      const status = handledHere(obj);
      if (status === undefined) return undefined;
      if (status.phase === 'Succeeded') return { refused: true as const, status };
      if (status.phase !== 'RolledBack') return undefined;
      const targets = (await readTargetWeights(kube, obj ?? {})) ?? [];
      return readableCarrying(targets).length === 0 ? { refused: false as const, status, targets } : undefined;
    },
    options.timeoutMs,
    { pollMs: options.pollMs ?? 500, ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (finished?.refused === true) {
    return { kind: 'refused', phase: 'Succeeded', message: `${plan.namespace}/${plan.name} Succeeded before the rollback was handled, which is final` };
  }
  if (finished !== undefined) {
    return { kind: 'done', written: wrote, reason: finished.status.rollback?.reason ?? value, ...recovery(finished.status), targets: finished.targets };
  }
  const last = feed.current();
  // Not waited for (--no-wait, no ?wait): answer at once, from the status, without reading targets.
  if (options.timeoutMs <= 0) {
    const view = planView(last ?? {});
    return { kind: 'pending', reason: value, phase: view.phase, targets: view.targets, carrying: targetsCarryingTraffic(view.targets) };
  }
  const targets = (await readTargetWeights(kube, last ?? {})) ?? [];
  return { kind: 'pending', reason: value, phase: statusOf(last).phase ?? 'Pending', targets, carrying: targetsCarryingTraffic(targets) };
}

function recovery(status: MigrationPlanStatus): { recoverySeconds?: number } {
  const seconds = status.rollback?.recoverySeconds;
  return seconds === undefined ? {} : { recoverySeconds: seconds };
}
