// Derives the one event a reconcile is about from the observations and the status (after the
// round and the landing of the step's weight are recorded). The order below is the priority:
// deletion, a broken spec and rollbacks come before anything that could move traffic forward.
import type { MigrationPlanSpec, MigrationPlanStatus, Phase, RequestKind } from '../plan/schema';
import { inChangeWindow } from './schedule';
import {
  ROLLBACKABLE_PHASES,
  analysisIntervalMs,
  bakeTimeMs,
  blueGreenSwitched,
  currentStep,
  desiredWeight,
  hasChecks,
  isActive,
  isLastStep,
  pauseOf,
  stepIndex,
  stepLabel,
  refusedUpwardMove,
  toMs,
} from './steps';
import { isHandled } from './bounds';
import type { Observations } from './types';
import { stepHooksResult, beforeStepCleared } from './hooks';
import { runningValidation, validationConclusion } from './validation';

export const ENGINE_EVENTS = [
  'Deleted', // deletionTimestamp is set
  'SpecInvalid', // the spec failed validation
  'RollbackRequested', // a pending rollback request (annotation)
  'ChecksFailed', // a critical check reached its failureLimit and rollback is automatic
  'HookFailed', // an afterStep hook failed at this step and rollback is automatic
  'RetryRequested', // a pending retry request
  'PromoteRequested', // a pending promote request: waives the current step's pause
  'TargetMissing', // some target is not found or not valid
  'StatusInconsistent', // the status asks for more than one step above what the targets hold
  'BackendNotReady', // the readiness gate refuses the weight the plan is about to write (decide.ts puts it in place of a progress event)
  'TargetDrifted', // onDrift: Hold, and a target no longer holds the weight that had landed (a rolled-back plan: 0)
  'SpecFixedUnstarted', // Failed, the spec is valid again, no traffic had moved
  'SpecFixedStarted', // Failed, the spec is valid again, traffic had moved
  'PausedBySpec', // spec.paused is true
  'Resumed', // spec.paused is false again while the phase is Paused
  'ChecksFailing', // a critical check is at its failureLimit and rollback is not automatic
  'ChecksHolding', // the latest round held (warning, critical below its limit, NoData/Error)
  'HookFailing', // a beforeStep hook failed (the step is not written), or an afterStep one with automatic rollback off
  'HookPending', // a beforeStep or afterStep hook of this step has not passed yet
  'OutsideWindow', // a schedule exists and now is outside every window
  'TargetsReady', // Pending: every target is there and valid
  'WeightLanding', // the step's weight is not yet on every target
  'RoundPending', // no passing round at this step's weight yet
  'PauseRunning', // the step's duration pause is not over
  'PromotionAwaited', // the step is a promotion gate and nobody promoted it
  'StepComplete', // Canary: the step is done and another follows
  'PreviewComplete', // BlueGreen: the preview at 0 is done, switch to 100
  'BakeStarting', // Canary: the last step is done, the bake begins
  'Baking', // at 100, bakeTime not over (or no passing round since)
  'BakeComplete', // at 100, baked with passing checks
  'RollbackInFlight', // RollingBack, some target does not hold 0 yet
  'RollbackLanded', // RollingBack, every target holds 0
  'ValidationPassed', // RolledBack: the rollback validation's every round passed against stable
  'ValidationFailed', // RolledBack: stable breached a check during the rollback validation
  'ValidationNoData', // RolledBack: the validation's window closed without every check measured
  'ValidationCancelled', // RolledBack: the spec no longer asks for the validation under way
  'ValidationRunning', // RolledBack: the rollback validation goes on
  'Settled', // a final phase with nothing to do
] as const;
export type EngineEvent = (typeof ENGINE_EVENTS)[number];

export interface Occurrence {
  on: EngineEvent;
  /** The condition reason for this situation (e.g. TargetNotFound, OutsideChangeWindow). */
  reason: string;
  message: string;
  /** When the trigger happened, for rollbacks (epoch ms). */
  at?: number;
  /** The request this event consumes. */
  request?: { kind: RequestKind; value: string };
}

export function pendingRequest(obs: Pick<Observations, 'requests'>, status: MigrationPlanStatus, kind: RequestKind): { value: string; requestedAt?: number } | undefined {
  const request = obs.requests[kind];
  if (request === undefined || isHandled(request.value, status.handledRequests?.[kind])) return undefined;
  return request;
}

