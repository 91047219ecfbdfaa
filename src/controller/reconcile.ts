// One reconcile of one MigrationPlan: read the world (the plan and every target's live weight,
// from the watch caches only where they are known current: freshReads.ts), run a check round
// when one is due, ask the engine what to do, then write. Order of writes: the status (the engine's decision) first, the targets second,
// then decide again on what the targets now hold. A controller killed between the two writes
// comes back to a status that already names the step, finds the targets short of it, and writes
// the step once; it never finds targets ahead of the status, so it never writes a step twice.
// A rollback is the exception: stable first, then the status (isStableFirst).
import type { Logger } from 'winston';
import { decide, hooksDue, pendingRequest, roundDue, type Action, type Decision, type NotificationSnapshot, type Observations, type TargetObservation } from '../engine';
import type { AnalysisRunner, HookRunner } from '../checks';
import { isConflict, isNotFound, type Kube, type KubeObject, type ObjectClient, type ResourceRef } from '../kube';
import type { TrafficProvider } from '../providers';
import type { ReadinessObservation } from '../engine/types';
import { readReadiness, type BackendCache } from './readiness';
import { Preempted } from './workQueue';
import {
  FINALIZER,
  MigrationPlanStatus,
  ObjectMeta,
  REQUEST_ANNOTATIONS,
  type MigrationPlanSpec,
  type NotificationEvent,
  type RequestKind,
  type Target,
} from '../plan/schema';
import { readSpec } from '../plan/validate';
import { jsonEqual } from '../plan/jsonEqual';
import { planResource, type PlanRef } from '../plan/ref';

export type { PlanRef } from '../plan/ref';

export interface EventSink {
  record(plan: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/** What a notify action carries beside its event and message (engine/types.ts NotifyAction). */
export interface NotifyDetails {
  snapshot?: NotificationSnapshot;
  /** Only these entries of spec.notifications, whatever their events say (Progress). */
  notifications?: number[];
}

export interface Notifier {
  /** Queues and returns at once: a reconcile never waits for a receiver. */
  send(plan: PlanRef, spec: MigrationPlanSpec, event: NotificationEvent, message: string, details?: NotifyDetails): void;
}

export interface ReconcileDeps {
  kube: Kube;
  /** Reads and writes of the plan and its targets; `kube` when absent. The controller passes its
   * FreshReads, which answers a read from the watch caches when they hold what it last confirmed. */
  objects?: ObjectClient;
  providerFor(namespace: string, target: Target): TrafficProvider;
  analysis: AnalysisRunner;
  /** Calls spec.hooks (src/checks/hooks.ts). */
  hooks: HookRunner;
  events: EventSink;
  notifier: Notifier;
  log: Logger;
  now(): number;
  /** When a request (e.g. an alert-driven rollback) was first seen, if earlier than this reconcile. */
  requestSeenAt?(plan: PlanRef, kind: RequestKind, value: string): number | undefined;
  /** The plan exactly as the API server answered a write this process just made (a steering
   * request), taken once: the reconcile starts from it instead of reading the plan again. */
  takeWrittenPlan?(plan: PlanRef): KubeObject | undefined;
  /** A target object as the controller's watch of its kind last saw it, if it does. */
  cachedTarget?(ref: ResourceRef): KubeObject | undefined;
  /** Fencing: false once this replica may no longer write (lost or expiring lease). */
  mayWrite?(): boolean;
  /** Called after each target write the server accepted. */
  onWeightWritten?(plan: PlanRef, provider: string, weight: number): void;
  /** Counts the ready endpoints of the targets' backends (readiness.ts readReadiness when absent). */
  readiness?(namespace: string, targets: readonly Target[]): Promise<ReadinessObservation>;
  /** The controller's EndpointSlice and Pod caches, for readReadiness to count from. */
  backendCache?: BackendCache;
  /** Called after every reconcile with the targets the plan moves, so their changes wake it. */
  onTargets?(plan: PlanRef, targets: readonly Target[]): void;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
  /** The plan no longer exists: forget its key. */
  gone?: boolean;
}

export class LostLeadership extends Error {
  constructor() {
    super('this controller is no longer the leader; stopped before writing');
    this.name = 'LostLeadership';
  }
}

/** How many decide-write rounds one reconcile may take (advance, land, settle). */
const MAX_PASSES = 4;
/** Conflicts are normal (a person patched the plan meanwhile): retry at once with a fresh read. */
const CONFLICT_RETRIES = 3;

/** `preempt` fires when urgent work (a rollback, a deletion) arrives for this plan while it runs:
 * a check round under way is dropped, and the queue runs the plan again at once. */
export async function reconcilePlan(deps: ReconcileDeps, plan: PlanRef, signal: AbortSignal, preempt: AbortSignal = new AbortController().signal): Promise<ReconcileResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await reconcileOnce(deps, plan, signal, preempt);
    } catch (error) {
      if (isConflict(error) && attempt < CONFLICT_RETRIES && !signal.aborted) continue;
      throw error;
    }
  }
}

