// What /metrics exposes. One Registry per process, made here and handed to whoever records:
// the analysis runner (through CheckMetrics), the plan-status feed (phase and recovery time),
// and the express app that serves it. No global registry, so tests build as many as they like.
// Every series labelled with a plan is tracked here, so that a deleted plan's series, and those
// of a check its plan no longer has, can be removed: prom-client removes a series only by its
// full label set, and keeps every series it was ever given until then.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import type { CheckMetrics, PlanRef } from '../checks';
import type { ControllerMetrics } from '../controller/controller';
import { planKey } from '../plan/ref';
import { CHECK_RESULTS, PHASES, type CheckResultKind } from '../plan/schema';

export const METRIC_NAMES = {
  buildInfo: 'trafficshift_build_info',
  checkValue: 'trafficshift_check_value',
  checkDuration: 'trafficshift_check_duration_seconds',
  rollbackRecovery: 'trafficshift_rollback_recovery_seconds',
  planPhase: 'trafficshift_plan_phase',
  leader: 'trafficshift_leader',
  weightWrites: 'trafficshift_weight_writes_total',
} as const;

// A check is an HTTP round trip to Prometheus or a webhook; its default timeout is 10 s.
const CHECK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Recovery is judged against `rollback.rto`, typically tens of seconds.
const RECOVERY_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300];

/** The few status fields the plan metrics read; anything else in status is ignored. */
const PlanStatusView = z.looseObject({
  phase: z.enum(PHASES).optional(),
  rollback: z
    .looseObject({
      triggeredAt: z.string(),
      completedAt: z.string().optional(),
      recoverySeconds: z.number().min(0).optional(),
    })
    .optional(),
});

export interface MetricsOptions {
  version: string;
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
  /** Rollbacks completed before this instant (epoch ms) are history a previous process already
   * counted; a restarted controller must not observe them again. Default: construction time. */
  since?: number;
}

/** The label values of one plan's series that are not fixed lists (phases and results are). */
interface PlanSeries {
  readonly plan: PlanRef;
  readonly checks: Set<string>;
  readonly providers: Set<string>;
  /** The rollback already observed, as its triggeredAt; one plan can roll back again after a retry. */
  observedRollback?: string;
}

