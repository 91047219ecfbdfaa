// The transition table: one row per (phase, event). To learn what happens when, say, a critical
// check fails at step 2 of a running plan, find the row with the plan's phase and the event
// `ChecksFailed` (automatic rollback) or `ChecksFailing` (automatic rollback off). The step number
// never changes the row; the effects read it from the status.
//
// A row lists the phases it applies to; no (phase, event) pair appears in two rows (a test checks
// it). A pair without a row changes nothing. Which event a reconcile is about is decided in
// events.ts; what each effect does is in effects.ts. The weight the targets are then asked to
// hold follows from the resulting status (steps.ts desiredWeight): a rollback phase always means
// canary 0, and nothing but a retry leaves a rollback phase.
import { PHASES, type NotificationEvent, type Phase } from '../plan/schema';
import { ACTIVE_PHASES, ROLLBACKABLE_PHASES, RUNNING_PHASES } from './steps';
import type { EngineEvent } from './events';

export type Effect =
  | 'start' // currentStep 0, forget the previous rollback; Canary writes steps[0], BlueGreen previews at 0
  | 'advance' // currentStep + 1; the new step starts when its weight lands
  | 'switch' // BlueGreen: bakeStartedAt = now, which makes the desired weight 100
  | 'startBake' // Canary at its last step: bakeStartedAt = now
  | 'beginRollback' // status.rollback = {reason, triggeredAt}; every target goes to 0
  | 'completeRollback' // completedAt, recoverySeconds, an Event if the RTO was missed; starts rollback.validation
  | 'concludeValidation' // rollback.validation gets its result (the event's) and completedAt
  | 'consumeRequest' // handledRequests[kind] = value, so the annotation does not fire again
  | 'promote' // promotedStep = currentStep: the step's pause (a gate or a duration) is waived
  | 'resetForRetry'; // back to step 0 with no rounds, bake or promotion; history and rollback stay

export interface Announcement {
  /** Event reason and history entry name. */
  name: string;
  type: 'Normal' | 'Warning';
  notify?: NotificationEvent;
}

export interface Transition {
  from: readonly Phase[];
  on: EngineEvent;
  to: Phase | 'same';
  effects?: readonly Effect[];
  /** Emitted (Event, history, notification) when the row changes the phase or has effects. */
  announce?: Announcement;
  /** Condition reason to show after the row, when not the event's own. */
  reason?: string;
  /** Also announce when neither the phase changes nor an effect runs, if the situation (reason
   * and message) differs from the one the previous status reports: once per episode, never
   * once per reconcile. */
  announceNewSituation?: true;
  /** With announceNewSituation: a new situation is a new reason only, not a new message (the
   * message carries counts that change while the same episode goes on). */
  announceNewReasonOnly?: true;
  /** Another event may be due at once (a second request, the first step after a retry): ask to be called again now. */
  again?: true;
}

const ALL = PHASES;
/** Phases that hold a step's weight and can advance on their own. */
const RUNNING = RUNNING_PHASES;
/** Running, or paused by spec.paused: analysis still runs, so an automatic rollback still fires. */
const ACTIVE = ACTIVE_PHASES;
const ROLLBACKABLE = ROLLBACKABLE_PHASES;

const ROLLING_BACK: Announcement = { name: 'RollingBack', type: 'Warning', notify: 'RollingBack' };
const HOLDING: Announcement = { name: 'Holding', type: 'Warning', notify: 'Holding' };
const PROGRESSING_AGAIN: Announcement = { name: 'Progressing', type: 'Normal' };

