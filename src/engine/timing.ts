// When the controller should run analysis, and when it should call the engine again. The
// engine never sleeps and never reads a clock; it names the next moment something is due.
import type { MigrationPlanSpec, MigrationPlanStatus } from '../plan/schema';
import { nextProgressAt } from './notifications';
import { inChangeWindow, nextMinuteBoundary } from './schedule';
import { analysisIntervalMs, bakeTimeMs, currentStep, hasChecks, isActive, pauseOf, stepIndex, toMs } from './steps';
import type { Observations, RoundSide } from './types';
import { beforeStepCleared, hooksDue, nextHookAt } from './hooks';
import { nextValidationRoundAt, runningValidation, validationDue } from './validation';

/** A write was sent but not yet observed on every target: look again this soon. */
export const WRITE_RECHECK_MS = 2_000;
/** A target is missing or invalid: look again this soon even if no watch event arrives. */
export const TARGET_RECHECK_MS = 10_000;

/**
 * When the next check round is due: at once for a plan's first round; a whole interval after the
 * current weight landed when the last round ran before that (a round must measure traffic at
 * this weight, so a step's rounds start over when it lands); else an interval after the last.
 */
export function nextRoundAt(spec: MigrationPlanSpec, status: MigrationPlanStatus, now: number): number {
  const last = toMs(status.lastRound?.at);
  if (last === undefined) return now;
  const interval = analysisIntervalMs(spec);
  const landed = toMs(status.stepStartedAt);
  return landed !== undefined && last < landed ? landed + interval : last + interval;
}

/**
 * True when the controller should run every check now: the plan holds a step's weight on every
 * target (stepStartedAt is set) in an active phase (Paused included, so an automatic rollback
 * still fires while paused), and the next round is due. A plan without checks never needs one.
 */
export function analysisDue(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined, now: number): boolean {
  if (!isActive(status?.phase ?? 'Pending') || !hasChecks(spec)) return false;
  if (status?.stepStartedAt === undefined) return false;
  return now >= nextRoundAt(spec, status, now);
}

/** Which round the controller should run now, if any: the canary's analysis while the plan is
 * active, the stable side's during a rollback validation. */
export function roundDue(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined, now: number): RoundSide | undefined {
  if (analysisDue(spec, status, now)) return 'canary';
  if (validationDue(spec, status, now)) return 'stable';
  return undefined;
}

/** The earliest moment something becomes due, never before now; undefined in final phases
 * (RolledBack while its validation runs has the validation's next round). */
export function nextEvaluationAt(
  spec: MigrationPlanSpec | undefined,
  status: MigrationPlanStatus,
  obs: Observations,
  somethingElsePending: boolean,
): number | undefined {
  const phase = status.phase ?? 'Pending';
  const now = obs.now;
  const hookAt = spec !== undefined && !obs.deleting ? nextHookAt(spec, status, now) : undefined;
  if (phase === 'RolledBack' && spec !== undefined && !obs.deleting && runningValidation(status) !== undefined) {
    const validationAt = nextValidationRoundAt(spec, status);
    // No next round: the last one is in, and the validation concludes as soon as a request
    // handled in this call (which took the event) is out of the way.
    const at = somethingElsePending || validationAt === undefined ? now : Math.max(now, validationAt);
    return hookAt === undefined ? at : Math.min(at, hookAt);
  }
  // afterRollback and afterSuccess hooks, and a running validation (above), are all a final phase waits for.
  if (phase === 'Succeeded' || phase === 'RolledBack' || phase === 'Failed') return hookAt;
  const due: number[] = [];
  if (hookAt !== undefined) due.push(hookAt);
  if (somethingElsePending) due.push(now);
  if (obs.targets.some((t) => !t.ok)) due.push(now + TARGET_RECHECK_MS);
  if (phase === 'RollingBack') {
    due.push(rolledBackDue(spec, status, obs) ? now : now + WRITE_RECHECK_MS);
  }
  if (spec !== undefined && isActive(phase)) {
    const stepStartedAt = toMs(status.stepStartedAt);
    // A step held by its beforeStep hooks writes nothing to look at: the hook's own time counts.
    if (stepStartedAt === undefined) {
      if (beforeStepCleared(spec, status)) due.push(now + WRITE_RECHECK_MS);
    }
    else {
      if (hasChecks(spec)) due.push(nextRoundAt(spec, status, now));
      const pause = pauseOf(currentStep(spec, status));
      if (pause.kind === 'duration' && status.promotedStep !== stepIndex(spec, status)) due.push(stepStartedAt + pause.ms);
      const bakeStartedAt = toMs(status.bakeStartedAt);
      if (bakeStartedAt !== undefined) due.push(bakeStartedAt + bakeTimeMs(spec));
    }
  }
  const progress = nextProgressAt(spec, status);
  if (progress !== undefined) due.push(progress);
  if (spec !== undefined && (phase === 'Pending' || isActive(phase)) && !inChangeWindow(spec.schedule, now)) {
    due.push(nextMinuteBoundary(now));
  }
  const future = due.filter((t) => t > now);
  if (due.some((t) => t <= now)) {
    // Something is due already; but a pause or bake that ended long ago is no reason to spin:
    // it is only "due now" if the engine did not act on it in this very call.
    return somethingElsePending || isDueNow(spec, status, obs) ? now : future.length > 0 ? Math.min(...future) : undefined;
  }
  return future.length > 0 ? Math.min(...future) : undefined;
}

/** Due-now causes that the engine cannot act on without another call. A pause or bake that ended
 * before now but did not move the plan waits for something else, which has its own time. */
function isDueNow(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, obs: Observations): boolean {
  return rolledBackDue(spec, status, obs) || (spec !== undefined && (analysisDue(spec, status, obs.now) || (!obs.deleting && hooksDue(spec, status, obs.now).length > 0)));
}

/** Every target already holds 0: RolledBack is due now, and recoverySeconds should say so. Not
 * while deleting or with a broken spec: those keep the phase, so asking again would spin. */
function rolledBackDue(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, obs: Observations): boolean {
  return spec !== undefined && status.phase === 'RollingBack' && !obs.deleting && obs.targets.every((t) => t.ok && t.weight === 0);
}
