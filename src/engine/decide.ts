// The reconcile driver: record what was observed (the weights, a landed step, an analysis round),
// derive the one event this reconcile is about, apply its row of the transition table, then turn
// the resulting status into writes, Events, conditions and history.
import type { HistoryEntry, MigrationPlanSpec, MigrationPlanStatus, Phase } from '../plan/schema';
import { boundAction, boundStatus, boundText } from './bounds';
import { applyEffect, MOVING_EFFECTS } from './effects';
import { gateVerdict, raisesSomeTarget } from './readiness';
import { deriveEvent, driftedTargets, type Occurrence } from './events';
import { snapshotOf, trackProgress } from './notifications';
import { appendHistory, conditionsFor, mergeConditions } from './record';
import { evaluateRound } from './round';
import { beforeStepCleared, hookResultText, recordHookResults } from './hooks';
import { desiredWeight, hasChecks, isActive, isRollingBack, refusedUpwardMove, stepIndex, stepLabel, toIso, toMs } from './steps';
import { nextEvaluationAt } from './timing';
import { recordValidationRound } from './validation';
import { transitionFor, type Announcement, type Transition } from './transitions';
import type { EngineEvent } from './events';
import type { Action, Decision, Observations } from './types';

export function decide(spec: MigrationPlanSpec | undefined, previous: MigrationPlanStatus | undefined, obs: Observations): Decision {
  const validSpec = obs.specError === undefined ? spec : undefined;
  const before: Phase = previous?.phase ?? 'Pending';
  const status: MigrationPlanStatus = structuredClone(previous ?? {});
  status.phase = before;
  status.observedGeneration = obs.generation;
  const observed = agreedWeight(obs);
  if (observed !== undefined) status.canaryWeight = observed;
  const actions: Action[] = [];
  // Straight into the history: what is noted here is read by the rules below (steps.ts refusedUpwardMove).
  const note = (event: string, message: string, weight = status.canaryWeight ?? 0): void => {
    const entry: HistoryEntry = { at: toIso(obs.now), event, weight, message };
    status.history = appendHistory(status.history, [entry]);
  };

  if (validSpec !== undefined) {
    if (previous?.observedGeneration !== undefined && previous.observedGeneration !== obs.generation) restartEditedStep(validSpec, status, obs, note);
    recordHooks(status, obs, actions, note);
    markLanded(validSpec, status, obs);
    restartAfterDrift(validSpec, previous, status, obs);
    recordRound(validSpec, status, obs);
    recordValidationRound(validSpec, status, obs);
  }

  const derived = deriveEvent(validSpec, status, obs);
  const occurrence = (validSpec !== undefined ? readinessGate(validSpec, before, status, obs, derived) : undefined) ?? derived;
  const row = transitionFor(before, occurrence.on);
  const situation = { reason: row.reason ?? occurrence.reason, message: occurrence.message };
  const after: Phase = row.to === 'same' ? before : row.to;
  status.phase = after;
  const effects = row.effects ?? [];
  for (const effect of effects) applyEffect(effect, { spec: validSpec, obs, occurrence, status, actions });
  if (validSpec !== undefined) markLanded(validSpec, status, obs);

  const announced =
    row.announce !== undefined &&
    (after !== before || effects.length > 0 || (row.announceNewSituation === true && !reportedBefore(previous, situation, row.announceNewReasonOnly === true, row.announce.name)));
  let situationMessage = occurrence.message;
  if (announced && row.announce) {
    const message = announcementMessage(row.announce, occurrence, validSpec, status, after);
    situationMessage = message;
    const moved = effects.some((e) => MOVING_EFFECTS.includes(e));
    const weight = moved && validSpec !== undefined ? desiredWeight(validSpec, status) : moved ? 0 : (status.canaryWeight ?? 0);
    note(row.announce.name, message, weight);
    actions.push({ kind: 'event', type: row.announce.type, reason: row.announce.name, message });
    if (row.announce.notify) actions.push({ kind: 'notify', event: row.announce.notify, message });
  }

  const write = plannedWrite(validSpec, status, obs, row, before);
  if (write) {
    actions.push(write.action);
    if (write.drift) {
      note('DriftRepaired', write.drift, write.action.weight);
      actions.push({ kind: 'event', type: 'Warning', reason: 'DriftRepaired', message: write.drift });
    }
  }

  if (status.history?.length === 0) delete status.history;
  status.conditions = mergeConditions(previous?.conditions, conditionsFor(after, { ...situation, message: situationMessage }, status), obs.now, obs.generation);

  trackProgress(validSpec, status, obs, actions);
  boundStatus(status);
  const next = nextEvaluationAt(validSpec, status, obs, row.again === true);
  const snapshot = actions.some((a) => a.kind === 'notify') ? snapshotOf(validSpec, status, obs) : undefined;
  const withSnapshots = actions.map((a) => (a.kind === 'notify' && snapshot !== undefined ? { ...a, snapshot } : a));
  const decision: Decision = { status, actions: withSnapshots.map(boundAction) };
  if (next !== undefined) decision.nextEvaluationAt = next;
  if (obs.deleting) {
    decision.finalizerDone = after === 'Succeeded' || obs.targets.every(carriesNoCanaryTraffic);
  }
  return decision;
}

