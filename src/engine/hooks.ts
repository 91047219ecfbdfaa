// Hooks (spec.hooks): smoke tests and user journeys the controller calls as webhooks. The engine
// says which hook is due (hooksDue) and what its recorded result means; the controller makes the
// call and passes the result back as an observation (Observations.hooks), like an analysis round.
//   beforeStep     before a step's weight is written: the step does not land (nothing is written)
//                  until every beforeStep hook passed for it. A failure holds the plan at the
//                  weight it had and is tried again an analysis interval later; it never rolls
//                  back, because what failed is a precondition, not the canary at this weight.
//   afterStep      once a step's weight landed, once per step: the step cannot complete before
//                  every afterStep hook passed. A failure is a critical check at its limit: a
//                  rollback when rollback.automatic, else Holding (tried again each interval).
//   afterRollback  once per rollback, after it landed; afterSuccess once, after Succeeded. Their
//                  result is reported (an Event and status.hooks) and changes nothing else.
import { HOOK_STATUS_LIMIT, type Hook, type HookStatus, type HookWhen, type MigrationPlanSpec, type MigrationPlanStatus } from '../plan/schema';
import { inChangeWindow } from './schedule';
import { analysisIntervalMs, desiredWeight, isActive, RUNNING_PHASES, stepIndex, stepLabel, toIso, toMs } from './steps';

/** One hook the controller should call now, and what its payload says. */
export interface HookCall {
  hook: Hook;
  when: HookWhen;
  /** currentStep (0-based); the step being entered (beforeStep), landed, or rolled back from. */
  step: number;
  steps: number;
  label: string;
  /** The canary weight the step writes (beforeStep), holds (afterStep), or 0 / 100 at the end. */
  weight: number;
  /** Which backend takes the traffic the hook is about. */
  side: 'canary' | 'stable';
}

/** What a call came to, as the controller observed it. */
export interface HookResult {
  name: string;
  when: HookWhen;
  step: number;
  result: 'Pass' | 'Fail';
  attempts: number;
  completedAt: number; // epoch ms
  message?: string;
}

const STEP_HOOKS: readonly HookWhen[] = ['beforeStep', 'afterStep'];

function hooksOf(spec: MigrationPlanSpec, when: HookWhen): Hook[] {
  return (spec.hooks ?? []).filter((h) => h.when === when);
}

/** The recorded result of `hook` that speaks for the plan's present situation, if any. */
export function recordFor(status: MigrationPlanStatus, hook: Pick<Hook, 'name' | 'when'>, step: number): HookStatus | undefined {
  const rollbackAt = toMs(status.rollback?.triggeredAt) ?? 0;
  return (status.hooks ?? []).find((r) => {
    if (r.name !== hook.name || r.when !== hook.when) return false;
    if (STEP_HOOKS.includes(hook.when)) return r.step === step;
    // A retried plan can roll back again: only a result taken after this rollback counts.
    if (hook.when === 'afterRollback') return (toMs(r.at) ?? 0) >= rollbackAt;
    return true;
  });
}

/** The result of this step's `when` hooks taken together: Fail if any failed, Pass if all passed. */
export function stepHooksResult(spec: MigrationPlanSpec, status: MigrationPlanStatus, when: 'beforeStep' | 'afterStep'): { result: 'Pass' | 'Fail' | 'Pending'; failed?: HookStatus } {
  const step = stepIndex(spec, status);
  let pending = false;
  for (const hook of hooksOf(spec, when)) {
    const record = recordFor(status, hook, step);
    if (record?.result === 'Fail') return { result: 'Fail', failed: record };
    if (record === undefined) pending = true;
  }
  return { result: pending ? 'Pending' : 'Pass' };
}

/** The step's weight may be written (and the step may land): its beforeStep hooks all passed,
 * or it already landed (a hook added by a later spec edit does not hold a landed step). */