export function deriveEvent(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, obs: Observations): Occurrence {
  const phase: Phase = status.phase ?? 'Pending';
  if (obs.deleting) return { on: 'Deleted', reason: 'PlanDeleted', message: 'plan deleted' };
  const rollback = pendingRequest(obs, status, 'rollback');
  const rollbackEvent = (r: { value: string; requestedAt?: number }): Occurrence => ({
    on: 'RollbackRequested',
    reason: 'RollbackRequested',
    message: r.value,
    at: r.requestedAt ?? obs.now,
    request: { kind: 'rollback', value: r.value },
  });
  if (obs.specError || spec === undefined) {
    // A broken spec must not stand between an incident and its rollback: when the controller
    // could still read the targets (they parse even if, say, the steps do not), a rollback
    // request is honoured and a rollback under way completes. Nothing else moves.
    const targetsKnown = obs.targets.length > 0;
    if (targetsKnown && rollback && ROLLBACKABLE_PHASES.includes(phase)) return rollbackEvent(rollback);
    if (targetsKnown && phase === 'RollingBack') return rollingBackEvent(status, obs);
    const e = obs.specError ?? { path: 'spec', message: 'missing' };
    return { on: 'SpecInvalid', reason: 'InvalidSpec', message: `${e.path}: ${e.message}` };
  }
  if (rollback) return rollbackEvent(rollback);
  const lastRound = status.lastRound;
  if (isActive(phase) && lastRound?.verdict === 'Fail' && spec.rollback.automatic) {
    return { on: 'ChecksFailed', reason: 'CheckFailed', message: lastRound.message ?? 'a critical check failed', at: toMs(lastRound.at) ?? obs.now };
  }
  if (isActive(phase) && spec.rollback.automatic) {
    const after = stepHooksResult(spec, status, 'afterStep');
    if (status.stepStartedAt !== undefined && after.failed) {
      return { on: 'HookFailed', reason: 'HookFailed', message: `hook ${after.failed.name} failed at ${stepLabel(spec, status)}: ${after.failed.message ?? 'no 2xx answer'}`, at: toMs(after.failed.at) ?? obs.now };
    }
  }
  const retry = pendingRequest(obs, status, 'retry');
  if (retry) return { on: 'RetryRequested', reason: 'RetryRequested', message: retry.value, request: { kind: 'retry', value: retry.value } };
  const promote = pendingRequest(obs, status, 'promote');
  if (promote) return { on: 'PromoteRequested', reason: 'Promoted', message: promote.value, request: { kind: 'promote', value: promote.value } };
  // A rollback validation's result is a record, never a write: it does not wait for a person to
  // bring back a target or set a drifted one back.
  const concluded = phase === 'RolledBack' ? validationConclusion(spec, status) : undefined;
  if (concluded) return { on: VALIDATION_EVENT[concluded.result], reason: 'RolledBack', message: concluded.message };
  const broken = obs.targets.findIndex((t) => !t.ok);
  const brokenTarget = obs.targets[broken];
  if (brokenTarget && !brokenTarget.ok) {
    return { on: 'TargetMissing', reason: brokenTarget.reason, message: `targets[${broken}]: ${brokenTarget.message}` };
  }
  switch (phase) {
    case 'Failed': {
      const started = status.currentStep !== undefined && (status.canaryWeight ?? 0) > 0;
      return started
        ? { on: 'SpecFixedStarted', reason: 'SpecValid', message: `the spec is valid again: continuing at ${stepLabel(spec, status)}` }
        : { on: 'SpecFixedUnstarted', reason: 'SpecValid', message: 'the spec is valid again: starting over' };
    }
    case 'Pending':
      if (spec.paused) return { on: 'PausedBySpec', reason: 'Paused', message: 'paused before the start' };
      if (!inChangeWindow(spec.schedule, obs.now)) return outsideWindow();
      return { on: 'TargetsReady', reason: 'Started', message: 'every target is ready' };
    case 'RollingBack':
      return rollingBackEvent(status, obs);
    case 'RolledBack': {
      const drift = driftOccurrence(spec, status, obs);
      if (drift) return drift;
      const validation = runningValidation(status);
      if (validation) {
        return {
          on: 'ValidationRunning',
          reason: 'RolledBack',
          message: `rolled back: ${status.rollback?.reason ?? ''}; validating stable (${validation.passedRounds}/${validation.rounds} rounds passed)`,
        };
      }
      const validated = status.rollback?.validation;
      const after = validated === undefined ? '' : `; rollback validation ${validated.result}: ${validated.message ?? ''}`;
      return { on: 'Settled', reason: phase, message: `rolled back: ${status.rollback?.reason ?? ''}${after}` };
    }
    case 'Succeeded':
      return { on: 'Settled', reason: phase, message: phase === 'Succeeded' ? 'all traffic is on the canary' : `rolled back: ${status.rollback?.reason ?? ''}` };
    default:
      return activeEvent(spec, status, obs);
  }
}