/** Before every write: stop when this replica may no longer write, and give way when urgent work
 * (a rollback, a deletion) arrived for this plan while routine work ran. Stopping between two
 * writes is what a crash does there, which the order of writes already makes safe; the urgent
 * reconcile then starts at once instead of after the routine one's remaining writes. */
function fence(deps: ReconcileDeps, signal: AbortSignal, preempt: AbortSignal): void {
  if (signal.aborted || deps.mayWrite?.() === false) throw new LostLeadership();
  if (preempt.aborted) throw new Preempted();
}

/** Status is ours, but a hand edit can break it: keep every field that still parses. */
function readStatus(raw: unknown): MigrationPlanStatus | undefined {
  if (raw === undefined || raw === null) return undefined;
  const whole = MigrationPlanStatus.safeParse(raw);
  if (whole.success) return whole.data;
  const out: Record<string, unknown> = {};
  const shape = MigrationPlanStatus.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = shape[key]?.safeParse(value);
    if (field?.success) out[key] = field.data;
  }
  return MigrationPlanStatus.parse(out);
}

function pendingRequests(annotations: Record<string, string> | undefined, plan: PlanRef, deps: ReconcileDeps): Observations['requests'] {
  const requests: Observations['requests'] = {};
  for (const kind of Object.keys(REQUEST_ANNOTATIONS) as RequestKind[]) {
    const value = annotations?.[REQUEST_ANNOTATIONS[kind]];
    if (value === undefined) continue;
    const seenAt = deps.requestSeenAt?.(plan, kind, value);
    requests[kind] = seenAt === undefined ? { value } : { value, requestedAt: seenAt };
  }
  return requests;
}

async function readTargets(providers: readonly TrafficProvider[]): Promise<TargetObservation[]> {
  return Promise.all(providers.map((p) => p.read()));
}

/**
 * For a rollback: every target as the watches of their kinds last saw them, instead of a GET
 * each; undefined when any is not in a cache (then they are read). Cached weights may be a
 * moment old, so a rollback from them writes canary 0 to every target, whatever they say, and
 * judges the result by the objects the server answers the writes with, never by the cache.
 */
function cachedTargets(deps: ReconcileDeps, providers: readonly TrafficProvider[]): TargetObservation[] | undefined {
  const lookup = deps.cachedTarget;
  if (lookup === undefined || providers.length === 0) return undefined;
  const states: TargetObservation[] = [];
  for (const provider of providers) {
    const state = provider.readCached?.(lookup);
    if (state === undefined || !state.ok) return undefined;
    states.push(state);
  }
  return states;
}

/** Phases in which a weight may go up, or a rollback lands: the ones the gate's counts matter in. */
const READINESS_PHASES = new Set(['Pending', 'Progressing', 'Holding', 'WaitingForPromotion', 'Paused', 'RollingBack']);

function countReadiness(deps: ReconcileDeps, plan: PlanRef, targets: readonly Target[]): Promise<ReadinessObservation> {
  return deps.readiness ? deps.readiness(plan.namespace, targets) : readReadiness(deps.kube, plan.namespace, targets, deps.cachedTarget, deps.backendCache);
}

