// What /metrics exposes. One Registry per process, made here and handed to whoever records:
// the analysis runner (through CheckMetrics), the plan feed (phase, weight, RTO, thresholds,
// recovery time), the controller (leadership, writes, reconciles), the Kubernetes client (its
// requests), and the express app that serves it. No global registry, so tests build as many as they like.
// Every series labelled with a plan is tracked here, so that a deleted plan's series, and those
// of a check its plan no longer has, can be removed: prom-client removes a series only by its
// full label set, and keeps every series it was ever given until then.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import type { CheckMetrics, PlanRef } from '../checks';
import type { ControllerMetrics } from '../controller/controller';
import type { KubeRequestObserver } from '../kube';
import { parseDuration } from '../plan/duration';
import { planKey } from '../plan/ref';
import { CHECK_RESULTS, NOTIFICATION_EVENTS, NOTIFICATION_FORMATS, PAGERDUTY_RESOLVES, PAGERDUTY_TRIGGERS, PHASES, VALIDATION_RESULTS, type CheckResultKind, type NotificationEvent } from '../plan/schema';

export const METRIC_NAMES = {
  buildInfo: 'trafficshift_build_info',
  checkValue: 'trafficshift_check_value',
  checkDuration: 'trafficshift_check_duration_seconds',
  rollbackRecovery: 'trafficshift_rollback_recovery_seconds',
  planPhase: 'trafficshift_plan_phase',
  leader: 'trafficshift_leader',
  weightWrites: 'trafficshift_weight_writes_total',
  canaryWeight: 'trafficshift_plan_canary_weight',
  rto: 'trafficshift_plan_rto_seconds',
  lastRecovery: 'trafficshift_plan_last_recovery_seconds',
  rollbackStarted: 'trafficshift_plan_rollback_started_timestamp_seconds',
  stalled: 'trafficshift_plan_stalled',
  rollbackValidation: 'trafficshift_rollback_validation',
  checkThreshold: 'trafficshift_check_threshold',
  reconciles: 'trafficshift_reconciles_total',
  reconcileDuration: 'trafficshift_reconcile_duration_seconds',
  kubeRequests: 'trafficshift_kube_requests_total',
  kubeRequestDuration: 'trafficshift_kube_request_duration_seconds',
  notifications: 'trafficshift_notifications_total',
} as const;

// A check is an HTTP round trip to Prometheus or a webhook; its default timeout is 10 s.
const CHECK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Recovery is judged against `rollback.rto`, typically tens of seconds.
const RECOVERY_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300];
// A reconcile is a few API calls; a slow one holds up the plans queued behind it.
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];
// The client's own deadline is 15 s (controllerKube).
const KUBE_REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];

/** The few status fields the plan metrics read; anything else in status is ignored. */
const PlanStatusView = z.looseObject({
  phase: z.enum(PHASES).optional(),
  canaryWeight: z.number().min(0).max(100).optional(),
  conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).optional(),
  rollback: z
    .looseObject({
      triggeredAt: z.string(),
      completedAt: z.string().optional(),
      recoverySeconds: z.number().min(0).optional(),
      validation: z.looseObject({ result: z.enum(VALIDATION_RESULTS) }).optional(),
    })
    .optional(),
});

/** The few spec fields the plan metrics read: the RTO and each check's bounds. Read apart from
 * the status, so a spec that no longer parses still leaves its phase reported. */