const VALIDATION_EVENT = {
  Passed: 'ValidationPassed',
  Failed: 'ValidationFailed',
  NoData: 'ValidationNoData',
  Cancelled: 'ValidationCancelled',
} as const satisfies Record<string, EngineEvent>;

/** The round held only because checks returned no data (under `noData: hold`): nothing breached. */
function onlyNoDataHolds(spec: MigrationPlanSpec, status: MigrationPlanStatus): boolean {
  if (spec.analysis?.noData !== 'hold') return false;
  const gating = new Set((spec.analysis?.checks ?? []).filter((c) => c.severity !== 'info').map((c) => c.name));
  const results = (status.checks ?? []).filter((c) => gating.has(c.name)).map((c) => c.result);
  return results.includes('NoData') && results.every((r) => r === 'Pass' || r === 'NoData');
}

/** Why the status cannot be where the targets are, when it asks for more than one step above
 * them: edited by hand, or overtaken by a person who lowered a route. */
function inconsistency(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): string | undefined {
  if (!obs.targets.some((t) => t.ok)) return undefined;
  const wanted = desiredWeight(spec, status);
  const refused = refusedUpwardMove(spec, status, obs.targets, wanted);
  if (refused === undefined) return undefined;
  const held = [...new Set(obs.targets.flatMap((t) => (t.ok ? [t.weight] : [])))].join('/');
  const why = refused === 'pastNextStep' ? 'more than one step above them' : 'and its history records no decision to go there';
  return `the status is at ${stepLabel(spec, status)} but the targets hold canary ${held}%, ${why}: trafficshift will not write ${wanted}%; roll back and retry to start again, or set the targets back by hand`;
}

/**
 * The targets that no longer hold the weight the plan had put on them: in an active phase once
 * the step's weight had landed (stepStartedAt is set), in RolledBack canary 0. Empty before a
 * step lands and in every other phase: a weight not yet written is not drift.
 */
export function driftedTargets(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): Array<{ index: number; weight: number }> {
  const phase = status.phase ?? 'Pending';
  const landed = phase === 'RolledBack' || (isActive(phase) && toMs(status.stepStartedAt) !== undefined);
  if (!landed) return [];
  const wanted = desiredWeight(spec, status);
  return obs.targets.flatMap((t, index) => (t.ok && t.weight !== wanted ? [{ index, weight: t.weight }] : []));
}

/** onDrift: Hold and some target drifted: the event that holds the plan without a write. */
function driftOccurrence(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): Occurrence | undefined {
  if (spec.onDrift !== 'Hold') return undefined;
  const drifted = driftedTargets(spec, status, obs);
  if (drifted.length === 0) return undefined;
  const held = drifted.map((d) => `targets[${d.index}] holds canary ${d.weight}%`).join(', ');
  const message =
    status.phase === 'RolledBack'
      ? `${held} after the rollback to stable; onDrift is Hold, so trafficshift leaves it (retry to start again, or set it back to 0)`
      : `${held}, not ${stepLabel(spec, status)}; onDrift is Hold, so trafficshift leaves it and holds until every target holds ${desiredWeight(spec, status)}% again`;
  return { on: 'TargetDrifted', reason: 'TargetDrifted', message };
}

function rollingBackEvent(status: MigrationPlanStatus, obs: Observations): Occurrence {
  const landed = obs.targets.every((t) => t.ok && t.weight === 0);
  return landed
    ? { on: 'RollbackLanded', reason: 'RolledBack', message: 'every target holds canary 0' }
    : { on: 'RollbackInFlight', reason: 'RollingBack', message: `rolling back: ${status.rollback?.reason ?? ''}` };
}

function outsideWindow(): Occurrence {
  return { on: 'OutsideWindow', reason: 'OutsideChangeWindow', message: 'outside every change window: steps wait for the next one' };
}

