// The values each check measured in the controller's recent rounds, per plan, for the dashboard's
// timeline. status.checks holds only the latest value, so the history lives in memory: the last
// CHECK_HISTORY_POINTS rounds of each check, fed by the analysis runner's CheckMetrics hook (the
// one /metrics is fed by). A replica that has not run the rounds (a standby, a restarted
// controller) has none; the timeline says so. A plan's history is forgotten with the plan.
import type { CheckMetrics } from '../checks';
import { planKey, type PlanRef } from '../plan/ref';
import type { CheckResultKind } from '../plan/schema';

/** 6 hours of rounds at the default 30 s interval. */
export const CHECK_HISTORY_POINTS = 720;

export interface CheckPoint {
  at: string;
  value: number | null;
  result: CheckResultKind;
}

export class CheckHistory {
  /** planKey -> check name -> points, oldest first. */
  private readonly plans = new Map<string, Map<string, CheckPoint[]>>();

  constructor(private readonly options: { capacity?: number; now?: () => number } = {}) {}

  record(plan: PlanRef, check: string, value: number | null, result: CheckResultKind): void {
    const key = planKey(plan);
    let checks = this.plans.get(key);
    if (checks === undefined) this.plans.set(key, (checks = new Map()));
    let points = checks.get(check);
    if (points === undefined) checks.set(check, (points = []));
    points.push({ at: new Date((this.options.now ?? Date.now)()).toISOString(), value, result });
    const capacity = this.options.capacity ?? CHECK_HISTORY_POINTS;
    if (points.length > capacity) points.splice(0, points.length - capacity);
  }

  /** Oldest first; empty when this replica has measured nothing for the check. */
  points(plan: PlanRef, check: string): CheckPoint[] {
    return [...(this.plans.get(planKey(plan))?.get(check) ?? [])];
  }

  forget(plan: PlanRef): void {
    this.plans.delete(planKey(plan));
  }

  /** The plans that have a history, as planKeys. */
  planKeys(): string[] {
    return [...this.plans.keys()];
  }
}

/** `inner` (the /metrics hook), and the history too. Recording never changes what `inner` sees. */
export function recordingCheckMetrics(inner: CheckMetrics, history: CheckHistory): CheckMetrics {
  return {
    observe(plan, check, value, result, durationSeconds) {
      inner.observe(plan, check, value, result, durationSeconds);
      history.record(plan, check, value, result);
    },
  };
}