/** A target that holds canary 0, or whose route is gone: nothing left to restore. A route that is
 * there without something it depends on (nginx without its stable Ingress) still counts. */
function carriesNoCanaryTraffic(t: Observations['targets'][number]): boolean {
  return t.ok ? t.weight === 0 : t.reason === 'TargetNotFound' && (t.weight ?? 0) === 0;
}

/** The canary weight the targets hold, when every target that could be read agrees. */
function agreedWeight(obs: Observations): number | undefined {
  const weights = new Set<number>();
  for (const t of obs.targets) if (t.ok) weights.add(t.weight);
  return weights.size === 1 ? [...weights][0] : undefined;
}

/** A spec edit that changes the current step's weight (or adds a target) starts the step again at
 * the new weight: its pause counts from when that lands, and the write is not a drift repair. */
function restartEditedStep(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations, note: (event: string, message: string, weight?: number) => void): void {
  if (!isActive(status.phase ?? 'Pending') || status.stepStartedAt === undefined) return;
  const weight = desiredWeight(spec, status);
  if (obs.targets.every((t) => t.ok && t.weight === weight)) return;
  delete status.stepStartedAt;
  // The record that makes the new weight a decision of the plan (steps.ts refusedUpwardMove).
  note('StepChanged', `the spec changed ${stepLabel(spec, status)}: starting the step again`, weight);
}

/** A step starts when its weight is observed on every target; its pause counts from then. */
function markLanded(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): void {
  if (!isActive(status.phase ?? 'Pending') || status.stepStartedAt !== undefined) return;
  // A step whose beforeStep hooks have not passed has not started, even on targets that hold its weight.
  if (!beforeStepCleared(spec, status)) return;
  const weight = desiredWeight(spec, status);
  if (obs.targets.length > 0 && obs.targets.every((t) => t.ok && t.weight === weight)) status.stepStartedAt = toIso(obs.now);
}

/** The situation (condition reason and message) the previous status reported, when it is this one. */
function reportedBefore(previous: MigrationPlanStatus | undefined, situation: { reason: string; message: string }, reasonOnly = false, name = ''): boolean {
  const before = previous?.conditions?.find((c) => c.type === 'Progressing');
  if (before !== undefined && before.reason === situation.reason && (reasonOnly || before.message === boundText(situation.message))) return true;
  // Reason only: a request handled meanwhile (a promote) changes the condition, not the episode.
  if (!reasonOnly) return false;
  const latest = [...(previous?.history ?? [])].reverse().find((h) => !REQUEST_BOOKKEEPING.has(h.event));
  return latest?.event === name;
}

/** History entries of requests that change nothing about the situation the plan is in. */
const REQUEST_BOOKKEEPING: ReadonlySet<string> = new Set(['Promoted', 'PromoteIgnored', 'RetryIgnored', 'RollbackIgnored']);

/** Events after which the plan may write its step's weight (a start, a step, a weight still
 * landing, a hold on checks): the readiness gate looks at them. Rollbacks, requests, deletion, a
 * broken spec or target, drift and pauses keep their own event. */
const GATED_EVENTS: ReadonlySet<EngineEvent> = new Set<EngineEvent>([
  'TargetsReady',
  'WeightLanding',
  'RoundPending',
  'PauseRunning',
  'PromotionAwaited',
  'StepComplete',
  'PreviewComplete',
  'BakeStarting',
  'Baking',
  'BakeComplete',
  'ChecksHolding',
]);

/**
 * The readiness gate (readiness.ts), on the weight the event's row would have the targets hold
 * (the next step's, after an advance): when that raises a target and a canary backend has too
 * few ready endpoints, the event becomes BackendNotReady, so nothing advances and nothing is
 * written. What the gate saw goes to status.readiness.canary either way.
 */