/** Progressing, Holding, WaitingForPromotion, Paused. */
function activeEvent(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): Occurrence {
  const phase = status.phase ?? 'Pending';
  const lastRound = status.lastRound;
  // Before anything that could write or advance: under onDrift: Hold the plan waits for the
  // targets to hold its weight again, whoever puts it back.
  const drift = driftOccurrence(spec, status, obs);
  if (drift) return drift;
  const inconsistent = inconsistency(spec, status, obs);
  if (inconsistent) return { on: 'StatusInconsistent', reason: 'StatusInconsistent', message: inconsistent };
  if (spec.paused) return { on: 'PausedBySpec', reason: 'Paused', message: `paused at ${stepLabel(spec, status)}` };
  if (phase === 'Paused') return { on: 'Resumed', reason: 'Resumed', message: `resumed at ${stepLabel(spec, status)}` };
  if (lastRound?.verdict === 'Fail') {
    return { on: 'ChecksFailing', reason: 'CheckFailing', message: `${lastRound.message ?? 'a critical check failed'} (automatic rollback is off)` };
  }
  const label = stepLabel(spec, status);
  const stepStartedAt = toMs(status.stepStartedAt);
  if (stepStartedAt !== undefined) {
    const after = stepHooksResult(spec, status, 'afterStep');
    if (after.failed) {
      return { on: 'HookFailing', reason: 'HookFailed', message: `hook ${after.failed.name} failed at ${label}: ${after.failed.message ?? 'no 2xx answer'} (automatic rollback is off; it is called again every analysis interval)` };
    }
  }
  const roundAt = toMs(lastRound?.at);
  // A round measures traffic over the last interval, so only one taken a whole interval after
  // the weight landed speaks for this weight. Before that, no data is no news.
  const settledAt = stepStartedAt === undefined ? undefined : stepStartedAt + analysisIntervalMs(spec);
  const settled = roundAt !== undefined && settledAt !== undefined && roundAt >= settledAt;
  if (lastRound?.verdict === 'Hold') {
    if (!settled && onlyNoDataHolds(spec, status)) {
      return { on: 'RoundPending', reason: 'WaitingForAnalysis', message: `${label}: waiting for data at the new weight (${lastRound.message ?? 'no data yet'})` };
    }
    return { on: 'ChecksHolding', reason: 'AnalysisHold', message: lastRound.message ?? 'a check holds the plan' };
  }
  if (!inChangeWindow(spec.schedule, obs.now)) return outsideWindow();

  if (stepStartedAt === undefined && !beforeStepCleared(spec, status)) {
    const before = stepHooksResult(spec, status, 'beforeStep');
    if (before.failed) {
      return { on: 'HookFailing', reason: 'HookFailed', message: `hook ${before.failed.name} failed before ${label}: ${before.failed.message ?? 'no 2xx answer'}; the weight is not written, the hook is called again every analysis interval` };
    }
    return { on: 'HookPending', reason: 'WaitingForHook', message: `${label}: waiting for its beforeStep hooks before writing the weight` };
  }
  if (stepStartedAt === undefined) return { on: 'WeightLanding', reason: 'WaitingForWeight', message: `${label}: waiting for every target to hold it` };
  if (stepHooksResult(spec, status, 'afterStep').result === 'Pending') {
    return { on: 'HookPending', reason: 'WaitingForHook', message: `${label}: waiting for its afterStep hooks` };
  }
  const roundPassed = !hasChecks(spec) || (lastRound?.verdict === 'Pass' && settled);
  if (!roundPassed) {
    return { on: 'RoundPending', reason: 'WaitingForAnalysis', message: `${label}: waiting for a passing analysis round a full interval after the weight landed` };
  }

  const bakeStartedAt = toMs(status.bakeStartedAt);
  const baking = spec.strategy === 'BlueGreen' ? blueGreenSwitched(status) : bakeStartedAt !== undefined;
  if (baking && bakeStartedAt !== undefined) {
    const bakeEnds = bakeStartedAt + bakeTimeMs(spec);
    // With a bake time the checks must pass after the bake began; with none, one pass at 100 is the bake.
    const passedSinceBake = !hasChecks(spec) || bakeTimeMs(spec) === 0 || (roundAt !== undefined && roundAt >= bakeStartedAt);
    return obs.now >= bakeEnds && passedSinceBake
      ? { on: 'BakeComplete', reason: 'Succeeded', message: 'baked at canary 100% with passing checks' }
      : { on: 'Baking', reason: 'Baking', message: `baking at canary 100% until ${new Date(bakeEnds).toISOString()}` };
  }

  const index = stepIndex(spec, status);
  const pause = pauseOf(currentStep(spec, status));
  const promoted = status.promotedStep === index;
  if (pause.kind === 'gate' && !promoted) {
    return { on: 'PromotionAwaited', reason: 'WaitingForPromotion', message: `${label}: waiting for promote` };
  }
  if (pause.kind === 'duration' && !promoted && obs.now < stepStartedAt + pause.ms) {
    return { on: 'PauseRunning', reason: 'StepPause', message: `${label}: pausing until ${new Date(stepStartedAt + pause.ms).toISOString()}` };
  }
  if (spec.strategy === 'BlueGreen') return { on: 'PreviewComplete', reason: 'Switched', message: 'preview passed: switching to canary 100%' };
  if (isLastStep(spec, status)) return { on: 'BakeStarting', reason: 'Baking', message: 'last step complete: baking at canary 100%' };
  return { on: 'StepComplete', reason: 'StepAdvanced', message: `${label} complete` };
}
