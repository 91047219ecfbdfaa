// What the plan asks for at a given status: the weight the targets should hold, the current
// step's pause, and the timings that come from the spec. Pure functions of (spec, status).
import { parseDuration } from '../plan/duration';
import type { MigrationPlanSpec, MigrationPlanStatus, Phase, Step } from '../plan/schema';

/** Phases in which a plan holds a step's weight and runs its analysis. */
export const ACTIVE_PHASES: readonly Phase[] = ['Progressing', 'Holding', 'WaitingForPromotion', 'Paused'];
/** Active phases that are not paused: the ones that can advance. */
export const RUNNING_PHASES: readonly Phase[] = ['Progressing', 'Holding', 'WaitingForPromotion'];
/** Phases from which a trigger (a request, an alert, a failed check, a deletion) starts a rollback. */
export const ROLLBACKABLE_PHASES: readonly Phase[] = ['Pending', ...ACTIVE_PHASES, 'Failed'];
export const ROLLBACK_PHASES: readonly Phase[] = ['RollingBack', 'RolledBack'];

export function isActive(phase: Phase): boolean {
  return ACTIVE_PHASES.includes(phase);
}

export function isRollingBack(phase: Phase): boolean {
  return ROLLBACK_PHASES.includes(phase);
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toMs(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

export function hasChecks(spec: MigrationPlanSpec): boolean {
  return (spec.analysis?.checks.length ?? 0) > 0;
}

export function analysisIntervalMs(spec: MigrationPlanSpec): number {
  return parseDuration(spec.analysis?.interval ?? '30s');
}

export function bakeTimeMs(spec: MigrationPlanSpec): number {
  return parseDuration(spec.successCriteria?.bakeTime ?? '0s');
}

/** status.currentStep, kept inside spec.steps even after someone shortened the list. */
export function stepIndex(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined): number {
  const i = status?.currentStep ?? 0;
  return Math.max(0, Math.min(i, spec.steps.length - 1));
}

export function currentStep(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined): Step {
  return spec.steps[stepIndex(spec, status)] as Step;
}

export function isLastStep(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined): boolean {
  return stepIndex(spec, status) === spec.steps.length - 1;
}

/** `pause: {}` waits for a person; a duration waits that long; no pause waits for nothing. */
export type PauseKind = { kind: 'none' } | { kind: 'duration'; ms: number } | { kind: 'gate' };

export function pauseOf(step: Step): PauseKind {
  if (step.pause === undefined) return { kind: 'none' };
  if (typeof step.pause === 'string') return { kind: 'duration', ms: parseDuration(step.pause) };
  return { kind: 'gate' };
}

/**
 * BlueGreen keeps a preview at canary 0 until its single step completes, then switches to 100.
 * The switch is recorded as bakeStartedAt (the final weight's pause is over, which is what the
 * schema says bakeStartedAt means), so no field outside the schema is needed.
 */
export function blueGreenSwitched(status: MigrationPlanStatus | undefined): boolean {
  return status?.bakeStartedAt !== undefined;
}

/** The canary weight every target should hold for this status. */
export function desiredWeight(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined): number {
  const phase = status?.phase ?? 'Pending';
  switch (phase) {
    case 'Pending':
    case 'RollingBack':
    case 'RolledBack':
      return 0;
    case 'Succeeded':
      return 100;
    case 'Failed':
      // Traffic stays where it is while the spec is broken; before the start that is 0.
      return status?.currentStep === undefined ? 0 : (status.canaryWeight ?? 0);
    default:
      if (spec.strategy === 'BlueGreen') return blueGreenSwitched(status) ? 100 : 0;
      return currentStep(spec, status).weight;
  }
}

/** History events that record a decision to move traffic up to their weight. */
const ADVANCING_EVENTS: readonly string[] = ['Started', 'StepAdvanced', 'Switched', 'StepChanged'];

/** Whether the plan's own history, since its latest start, records the decision to go to `weight`. */
function recordedAdvance(status: MigrationPlanStatus, weight: number): boolean {
  const history = status.history ?? [];
  let since = 0;
  history.forEach((h, i) => {
    if (h.event === 'Started') since = i;
  });
  return history.slice(since).some((h) => ADVANCING_EVENTS.includes(h.event) && h.weight === weight);
}

/**
 * Why traffic may not go up to `weight` from what the targets hold, or undefined when it may (or
 * it is no move up). Traffic goes up one step at a time (to the first step above the highest
 * weight a target holds), and only by a decision: one made in this very call (`decidedNow`), or
 * one the plan's history records since its latest start (a write that did not land before a
 * crash). A status edited by hand (currentStep: 9999), or one that lags behind a person who
 * lowered a route, has neither, so it never moves traffic up.
 */
export function refusedUpwardMove(
  spec: MigrationPlanSpec,
  status: MigrationPlanStatus,
  targets: ReadonlyArray<{ ok: boolean; weight?: number }>,
  weight: number,
  decidedNow = false,
): 'pastNextStep' | 'notRecorded' | undefined {
  const held = targets.flatMap((t) => (t.ok && t.weight !== undefined ? [t.weight] : []));
  const highest = Math.max(0, ...held);
  if (weight <= highest) return undefined;
  const nextStep = Math.min(...spec.steps.map((s) => s.weight).filter((w) => w > highest));
  if (held.length === 0 || weight > nextStep) return 'pastNextStep';
  return decidedNow || recordedAdvance(status, weight) ? undefined : 'notRecorded';
}

export function stepLabel(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined): string {
  if (spec.strategy === 'BlueGreen') return blueGreenSwitched(status) ? 'switched to canary 100%' : 'preview at canary 0%';
  const i = stepIndex(spec, status);
  return `step ${i + 1}/${spec.steps.length}: canary ${currentStep(spec, status).weight}%`;
}