const PlanSpecView = z.looseObject({
  rollback: z.looseObject({ rto: z.string().optional() }).optional(),
  analysis: z
    .looseObject({
      checks: z.array(z.looseObject({ name: z.string(), min: z.number().optional(), max: z.number().optional() })).optional(),
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
  /** The check thresholds that have series, as `check\0bound`. */
  thresholds: ReadonlySet<string>;
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
  readonly canaryWeight: Gauge<'namespace' | 'plan'>;
  readonly rto: Gauge<'namespace' | 'plan'>;
  readonly lastRecovery: Gauge<'namespace' | 'plan'>;
  readonly rollbackStarted: Gauge<'namespace' | 'plan'>;
  readonly stalled: Gauge<'namespace' | 'plan'>;
  readonly rollbackValidation: Gauge<'namespace' | 'plan' | 'result'>;
  readonly checkThreshold: Gauge<'namespace' | 'plan' | 'check' | 'bound'>;
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly kubeRequests: Counter<'verb' | 'resource' | 'code'>;
  readonly kubeRequestDuration: Histogram<'verb'>;
  readonly notifications: Counter<'format' | 'event' | 'result'>;
  /** The hook the Kubernetes client calls once per request (KubeOptions.observer). */
  readonly kube: KubeRequestObserver;
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
    // One series per plan, read from its status or spec at each scrape (PlanMetricsFeed).
    const planGauge = (name: string, help: string): Gauge<'namespace' | 'plan'> =>
      new Gauge({ name, help, labelNames: ['namespace', 'plan'], registers, collect });
    this.canaryWeight = planGauge(METRIC_NAMES.canaryWeight, 'The canary weight (percent) every readable target of the plan agrees on (status.canaryWeight).');
    this.rto = planGauge(METRIC_NAMES.rto, "The plan's recovery time objective (spec.rollback.rto) in seconds; absent when it sets none.");
    this.lastRecovery = planGauge(METRIC_NAMES.lastRecovery, "Seconds the plan's latest completed rollback took to take all traffic off the canary (status.rollback.recoverySeconds).");
    this.rollbackStarted = planGauge(METRIC_NAMES.rollbackStarted, "When the plan's latest rollback was triggered (status.rollback.triggeredAt), in Unix seconds.");
    this.stalled = planGauge(METRIC_NAMES.stalled, '1 while the plan\'s Stalled condition is True (it cannot go on by itself), else 0.');
    this.rollbackValidation = new Gauge({
      name: METRIC_NAMES.rollbackValidation,
      help: "The latest rollback's validation against stable (status.rollback.validation.result): 1 for its result (Running, Passed, Failed, NoData, Cancelled), 0 for the others; absent when there is none.",
      labelNames: ['namespace', 'plan', 'result'],
      registers,
      collect,
    });
    this.checkThreshold = new Gauge({
      name: METRIC_NAMES.checkThreshold,
      help: 'The bound a metric check holds its value to: bound="max" fails above it, bound="min" below it.',
      labelNames: ['namespace', 'plan', 'check', 'bound'],
      registers,
      collect,
    });
    this.reconciles = new Counter({
      name: METRIC_NAMES.reconciles,
      help: 'Reconciles of a plan this replica finished, by result: success, or error (the plan is retried with backoff).',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: METRIC_NAMES.reconcileDuration,
      help: 'How long one reconcile of a plan took, by result.',
      labelNames: ['result'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.kubeRequests = new Counter({
      name: METRIC_NAMES.kubeRequests,
      help: 'Requests to the Kubernetes API server (watches excepted), by verb, resource and HTTP status code; code is "error" when no answer came (connection refused, reset, TLS) and "timeout" past the client deadline.',
      labelNames: ['verb', 'resource', 'code'],
      registers,
    });
    this.kubeRequestDuration = new Histogram({
      name: METRIC_NAMES.kubeRequestDuration,
      help: 'How long a request to the Kubernetes API server took, answered or not, by verb.',
      labelNames: ['verb'],
      buckets: KUBE_REQUEST_BUCKETS,
      registers,
    });
    // Not per plan: a failing receiver is one per notification entry, and the log line names the
    // plan; labels stay a fixed set (4 formats x the events x 2 results).
    this.notifications = new Counter({
      name: METRIC_NAMES.notifications,
      help: 'Notifications by format, event and result: delivered, or failed (every try failed, it was refused, its Secret could not be read, or it was dropped from a full queue).',
      labelNames: ['format', 'event', 'result'],
      registers,
    });
    this.kube = {
      requestDone: ({ verb, resource, code, durationSeconds }) => {
        this.kubeRequests.inc({ verb, resource, code });
        this.kubeRequestDuration.observe({ verb }, durationSeconds);
      },
    };
    this.checks = {
      observe: (plan, check, value, result, durationSeconds) => this.observeCheck(plan, check, value, result, durationSeconds),
    };
    this.controller = {
      leading: (isLeader) => this.leader.set(isLeader ? 1 : 0),
      weightWritten: (plan, provider) => {
        this.track(plan).providers.add(provider);
        this.weightWrites.inc({ namespace: plan.namespace, plan: plan.name, provider });
      },
      reconciled: (result, durationSeconds) => {
        this.reconciles.inc({ result });
        this.reconcileDuration.observe({ result }, durationSeconds);
      },
      notification: (outcome) => {
        this.notifications.inc({ format: outcome.format, event: outcome.event, result: outcome.delivered ? 'delivered' : 'failed' });
      },
    };
    // Zero from the start, so rate() and increase() see the first error as a change.
    for (const result of ['success', 'error'] as const) this.reconciles.inc({ result }, 0);
    // Every pair a plan may ask for (pagerduty takes only the events it triggers or resolves on).
    for (const format of NOTIFICATION_FORMATS) {
      const events = format === 'pagerduty' ? [...(Object.keys(PAGERDUTY_TRIGGERS) as NotificationEvent[]), ...PAGERDUTY_RESOLVES] : NOTIFICATION_EVENTS;
      for (const event of events) for (const result of ['delivered', 'failed']) this.notifications.inc({ format, event, result }, 0);
    }
  }

  /** Makes `refresh` run before any plan series is read (PlanMetricsFeed brings them in line with
   * the controller's plan cache there). One at a time: a second call replaces the first. */
  refreshPlansWith(refresh: () => void): void {
    this.refreshPlans = refresh;
  }

  /** Records what a plan says now: from its status the phase, the canary weight, whether it is
   * stalled, its latest rollback (and that rollback's recovery time, once); from its spec the RTO
   * and the check thresholds. */
  recordPlan(plan: PlanRef, status: unknown, spec?: unknown): void {
    if (spec !== undefined) this.recordSpec(plan, spec);
    const parsed = PlanStatusView.safeParse(status ?? {});
    if (!parsed.success) return;
    const series = this.track(plan);
    const labels = { namespace: plan.namespace, plan: plan.name };
    const phase = parsed.data.phase ?? 'Pending';
    for (const p of PHASES) this.planPhase.set({ ...labels, phase: p }, p === phase ? 1 : 0);
    // Unset, the weight is not known (no target read yet): no series rather than a made-up 0.
    if (parsed.data.canaryWeight === undefined) this.canaryWeight.remove(labels);
    else this.canaryWeight.set(labels, parsed.data.canaryWeight);
    const stalled = parsed.data.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True') === true;
    this.stalled.set(labels, stalled ? 1 : 0);
    const rollback = parsed.data.rollback;
    const validation = rollback?.validation?.result;
    for (const result of VALIDATION_RESULTS) {
      if (validation === undefined) this.rollbackValidation.remove({ ...labels, result });
      else this.rollbackValidation.set({ ...labels, result }, result === validation ? 1 : 0);
    }
    const started = rollback !== undefined ? Date.parse(rollback.triggeredAt) : NaN;
    if (Number.isFinite(started)) this.rollbackStarted.set(labels, started / 1000);
    else this.rollbackStarted.remove(labels);
    if (rollback?.recoverySeconds === undefined || rollback.completedAt === undefined) {
      // A retried plan's earlier rollback is no longer its latest: no recovery to compare yet.
      this.lastRecovery.remove(labels);
      return;
    }
    this.lastRecovery.set(labels, rollback.recoverySeconds);
    if (series.observedRollback === rollback.triggeredAt) return;
    series.observedRollback = rollback.triggeredAt;
    if (Date.parse(rollback.completedAt) < this.since) return;
    this.rollbackRecovery.observe({ namespace: plan.namespace, plan: plan.name }, rollback.recoverySeconds);
  }

  private recordSpec(plan: PlanRef, spec: unknown): void {
    const labels = { namespace: plan.namespace, plan: plan.name };
    const parsed = PlanSpecView.safeParse(spec);
    const rto = parsed.data?.rollback?.rto;
    let rtoMs: number | undefined;
    try {
      rtoMs = rto !== undefined ? parseDuration(rto) : undefined;
    } catch {
      rtoMs = undefined;
    }
    if (rtoMs === undefined) this.rto.remove(labels);
    else this.rto.set(labels, rtoMs / 1000);
    const series = this.track(plan);
    const now = new Set<string>();
    for (const check of parsed.data?.analysis?.checks ?? []) {
      for (const bound of ['min', 'max'] as const) {
        const value = check[bound];
        if (value === undefined) continue;
        const key = `${check.name}\0${bound}`;
        now.add(key);
        this.checkThreshold.set({ ...labels, check: check.name, bound }, value);
      }
    }
    for (const key of series.thresholds) {
      if (now.has(key)) continue;
      const [check = '', bound = ''] = key.split('\0');
      this.checkThreshold.remove({ ...labels, check, bound });
    }
    series.thresholds = now;
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
    for (const result of VALIDATION_RESULTS) this.rollbackValidation.remove({ ...labels, result });
    this.rollbackRecovery.remove(labels);
    for (const gauge of [this.canaryWeight, this.rto, this.lastRecovery, this.rollbackStarted, this.stalled]) gauge.remove(labels);
    for (const key of series?.thresholds ?? []) {
      const [check = '', bound = ''] = key.split('\0');
      this.checkThreshold.remove({ ...labels, check, bound });
    }
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
    if (!series) this.series.set(key, (series = { plan: { namespace: plan.namespace, name: plan.name }, checks: new Set(), providers: new Set(), thresholds: new Set() }));
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