function readinessGate(spec: MigrationPlanSpec, before: Phase, status: MigrationPlanStatus, obs: Observations, occurrence: Occurrence): Occurrence | undefined {
  if (!GATED_EVENTS.has(occurrence.on)) return undefined;
  const row = transitionFor(before, occurrence.on);
  const after = row.to === 'same' ? before : row.to;
  if (!isActive(after)) return undefined;
  const trial: MigrationPlanStatus = structuredClone(status);
  trial.phase = after;
  for (const effect of row.effects ?? []) applyEffect(effect, { spec, obs, occurrence, status: trial, actions: [] });
  const weight = desiredWeight(spec, trial);
  if (!raisesSomeTarget(obs, weight)) return undefined;
  const verdict = gateVerdict(spec, trial, obs, weight);
  if (verdict === undefined) return undefined;
  status.readiness = { ...status.readiness, canary: { weight, backends: verdict.backends } };
  if (verdict.refusal === undefined) return undefined;
  return { on: 'BackendNotReady', reason: 'BackendNotReady', message: verdict.refusal };
}

/** onDrift: Hold. The previous reconcile held on a drifted target and every target holds the
 * step's weight again: the step starts again from now, so its pause and its analysis rounds
 * count traffic at the step's weight only, not what the targets carried meanwhile. */
function restartAfterDrift(spec: MigrationPlanSpec, previous: MigrationPlanStatus | undefined, status: MigrationPlanStatus, obs: Observations): void {
  if (spec.onDrift !== 'Hold' || !isActive(status.phase ?? 'Pending') || status.stepStartedAt === undefined) return;
  if (previous?.conditions?.find((c) => c.type === 'Progressing')?.reason !== 'TargetDrifted') return;
  if (obs.targets.some((t) => !t.ok) || driftedTargets(spec, status, obs).length > 0) return;
  status.stepStartedAt = toIso(obs.now);
}

/** Every hook result the controller observed: into status.hooks, an Event and the history. */
function recordHooks(status: MigrationPlanStatus, obs: Observations, actions: Action[], note: (event: string, message: string, weight?: number) => void): void {
  const results = obs.hooks ?? [];
  if (results.length === 0) return;
  // A hook that fails again on its retry says nothing new: one Event per change of its result.
  const unchanged = (r: (typeof results)[number]): boolean =>
    (status.hooks ?? []).some((h) => h.name === r.name && h.when === r.when && h.step !== undefined && h.step === r.step && h.result === r.result);
  const news = results.filter((r) => !unchanged(r));
  recordHookResults(status, results);
  for (const r of news) {
    const reason = r.result === 'Pass' ? 'HookPassed' : 'HookFailed';
    const message = hookResultText(r);
    note(reason, message);
    actions.push({ kind: 'event', type: r.result === 'Pass' ? 'Normal' : 'Warning', reason, message });
  }
}

function recordRound(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): void {
  if (obs.round === undefined || obs.round.side === 'stable' || !hasChecks(spec) || !isActive(status.phase ?? 'Pending') || spec.analysis === undefined) return;
  const evaluation = evaluateRound(spec.analysis, status.checks, obs.round);
  status.checks = evaluation.checks;
  status.lastRound = { at: toIso(obs.round.completedAt), verdict: evaluation.verdict, message: evaluation.message };
}

function announcementMessage(announce: Announcement, occurrence: Occurrence, spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, phase: Phase): string {
  const where = spec !== undefined && phase !== 'Failed' ? stepLabel(spec, status) : '';
  switch (announce.name) {
    case 'Started':
      return `started: ${where}`;
    case 'StepAdvanced':
      return `advanced to ${where}`;
    case 'Switched':
      return 'preview passed: switched to canary 100%';
    case 'RollingBack':
      return `rolling back to stable: ${status.rollback?.reason ?? occurrence.message}`;
    case 'RolledBack': {
      const unready = status.rollback?.stableReadyEndpoints === 0 ? '; WARNING: the stable backends have 0 ready endpoints' : '';
      return `traffic is back on stable after ${status.rollback?.recoverySeconds ?? 0}s: ${status.rollback?.reason ?? ''}${unready}`;
    }
    case 'RollbackIgnored':
      return phase === 'Succeeded'
        ? `rollback "${occurrence.message}" ignored: the plan Succeeded, which is final`
        : `rollback "${occurrence.message}" ignored: the plan is already ${phase}`;
    case 'Promoted':
      return `promoted ${where}: its pause is waived`;
    case 'PromoteIgnored':
      return `promote "${occurrence.message}" ignored: only a running or paused plan can be promoted (the plan is ${phase})`;
    case 'RetryIgnored':
      return `retry "${occurrence.message}" ignored: only a RolledBack or Failed plan can be retried (the plan is ${phase})`;
    case 'Retrying':
      return `retry "${occurrence.message}": starting again from step 1`;
    case 'Succeeded':
      return 'succeeded: all traffic is on the canary';
    default:
      return occurrence.message;
  }
}

