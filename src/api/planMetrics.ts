// Feeds the plan metrics (phase, weight, stall, rollback, RTO, check thresholds) from the plans in the
// controller's plan cache, so every replica, leader or not, reports the same numbers, a restart
// loses nothing, and the process keeps one watch of plans (the controller's). It runs whenever
// /metrics is read, so the plan series follow the plans the cache holds: a deleted plan's series
// go, and so do those of a check its plan no longer has, including a check a round still in
// flight reported after the plan changed.
import { z } from 'zod';
import type { KubeObject } from '../controller/informer';
import { planKey } from '../plan/ref';
import type { TrafficshiftMetrics } from './metrics';

export interface PlanMetricsFeedOptions {
  metrics: TrafficshiftMetrics;
  /** The controller's plan cache (Controller.cachedPlans): plans as the watch last saw them. */
  plans: () => readonly KubeObject[];
}

/** What the feed reads of a cached plan; the spec is read apart, so a broken spec still has a phase. */
const CachedPlan = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string(), resourceVersion: z.string().optional() }),
  spec: z.unknown().optional(),
  status: z.unknown().optional(),
});
const CheckNames = z.looseObject({
  analysis: z.looseObject({ checks: z.array(z.unknown()).optional() }).optional(),
});
const NamedCheck = z.looseObject({ name: z.string() });

/** The check names a spec declares. A spec that does not parse runs no checks, so it has none. */
function checkNames(spec: unknown): ReadonlySet<string> {
  const checks = CheckNames.safeParse(spec ?? {}).data?.analysis?.checks ?? [];
  return new Set(checks.flatMap((c) => NamedCheck.safeParse(c).data?.name ?? []));
}

interface Recorded {
  resourceVersion: string | undefined;
  checks: ReadonlySet<string>;
}

export class PlanMetricsFeed {
  /** Each plan as last recorded: a plan whose resourceVersion has not moved is not parsed again. */
  private readonly recorded = new Map<string, Recorded>();

  constructor(private readonly options: PlanMetricsFeedOptions) {}

  /** Brings the plan series in line with the cache: records each changed plan's status, drops
   * the series of checks a plan no longer has, and every series of a plan the cache no longer holds. */
  refresh(): void {
    const { metrics } = this.options;
    const live = new Set<string>();
    for (const obj of this.options.plans()) {
      const parsed = CachedPlan.safeParse(obj);
      if (!parsed.success) continue;
      const { metadata, spec, status } = parsed.data;
      const plan = { namespace: metadata.namespace, name: metadata.name };
      const key = planKey(plan);
      live.add(key);
      let seen = this.recorded.get(key);
      if (!seen || seen.resourceVersion === undefined || seen.resourceVersion !== metadata.resourceVersion) {
        seen = { resourceVersion: metadata.resourceVersion, checks: checkNames(spec) };
        this.recorded.set(key, seen);
        metrics.recordPlan(plan, status, spec ?? {});
      }
      metrics.forgetChecksExcept(plan, seen.checks);
    }
    for (const plan of metrics.trackedPlans()) if (!live.has(planKey(plan))) metrics.forgetPlan(plan);
    for (const key of [...this.recorded.keys()]) if (!live.has(key)) this.recorded.delete(key);
  }
}

/** A feed over `plans` that refreshes before every read of the plan metrics. */
export function feedPlanMetrics(metrics: TrafficshiftMetrics, plans: () => readonly KubeObject[]): PlanMetricsFeed {
  const feed = new PlanMetricsFeed({ metrics, plans });
  metrics.refreshPlansWith(() => feed.refresh());
  return feed;
}