async function reconcileOnce(deps: ReconcileDeps, plan: PlanRef, signal: AbortSignal, preempt: AbortSignal): Promise<ReconcileResult> {
  const ref = planResource(plan);
  const objects = deps.objects ?? deps.kube;
  let raw: KubeObject;
  try {
    // A plan the server answered a moment ago is as fresh as a read; if it changed since, the
    // status write below meets a 409 and the retry reads it.
    raw = deps.takeWrittenPlan?.(plan) ?? (await objects.get(ref));
  } catch (error) {
    if (isNotFound(error)) return { gone: true };
    throw error;
  }
  let meta = ObjectMeta.parse(raw['metadata']);
  const deleting = meta.deletionTimestamp !== undefined;
  const finalizers = meta.finalizers ?? [];
  if (deleting && !finalizers.includes(FINALIZER)) return {};
  if (!deleting && !finalizers.includes(FINALIZER)) {
    fence(deps, signal, preempt);
    // resourceVersion in a merge patch is a precondition: a concurrent edit answers 409.
    raw = await objects.mergePatch(ref, { metadata: { resourceVersion: meta.resourceVersion, finalizers: [...finalizers, FINALIZER] } });
    meta = ObjectMeta.parse(raw['metadata']);
  }

  const { spec, targets, error: specError } = readSpec(raw['spec']);
  let status = readStatus(raw['status']);
  const providers = targets.map((t) => deps.providerFor(plan.namespace, t));
  if (targets.length > 0) deps.onTargets?.(plan, targets);

  const requests = pendingRequests(meta.annotations, plan, deps);
  // A rollback waits for nothing: with one pending, no check round runs first, and the targets
  // come from the watch caches when they have them.
  const rollbackPending = !deleting && pendingRequest({ requests }, status ?? {}, 'rollback') !== undefined;
  const fromCache = rollbackPending ? cachedTargets(deps, providers) : undefined;
  const observations: Observations = {
    now: deps.now(),
    generation: meta.generation ?? 1,
    targets: fromCache ?? (await readTargets(providers)),
    requests,
    ...(specError ? { specError } : {}),
    ...(deleting ? { deleting: true } : {}),
  };

  // A rollback or a deletion counts nothing before it writes stable; its later pass records what
  // the stable side has (status.rollback.stableReadyEndpoints).
  if (spec && !deleting && !rollbackPending && READINESS_PHASES.has(status?.phase ?? 'Pending')) {
    observations.readiness = await countReadiness(deps, plan, targets);
  }

  // The canary's analysis while the plan runs; the stable side's during a rollback validation.
  const side = spec && !deleting && !rollbackPending ? roundDue(spec, status, observations.now) : undefined;
  if (spec && side !== undefined) {
    const round = await deps.analysis.runRound({
      plan,
      spec,
      step: status?.currentStep ?? 0,
      weight: status?.canaryWeight ?? 0,
      side,
      signal: AbortSignal.any([signal, preempt]),
    });
    // Urgent work arrived meanwhile: what the round says no longer matters, and its aborted
    // checks must not count as errors.
    if (preempt.aborted) throw new Preempted();
    observations.round = round;
    observations.now = deps.now();
  }

  if (spec && !deleting && !rollbackPending) await runDueHooks(deps, plan, spec, status, observations, signal, preempt);
  let decision = decide(spec, status, observations);
  for (let pass = 1; ; pass++) {
    let writes = decision.actions.filter((a): a is Extract<Action, { kind: 'setWeight' }> => a.kind === 'setWeight');
    // Decided on cached weights: every target gets its 0, even one the cache says holds 0 already.
    if (fromCache !== undefined && pass === 1 && decision.status.phase === 'RollingBack') {
      writes = [{ kind: 'setWeight', weight: 0, targets: providers.map((_p, i) => i), reason: `rollback: ${decision.status.rollback?.reason ?? 'stable'}` }];
    }
    const stableFirst = isStableFirst(decision, writes);
    if (stableFirst) {
      fence(deps, signal, preempt);
      observations.targets = await applyWeights(deps, plan, decision.status.currentStep, providers, observations.targets, writes);
    }
    if (!jsonEqual(decision.status, status)) {
      fence(deps, signal, preempt);
      raw = await objects.replace(ref, { ...raw, status: decision.status }, { subresource: 'status' });
      status = decision.status;
    }
    await emit(deps, raw, plan, spec, status, decision.actions);

    // A decision can make a hook due at once (a step advanced: its beforeStep hooks; a rollback
    // landed: afterRollback), so one more pass calls it rather than waiting for a requeue.
    const hooksNow = spec !== undefined && !deleting && status !== undefined && hooksDue(spec, status, deps.now()).length > 0;
    if ((writes.length === 0 && !hooksNow) || pass >= MAX_PASSES) break;
    if (!stableFirst && writes.length > 0) {
      fence(deps, signal, preempt);
      observations.targets = await applyWeights(deps, plan, status?.currentStep, providers, observations.targets, writes);
    }
    delete observations.round;
    delete observations.hooks;
    if (spec && observations.readiness === undefined && status?.phase === 'RollingBack') {
      observations.readiness = await countReadiness(deps, plan, targets);
    }
    observations.now = deps.now();
    if (spec !== undefined && !deleting) await runDueHooks(deps, plan, spec, status, observations, signal, preempt);
    decision = decide(spec, status, observations);
  }

  if (deleting && decision.finalizerDone) {
    fence(deps, signal, preempt);
    const remaining = finalizers.filter((f) => f !== FINALIZER);
    await objects.jsonPatch(ref, [
      { op: 'test', path: '/metadata/finalizers', value: finalizers },
      { op: 'replace', path: '/metadata/finalizers', value: remaining },
    ]);
    return { gone: true };
  }

  const next = decision.nextEvaluationAt;
  return next === undefined ? {} : { requeueAfterMs: Math.max(0, next - deps.now()) };
}