/**
 * While a step waits for its beforeStep hooks, the targets should still hold the previous step's
 * weight. A target someone raised above it meanwhile is set back to it (onDrift: Repair); none is
 * ever raised, so nothing moves up before the hooks passed.
 */
function heldBackWrite(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): PlannedWrite | undefined {
  if (spec.onDrift === 'Hold' || obs.targets.some((t) => !t.ok)) return undefined;
  const index = stepIndex(spec, status);
  const previous = spec.strategy === 'Canary' && index > 0 ? (spec.steps[index - 1]?.weight ?? 0) : 0;
  const targets = obs.targets.flatMap((t, i) => (t.ok && t.weight > previous ? [i] : []));
  if (targets.length === 0) return undefined;
  const what = targets.map((i) => `targets[${i}] held ${(obs.targets[i] as { weight: number }).weight}`).join(', ');
  return {
    action: { kind: 'setWeight', weight: previous, targets, reason: `${stepLabel(spec, status)}: held at canary ${previous}% until its beforeStep hooks pass` },
    drift: `${what} while ${stepLabel(spec, status)} waits for its beforeStep hooks; set back to canary ${previous}%`,
  };
}

interface PlannedWrite {
  action: Extract<Action, { kind: 'setWeight' }>;
  /** Set when the write repairs a weight someone changed after it had landed. */
  drift?: string;
}

function plannedWrite(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, obs: Observations, row: Transition, before: Phase): PlannedWrite | undefined {
  const phase = status.phase ?? 'Pending';
  const rollingBack = isRollingBack(phase);
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  // Just back in Pending with the next event due at once (a fixed spec, a retry): the next call
  // starts the plan at step 1 or settles what Pending holds. Writing stable now would move
  // traffic to 0 for a moment only to move it again (10 -> 0 -> 20 after a spec fix).
  if (phase === 'Pending' && before !== 'Pending' && row.again === true) return undefined;
  // Writing stable (0) is always allowed in a rollback; anything else needs a valid spec and
  // every target in view, because targets move in lockstep.
  if (!rollingBack && (spec === undefined || obs.targets.some((t) => !t.ok))) return undefined;
  // A step's weight is written only once its beforeStep hooks passed (hooks.ts).
  if (!rollingBack && spec !== undefined && !beforeStepCleared(spec, status)) return heldBackWrite(spec, status, obs);
  const weight = rollingBack || spec === undefined ? 0 : desiredWeight(spec, status);
  // Up only by a decision and one step at a time, whatever the status says (steps.ts).
  const decidedHere = (row.effects ?? []).some((e) => MOVING_EFFECTS.includes(e));
  if (!rollingBack && spec !== undefined && refusedUpwardMove(spec, status, obs.targets, weight, decidedHere)) return undefined;
  // A target that exists but cannot be read (a hand edit nginx cannot use, say) still takes a
  // rollback: providers write stable 100 / canary 0 over whatever is there, and a rollback must
  // land on every target, as must a route still carrying canary traffic without something it
  // depends on (nginx without its stable Ingress). Only a route that is not there is skipped.
  const takesWrite = (t: Observations['targets'][number]): boolean =>
    t.ok ? t.weight !== weight : rollingBack && (t.reason === 'TargetInvalid' || (t.weight ?? 0) > 0);
  const targets = obs.targets.flatMap((t, i) => (takesWrite(t) ? [i] : []));
  if (targets.length === 0) return undefined;
  // Whatever led here, no weight above what the readiness gate allows is written upwards.
  if (!rollingBack && spec !== undefined && raisesSomeTarget(obs, weight) && gateVerdict(spec, status, obs, weight)?.refusal !== undefined) return undefined;
  const reason = rollingBack ? `rollback: ${status.rollback?.reason ?? 'stable'}` : spec ? stepLabel(spec, status) : 'stable';
  const action = { kind: 'setWeight' as const, weight, targets, reason };
  const held = phase === 'RolledBack' || (isActive(phase) && toMs(status.stepStartedAt) !== undefined);
  // onDrift: Hold: a weight someone changed after it landed is theirs. Only a decision moves it
  // (a step, a rollback, a deletion); a phase change alone (the hold itself) is none.
  if (spec?.onDrift === 'Hold' && held && !decidedHere && !obs.deleting) return undefined;
  const decided = decidedHere || phase !== before;
  if (decided || !held) return { action };
  const what = targets
    .map((i) => {
      const t = obs.targets[i];
      return `targets[${i}] held ${t?.ok ? t.weight : 'a weight that cannot be read'}`;
    })
    .join(', ');
  return { action, drift: `${what}; set back to canary ${weight}%` };
}
