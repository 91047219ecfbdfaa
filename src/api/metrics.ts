// What /metrics exposes. One Registry per process, made here and handed to whoever records:
// the analysis runner (through CheckMetrics), the plan-status feed (phase and recovery time),
// and the express app that serves it. No global registry, so tests build as many as they like.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import type { CheckMetrics, PlanRef } from '../checks';
import type { ControllerMetrics } from '../controller/controller';
import { PHASES, type CheckResultKind } from '../plan/schema';

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
  /** Rollbacks already observed, by plan, as their triggeredAt; one plan can roll back again after a retry. */
  private readonly observedRollbacks = new Map<string, string>();
  /** Check names seen per plan: prom-client removes a series only by its full label set. */
  private readonly checkNames = new Map<string, Set<string>>();

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
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
    });
    this.checkDuration = new Histogram({
      name: METRIC_NAMES.checkDuration,
      help: 'How long one check of an analysis round took, by its result (Pass, Fail, NoData, Error).',
      labelNames: ['namespace', 'plan', 'check', 'result'],
      buckets: CHECK_DURATION_BUCKETS,
      registers,
    });
    this.rollbackRecovery = new Histogram({
      name: METRIC_NAMES.rollbackRecovery,
      help: 'Seconds from a rollback trigger until every target held canary weight 0 (status.rollback.recoverySeconds).',
      labelNames: ['namespace', 'plan'],
      buckets: RECOVERY_BUCKETS,
      registers,
    });
    this.planPhase = new Gauge({
      name: METRIC_NAMES.planPhase,
      help: 'One series per plan and phase: 1 for the phase the plan is in, 0 for the others.',
      labelNames: ['namespace', 'plan', 'phase'],
      registers,
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
    });
    this.checks = {
      observe: (plan, check, value, result, durationSeconds) => this.observeCheck(plan, check, value, result, durationSeconds),
    };
    this.controller = {
      leading: (isLeader) => this.leader.set(isLeader ? 1 : 0),
      weightWritten: (plan, provider) => this.weightWrites.inc({ namespace: plan.namespace, plan: plan.name, provider }),
    };
  }

  /** Records what a plan's status says now: its phase, and a rollback's recovery time once. */
  recordPlan(plan: PlanRef, status: unknown): void {
    const parsed = PlanStatusView.safeParse(status ?? {});
    if (!parsed.success) return;
    const phase = parsed.data.phase ?? 'Pending';
    for (const p of PHASES) this.planPhase.set({ namespace: plan.namespace, plan: plan.name, phase: p }, p === phase ? 1 : 0);
    const rollback = parsed.data.rollback;
    if (rollback?.recoverySeconds === undefined || rollback.completedAt === undefined) return;
    const key = `${plan.namespace}/${plan.name}`;
    if (this.observedRollbacks.get(key) === rollback.triggeredAt) return;
    this.observedRollbacks.set(key, rollback.triggeredAt);
    if (Date.parse(rollback.completedAt) < this.since) return;
    this.rollbackRecovery.observe({ namespace: plan.namespace, plan: plan.name }, rollback.recoverySeconds);
  }

  /** Drops a deleted plan's series, so a dashboard does not show it forever. */
  forgetPlan(plan: PlanRef): void {
    const labels = { namespace: plan.namespace, plan: plan.name };
    const key = `${plan.namespace}/${plan.name}`;
    for (const phase of PHASES) this.planPhase.remove({ ...labels, phase });
    for (const check of this.checkNames.get(key) ?? []) this.checkValue.remove({ ...labels, check });
    this.checkNames.delete(key);
    this.observedRollbacks.delete(key);
  }

  private observeCheck(plan: PlanRef, check: string, value: number | null, result: CheckResultKind, durationSeconds: number): void {
    const labels = { namespace: plan.namespace, plan: plan.name, check };
    const key = `${plan.namespace}/${plan.name}`;
    let names = this.checkNames.get(key);
    if (!names) this.checkNames.set(key, (names = new Set()));
    names.add(check);
    // A value from an earlier round would read as current; no value is the honest answer.
    if (value === null || !Number.isFinite(value)) this.checkValue.remove(labels);
    else this.checkValue.set(labels, value);
    this.checkDuration.observe({ ...labels, result }, durationSeconds);
  }
}