/**
 * Calls the hooks due now, one after another, and puts their results in the observations. Like a
 * check round it gives way at once to urgent work: a rollback preempts it, and nothing a call
 * interrupted is recorded. Hooks never run while a rollback is pending (the caller's rule) and
 * never delay one: stable is written before any afterRollback hook is due.
 */
async function runDueHooks(
  deps: ReconcileDeps,
  plan: PlanRef,
  spec: MigrationPlanSpec,
  status: MigrationPlanStatus | undefined,
  observations: Observations,
  signal: AbortSignal,
  preempt: AbortSignal,
): Promise<void> {
  const runner = deps.hooks;
  const due = hooksDue(spec, status ?? {}, observations.now);
  if (due.length === 0) return;
  const results = [];
  for (const call of due) {
    const result = await runner.run(plan, call, AbortSignal.any([signal, preempt]));
    if (preempt.aborted) throw new Preempted();
    if (signal.aborted) throw new LostLeadership();
    deps.log.log(result.result === 'Pass' ? 'info' : 'warn', 'hook called', { plan: plan.name, namespace: plan.namespace, hook: result.name, when: result.when, step: result.step, result: result.result, attempts: result.attempts, message: result.message });
    results.push(result);
  }
  observations.hooks = results;
  observations.now = deps.now();
}

/**
 * A rollback puts traffic back on stable before it writes anything else: the targets first, then
 * the status and the Events. That takes the status write and the Event off the path between a
 * rollback request and stable traffic, and a status that cannot be written (refused as too large
 * or invalid, a failing API server) never keeps traffic on the canary. Writing 0 before the
 * status is safe: the trigger (a request, an alert, a deletion, a failing check) is still there on
 * the next reconcile, and a status that lags behind the targets never moves traffic up
 * (engine/steps.ts refusedUpwardMove). Every other write keeps the order status first, targets
 * second, so a crash between the two never writes a step twice.
 */
function isStableFirst(decision: Decision, writes: ReadonlyArray<Extract<Action, { kind: 'setWeight' }>>): boolean {
  const phase = decision.status.phase;
  return (phase === 'RollingBack' || phase === 'RolledBack') && writes.length > 0 && writes.every((w) => w.weight === 0);
}

/** One PATCH per target, all at once; a target whose write fails is read again. */
async function applyWeights(
  deps: ReconcileDeps,
  plan: PlanRef,
  step: number | undefined,
  providers: readonly TrafficProvider[],
  current: readonly TargetObservation[],
  writes: ReadonlyArray<Extract<Action, { kind: 'setWeight' }>>,
): Promise<TargetObservation[]> {
  const next = [...current];
  const failures: unknown[] = [];
  await Promise.all(
    writes.flatMap((w) =>
      w.targets.map(async (index) => {
        const provider = providers[index];
        if (!provider) return;
        try {
          next[index] = await provider.write(w.weight);
          deps.onWeightWritten?.(plan, provider.target.provider, w.weight);
          deps.log.info('weight written', { plan: plan.name, namespace: plan.namespace, step, target: provider.describe(), weight: w.weight, reason: w.reason });
        } catch (error) {
          failures.push(error);
          deps.log.warn('weight write failed', { plan: plan.name, namespace: plan.namespace, step, target: provider.describe(), weight: w.weight, error: String(error) });
          next[index] = await provider.read().catch(() => current[index] as TargetObservation);
        }
      }),
    ),
  );
  if (failures.length > 0 && next.every((t, i) => jsonEqual(t, current[i]))) throw failures[0];
  return next;
}

async function emit(
  deps: ReconcileDeps,
  raw: KubeObject,
  plan: PlanRef,
  spec: MigrationPlanSpec | undefined,
  status: MigrationPlanStatus | undefined,
  actions: readonly Action[],
): Promise<void> {
  for (const action of actions) {
    if (action.kind === 'event') {
      deps.log.log(action.type === 'Warning' ? 'warn' : 'info', action.message, {
        plan: plan.name,
        namespace: plan.namespace,
        reason: action.reason,
        phase: status?.phase,
        step: status?.currentStep,
        weight: status?.canaryWeight,
      });
      await deps.events.record(raw, action.type, action.reason, action.message).catch((error: unknown) => {
        deps.log.warn('could not record event', { plan: plan.name, namespace: plan.namespace, error: String(error) });
      });
    } else if (action.kind === 'notify' && spec) {
      const details: NotifyDetails = {};
      if (action.snapshot !== undefined) details.snapshot = action.snapshot;
      if (action.notifications !== undefined) details.notifications = action.notifications;
      deps.notifier.send(plan, spec, action.event, action.message, details);
    }
  }
}