export class TrafficshiftMetrics {
  readonly registry = new Registry();
  readonly checkValue: Gauge<'namespace' | 'plan' | 'check'>;
  readonly checkDuration: Histogram<'namespace' | 'plan' | 'check' | 'result'>;
  readonly rollbackRecovery: Histogram<'namespace' | 'plan'>;
  readonly planPhase: Gauge<'namespace' | 'plan' | 'phase'>;
  readonly leader: Gauge;
  readonly weightWrites: Counter<'namespace' | 'plan' | 'provider'>;
  /** The hook the analysis runner calls once per check per round. */
  readonly checks: CheckMetrics;
  /** The hooks the controller calls on leadership changes and target writes. */
  readonly controller: ControllerMetrics;
  private readonly since: number;
  /** Every plan that has series, by `namespace/name`. */
  private readonly series = new Map<string, PlanSeries>();
  /** Runs before any plan series is read, so a scrape sees the plans as they are now. */
  private refreshPlans: (() => void) | undefined;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    // On every plan-labelled metric, not one: each can be read alone (getSingleMetric), and the
    // registry reads them in no promised order. A refresh with nothing changed costs one pass
    // over the cache.
    const collect = (): void => this.refreshPlans?.();
    this.since = options.since ?? Date.now();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: METRIC_NAMES.buildInfo,
      help: 'Always 1; the version label says which build runs.',
      labelNames: ['version'],
      registers,
    }).set({ version: options.version }, 1);
    this.checkValue = new Gauge({
      name: METRIC_NAMES.checkValue,
      help: 'The value a check measured in its latest round; absent while it measures nothing (NoData, Error).',
      labelNames: ['namespace', 'plan', 'check'],
      registers,
      collect,
    });
    this.checkDuration = new Histogram({
      name: METRIC_NAMES.checkDuration,
      help: 'How long one check of an analysis round took, by its result (Pass, Fail, NoData, Error).',
      labelNames: ['namespace', 'plan', 'check', 'result'],
      buckets: CHECK_DURATION_BUCKETS,
      registers,
      collect,
    });
    this.rollbackRecovery = new Histogram({
      name: METRIC_NAMES.rollbackRecovery,
      help: 'Seconds from a rollback trigger until every target held canary weight 0 (status.rollback.recoverySeconds).',
      labelNames: ['namespace', 'plan'],
      buckets: RECOVERY_BUCKETS,
      registers,
      collect,
    });
    this.planPhase = new Gauge({
      name: METRIC_NAMES.planPhase,
      help: 'One series per plan and phase: 1 for the phase the plan is in, 0 for the others.',
      labelNames: ['namespace', 'plan', 'phase'],
      registers,
      collect,
    });
    this.leader = new Gauge({
      name: METRIC_NAMES.leader,
      help: '1 while this replica holds the Lease and may write, else 0.',
      registers,
    });
    this.weightWrites = new Counter({
      name: METRIC_NAMES.weightWrites,
      help: 'Weight writes (one PATCH per target) this replica made, by plan and provider.',
      labelNames: ['namespace', 'plan', 'provider'],
      registers,
      collect,
    });
    this.checks = {
      observe: (plan, check, value, result, durationSeconds) => this.observeCheck(plan, check, value, result, durationSeconds),
    };
    this.controller = {
      leading: (isLeader) => this.leader.set(isLeader ? 1 : 0),
      weightWritten: (plan, provider) => {
        this.track(plan).providers.add(provider);
        this.weightWrites.inc({ namespace: plan.namespace, plan: plan.name, provider });
      },
    };
  }

  /** Makes `refresh` run before any plan series is read (PlanMetricsFeed brings them in line with
   * the controller's plan cache there). One at a time: a second call replaces the first. */
  refreshPlansWith(refresh: () => void): void {
    this.refreshPlans = refresh;
  }

  /** Records what a plan's status says now: its phase, and a rollback's recovery time once. */
  recordPlan(plan: PlanRef, status: unknown): void {
    const parsed = PlanStatusView.safeParse(status ?? {});
    if (!parsed.success) return;
    const series = this.track(plan);
    const phase = parsed.data.phase ?? 'Pending';
    for (const p of PHASES) this.planPhase.set({ namespace: plan.namespace, plan: plan.name, phase: p }, p === phase ? 1 : 0);
    const rollback = parsed.data.rollback;
    if (rollback?.recoverySeconds === undefined || rollback.completedAt === undefined) return;
    if (series.observedRollback === rollback.triggeredAt) return;
    series.observedRollback = rollback.triggeredAt;
    if (Date.parse(rollback.completedAt) < this.since) return;
    this.rollbackRecovery.observe({ namespace: plan.namespace, plan: plan.name }, rollback.recoverySeconds);
  }

  /** Every plan that has series now. */
  trackedPlans(): PlanRef[] {
    return [...this.series.values()].map((s) => s.plan);
  }

  /** Drops every series labelled with a deleted plan (phase, check values and durations, recovery
   * time, weight writes), so a dashboard does not show it forever and cardinality follows the
   * live plans. */
  forgetPlan(plan: PlanRef): void {
    const series = this.series.get(planKey(plan));
    const labels = { namespace: plan.namespace, plan: plan.name };
    for (const phase of PHASES) this.planPhase.remove({ ...labels, phase });
    this.rollbackRecovery.remove(labels);
    for (const check of series?.checks ?? []) this.removeCheck(plan, check);
    for (const provider of series?.providers ?? []) this.weightWrites.remove({ ...labels, provider });
    this.series.delete(planKey(plan));
  }

  /** Drops the series of the checks a plan no longer has (renamed or removed from its spec). */
  forgetChecksExcept(plan: PlanRef, current: ReadonlySet<string>): void {
    const checks = this.series.get(planKey(plan))?.checks;
    for (const check of [...(checks ?? [])]) {
      if (current.has(check)) continue;
      this.removeCheck(plan, check);
      checks?.delete(check);
    }
  }

  private track(plan: PlanRef): PlanSeries {
    const key = planKey(plan);
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { plan: { namespace: plan.namespace, name: plan.name }, checks: new Set(), providers: new Set() }));
    return series;
  }

  private removeCheck(plan: PlanRef, check: string): void {
    const labels = { namespace: plan.namespace, plan: plan.name, check };
    this.checkValue.remove(labels);
    for (const result of CHECK_RESULTS) this.checkDuration.remove({ ...labels, result });
  }

  private observeCheck(plan: PlanRef, check: string, value: number | null, result: CheckResultKind, durationSeconds: number): void {
    const labels = { namespace: plan.namespace, plan: plan.name, check };
    this.track(plan).checks.add(check);
    // A value from an earlier round would read as current; no value is the honest answer.
    if (value === null || !Number.isFinite(value)) this.checkValue.remove(labels);
    else this.checkValue.set(labels, value);
    this.checkDuration.observe({ ...labels, result }, durationSeconds);
  }
}