export function beforeStepCleared(spec: MigrationPlanSpec, status: MigrationPlanStatus): boolean {
  if (!isActive(status.phase ?? 'Pending') || status.stepStartedAt !== undefined) return true;
  return stepHooksResult(spec, status, 'beforeStep').result === 'Pass';
}

/** When `hook` is next due (epoch ms), or undefined when it is not. */
function dueAt(spec: MigrationPlanSpec, status: MigrationPlanStatus, hook: Hook, step: number): number | undefined {
  const record = recordFor(status, hook, step);
  if (record === undefined) return 0;
  // A failed step hook that still decides something is tried again an interval later.
  const retried = hook.when === 'beforeStep' || (hook.when === 'afterStep' && !spec.rollback.automatic);
  if (record.result === 'Fail' && retried) return (toMs(record.at) ?? 0) + analysisIntervalMs(spec);
  return undefined;
}

interface Due {
  call: HookCall;
  at: number;
}

function candidates(spec: MigrationPlanSpec, status: MigrationPlanStatus, now: number): Due[] {
  const phase = status.phase ?? 'Pending';
  const step = stepIndex(spec, status);
  const base = { step, steps: spec.steps.length, label: stepLabel(spec, status) };
  const due = (when: HookWhen, weight: number, side: 'canary' | 'stable'): Due[] =>
    hooksOf(spec, when).flatMap((hook) => {
      const at = dueAt(spec, status, hook, step);
      return at === undefined ? [] : [{ at, call: { ...base, hook, when, weight, side } }];
    });
  if (RUNNING_PHASES.includes(phase) && !spec.paused) {
    if (status.stepStartedAt === undefined) return inChangeWindow(spec.schedule, now) ? due('beforeStep', desiredWeight(spec, status), 'canary') : [];
    return due('afterStep', desiredWeight(spec, status), 'canary');
  }
  if (phase === 'RolledBack' && status.rollback?.completedAt !== undefined) return due('afterRollback', 0, 'stable');
  if (phase === 'Succeeded') return due('afterSuccess', 100, 'canary');
  return [];
}

/** The hooks the controller should call now. */
export function hooksDue(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined, now: number): HookCall[] {
  if (status === undefined) return [];
  return candidates(spec, status, now).filter((d) => d.at <= now).map((d) => d.call);
}

/** When the next hook is due, if any is or will be. */
export function nextHookAt(spec: MigrationPlanSpec, status: MigrationPlanStatus, now: number): number | undefined {
  const times = candidates(spec, status, now).map((d) => Math.max(d.at, now));
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** Records the results the controller observed, each replacing the record it supersedes. */
export function recordHookResults(status: MigrationPlanStatus, results: readonly HookResult[]): void {
  for (const r of results) {
    const step = STEP_HOOKS.includes(r.when) ? r.step : undefined;
    const entry: HookStatus = {
      name: r.name,
      when: r.when,
      ...(step !== undefined ? { step } : {}),
      result: r.result,
      at: toIso(r.completedAt),
      attempts: r.attempts,
      ...(r.message !== undefined ? { message: r.message } : {}),
    };
    const kept = (status.hooks ?? []).filter((h) => !(h.name === r.name && h.when === r.when && h.step === step));
    status.hooks = [...kept, entry].slice(-HOOK_STATUS_LIMIT);
  }
}

/** A new attempt at the plan (start, retry): every step hook runs again. */
export function forgetStepHooks(status: MigrationPlanStatus): void {
  const kept = (status.hooks ?? []).filter((h) => !STEP_HOOKS.includes(h.when));
  if (kept.length > 0) status.hooks = kept;
  else delete status.hooks;
}

/** What a result says, for Events and history. */
export function hookResultText(r: HookResult): string {
  const where = STEP_HOOKS.includes(r.when) ? ` at step ${r.step + 1}` : '';
  const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : '';
  return r.result === 'Pass'
    ? `hook ${r.name} (${r.when}${where}) passed${tries}`
    : `hook ${r.name} (${r.when}${where}) failed${tries}${r.message ? `: ${r.message}` : ''}`;
}