export const TRANSITIONS: readonly Transition[] = [
  // ---- deletion: the finalizer restores stable unless the plan Succeeded ----
  { from: ROLLBACKABLE, on: 'Deleted', to: 'RollingBack', effects: ['beginRollback'], announce: ROLLING_BACK },
  { from: ['RollingBack', 'RolledBack'], on: 'Deleted', to: 'same' },
  { from: ['Succeeded'], on: 'Deleted', to: 'same', reason: 'Succeeded' },

  // ---- an invalid spec never moves traffic; a rollback in progress stays one ----
  { from: ['Pending', ...ACTIVE, 'Failed'], on: 'SpecInvalid', to: 'Failed', announce: { name: 'Failed', type: 'Warning', notify: 'Failed' } },
  { from: ['RollingBack', 'RolledBack'], on: 'SpecInvalid', to: 'same' },
  { from: ['Succeeded'], on: 'SpecInvalid', to: 'same', reason: 'Succeeded' },
  { from: ['Failed'], on: 'SpecFixedUnstarted', to: 'Pending', announce: { name: 'SpecValid', type: 'Normal' }, again: true },
  { from: ['Failed'], on: 'SpecFixedStarted', to: 'Progressing', announce: { name: 'SpecValid', type: 'Normal' }, again: true },

  // ---- rollback by request: works while paused, before the start and after a failure ----
  { from: ROLLBACKABLE, on: 'RollbackRequested', to: 'RollingBack', effects: ['consumeRequest', 'beginRollback'], announce: ROLLING_BACK },
  { from: ['RollingBack', 'RolledBack'], on: 'RollbackRequested', to: 'same', effects: ['consumeRequest'], announce: { name: 'RollbackIgnored', type: 'Normal' }, again: true },
  { from: ['Succeeded'], on: 'RollbackRequested', to: 'same', effects: ['consumeRequest'], announce: { name: 'RollbackIgnored', type: 'Normal' }, reason: 'Succeeded' },

  // ---- automatic rollback: a critical check reached its failureLimit (also while paused) ----
  { from: ACTIVE, on: 'ChecksFailed', to: 'RollingBack', effects: ['beginRollback'], announce: ROLLING_BACK },
  { from: ACTIVE, on: 'HookFailed', to: 'RollingBack', effects: ['beginRollback'], announce: ROLLING_BACK },

  // ---- retry: the only way out of a rollback ----
  { from: ['RolledBack', 'Failed'], on: 'RetryRequested', to: 'Pending', effects: ['consumeRequest', 'resetForRetry'], announce: { name: 'Retrying', type: 'Normal', notify: 'Retrying' }, again: true },
  { from: ['Pending', ...ACTIVE, 'RollingBack', 'Succeeded'], on: 'RetryRequested', to: 'same', effects: ['consumeRequest'], announce: { name: 'RetryIgnored', type: 'Normal' }, again: true },

  // ---- promote: waives the current step's pause; never a hold, spec.paused or a check ----
  { from: ACTIVE, on: 'PromoteRequested', to: 'same', effects: ['consumeRequest', 'promote'], announce: { name: 'Promoted', type: 'Normal' }, again: true },
  { from: ['Pending', 'RollingBack', 'RolledBack', 'Succeeded', 'Failed'], on: 'PromoteRequested', to: 'same', effects: ['consumeRequest'], announce: { name: 'PromoteIgnored', type: 'Normal' }, again: true },

  // ---- a target is missing or invalid: nothing moves (a rollback still writes 0 to the others) ----
  { from: ['Pending', 'Paused', 'Failed', 'RollingBack', 'RolledBack', 'Succeeded'], on: 'TargetMissing', to: 'same' },
  { from: RUNNING, on: 'TargetMissing', to: 'Holding', announce: { name: 'TargetUnavailable', type: 'Warning', notify: 'Holding' } },

  // ---- a status that asks for more than the next step above the targets (edited by hand, or
  //      overtaken by a person who lowered a route): nothing moves up until a person acts ----
  { from: ACTIVE, on: 'StatusInconsistent', to: 'Holding', announce: { name: 'StatusInconsistent', type: 'Warning', notify: 'Holding' } },

  // ---- onDrift: Hold: a target no longer holds the weight the plan put there (someone else
  //      changed it). Nothing writes over it; an active plan holds until every target holds the
  //      step weight again. A rollback, requested or automatic, still writes 0 (rows above). ----
  { from: ACTIVE, on: 'TargetDrifted', to: 'Holding', announce: { name: 'DriftDetected', type: 'Warning', notify: 'Holding' }, announceNewSituation: true },
  { from: ['RolledBack'], on: 'TargetDrifted', to: 'same', announce: { name: 'DriftDetected', type: 'Warning' }, announceNewSituation: true },

  // ---- the readiness gate refuses the weight about to be written (a canary backend has too few
  //      ready endpoints): nothing is written, the plan holds until the backend is ready, then
  //      goes on at once. From Pending the plan starts (Started records the decision to go to
  //      step 1, and stableReadyAtStart) and holds at canary 0; the call made again at once
  //      announces BackendNotReady. Rollbacks never meet the gate. ----
  { from: ['Pending'], on: 'BackendNotReady', to: 'Holding', effects: ['start'], announce: { name: 'Started', type: 'Normal', notify: 'Started' }, reason: 'Started', again: true },
  { from: RUNNING, on: 'BackendNotReady', to: 'Holding', announce: { name: 'BackendNotReady', type: 'Warning', notify: 'Holding' }, announceNewSituation: true, announceNewReasonOnly: true },

  // ---- Pending ----
  { from: ['Pending'], on: 'PausedBySpec', to: 'same' },
  { from: ['Pending'], on: 'OutsideWindow', to: 'same' },
  { from: ['Pending'], on: 'TargetsReady', to: 'Progressing', effects: ['start'], announce: { name: 'Started', type: 'Normal', notify: 'Started' } },

  // ---- pause and resume ----
  { from: RUNNING, on: 'PausedBySpec', to: 'Paused', announce: { name: 'Paused', type: 'Normal', notify: 'Paused' } },
  { from: ['Paused'], on: 'PausedBySpec', to: 'same' },
  { from: ['Paused'], on: 'Resumed', to: 'Progressing', announce: { name: 'Resumed', type: 'Normal', notify: 'Resumed' }, again: true },

  // ---- holds: the weight stays, analysis goes on ----
  { from: RUNNING, on: 'ChecksFailing', to: 'Holding', announce: { name: 'CheckFailing', type: 'Warning', notify: 'Holding' } },
  { from: RUNNING, on: 'ChecksHolding', to: 'Holding', announce: HOLDING },
  { from: RUNNING, on: 'HookFailing', to: 'Holding', announce: { name: 'HookHolding', type: 'Warning', notify: 'Holding' } },
  { from: RUNNING, on: 'OutsideWindow', to: 'Holding', announce: { name: 'OutsideChangeWindow', type: 'Normal', notify: 'Holding' } },

  // ---- a step in progress: waiting for its weight, a round, its pause or a person ----
  { from: RUNNING, on: 'WeightLanding', to: 'Progressing', announce: PROGRESSING_AGAIN },
  { from: RUNNING, on: 'RoundPending', to: 'Progressing', announce: PROGRESSING_AGAIN },
  { from: RUNNING, on: 'HookPending', to: 'Progressing', announce: PROGRESSING_AGAIN },
  { from: RUNNING, on: 'PauseRunning', to: 'Progressing', announce: PROGRESSING_AGAIN },
  { from: RUNNING, on: 'PromotionAwaited', to: 'WaitingForPromotion', announce: { name: 'WaitingForPromotion', type: 'Normal', notify: 'WaitingForPromotion' } },

  // ---- a step completes ----
  { from: RUNNING, on: 'StepComplete', to: 'Progressing', effects: ['advance'], announce: { name: 'StepAdvanced', type: 'Normal', notify: 'StepAdvanced' } },
  { from: RUNNING, on: 'PreviewComplete', to: 'Progressing', effects: ['switch'], announce: { name: 'Switched', type: 'Normal', notify: 'StepAdvanced' } },
  { from: RUNNING, on: 'BakeStarting', to: 'Progressing', effects: ['startBake'], announce: { name: 'BakeStarted', type: 'Normal' }, again: true },
  { from: RUNNING, on: 'Baking', to: 'Progressing', announce: PROGRESSING_AGAIN },
  { from: RUNNING, on: 'BakeComplete', to: 'Succeeded', announce: { name: 'Succeeded', type: 'Normal', notify: 'Succeeded' } },

  // ---- rolling back ----
  { from: ['RollingBack'], on: 'RollbackInFlight', to: 'same' },
  { from: ['RollingBack'], on: 'RollbackLanded', to: 'RolledBack', effects: ['completeRollback'], announce: { name: 'RolledBack', type: 'Warning', notify: 'RolledBack' } },
  { from: ['RolledBack', 'Succeeded'], on: 'Settled', to: 'same' },

  // ---- rollback validation: the checks against stable after RolledBack; never a phase, never a write ----
  { from: ['RolledBack'], on: 'ValidationRunning', to: 'same' },
  { from: ['RolledBack'], on: 'ValidationPassed', to: 'same', effects: ['concludeValidation'], announce: { name: 'RollbackValidated', type: 'Normal', notify: 'RollbackValidated' } },
  { from: ['RolledBack'], on: 'ValidationFailed', to: 'same', effects: ['concludeValidation'], announce: { name: 'RollbackValidationFailed', type: 'Warning', notify: 'RollbackValidationFailed' } },
  { from: ['RolledBack'], on: 'ValidationNoData', to: 'same', effects: ['concludeValidation'], announce: { name: 'RollbackValidationNoData', type: 'Warning', notify: 'RollbackValidationFailed' } },
  { from: ['RolledBack'], on: 'ValidationCancelled', to: 'same', effects: ['concludeValidation'] },
];

const STAY: Transition = { from: ALL, on: 'Settled', to: 'same' };

const byPair = new Map<string, Transition>();
for (const row of TRANSITIONS) {
  for (const phase of row.from) byPair.set(`${phase}/${row.on}`, row);
}

/** The row for (phase, event); a pair without a row changes nothing. */
export function transitionFor(phase: Phase, on: EngineEvent): Transition {
  return byPair.get(`${phase}/${on}`) ?? STAY;
}

/** Every (phase, event) pair that appears in more than one row; empty when the table is sound. */
export function duplicatePairs(rows: readonly Transition[] = TRANSITIONS): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const row of rows) {
    for (const phase of row.from) {
      const key = `${phase}/${row.on}`;
      if (seen.has(key)) dups.push(key);
      seen.add(key);
    }
  }
  return dups;
}
