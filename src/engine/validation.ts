// Rollback validation, the rollback procedure's last step: after RolledBack, the plan's checks
// run against the stable backend for spec.rollback.validation.duration, one round per analysis
// interval, to confirm the old system serves all traffic well. The plan stays RolledBack and
// the targets hold canary 0 throughout; validation only measures and reports.
//
// Rounds come a whole interval apart from the moment the rollback landed (a round measures
// traffic over the last interval, so the first speaks for stable carrying everything), and the
// last one at the end of the duration. The result:
//   Failed    at once when a critical check reaches its failureLimit (counted from 0 for the
//             validation, as in the canary analysis); at the end, when any round saw a breach
//             (a warning check, or a critical one below its limit)
//   NoData    at the end, when nothing breached but some round could not measure a check
//             (NoData or Error under `noData: hold`): stable was not confirmed
//   Passed    at the end, when every round passed
//   Cancelled a retry started the plan again, or the spec no longer asks for validation
// A query check measures the canary only, so it takes part only with a stableQuery; templates
// and webhooks have a stable side of their own (schema.ts measuresStable).
import { parseDuration } from '../plan/duration';
import { measuresStable, type Check, type MigrationPlanSpec, type MigrationPlanStatus, type RollbackValidationStatus, type ValidationResult } from '../plan/schema';
import { evaluateRound } from './round';
import { analysisIntervalMs, toIso, toMs } from './steps';
import type { Observations } from './types';

/** The checks a validation round runs, in spec order. */
export function validationChecks(spec: MigrationPlanSpec): Check[] {
  return (spec.analysis?.checks ?? []).filter(measuresStable);
}

export function validationDurationMs(spec: MigrationPlanSpec): number | undefined {
  const validation = spec.rollback.validation;
  return validation === undefined ? undefined : parseDuration(validation.duration);
}

/** The validation under way, if one is. */
export function runningValidation(status: MigrationPlanStatus | undefined): RollbackValidationStatus | undefined {
  const validation = status?.rollback?.validation;
  return status?.phase === 'RolledBack' && validation?.result === 'Running' ? validation : undefined;
}

/** When the validation's window closes. */
function endOf(spec: MigrationPlanSpec, validation: RollbackValidationStatus): number | undefined {
  const started = toMs(validation.startedAt);
  const duration = validationDurationMs(spec);
  return started === undefined || duration === undefined ? undefined : started + duration;
}

/** When the next stable round is due: an interval after the last (or the start), the last one at
 * the end of the window; undefined when no validation runs or its final round is in. */
export function nextValidationRoundAt(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined): number | undefined {
  const validation = runningValidation(status);
  if (validation === undefined || validationChecks(spec).length === 0) return undefined;
  const end = endOf(spec, validation);
  if (end === undefined) return undefined;
  const last = toMs(validation.lastRoundAt);
  if (last !== undefined && last >= end) return undefined;
  return Math.min((last ?? toMs(validation.startedAt) ?? end) + analysisIntervalMs(spec), end);
}

export function validationDue(spec: MigrationPlanSpec, status: MigrationPlanStatus | undefined, now: number): boolean {
  const at = nextValidationRoundAt(spec, status);
  return at !== undefined && now >= at;
}

/** The validation a landed rollback starts, when the spec asks for one. */
export function startedValidation(spec: MigrationPlanSpec | undefined, now: number): RollbackValidationStatus | undefined {
  if (spec?.rollback.validation === undefined) return undefined;
  return { result: 'Running', startedAt: toIso(now), rounds: 0, passedRounds: 0, breachedRounds: 0, message: `validating stable for ${spec.rollback.validation.duration}` };
}

/** Records a stable round into the running validation: the checks' latest results and the counts. */
export function recordValidationRound(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Observations): void {
  const validation = runningValidation(status);
  const round = obs.round;
  if (validation === undefined || round?.side !== 'stable' || spec.analysis === undefined) return;
  const checks = validationChecks(spec);
  if (checks.length === 0) return;
  const evaluation = evaluateRound({ checks, noData: spec.analysis.noData }, validation.checks, round);
  const gating = evaluation.checks.filter((c) => c.severity !== 'info');
  const breached = gating.some((c) => c.result === 'Fail' || (spec.analysis?.noData === 'fail' && c.result !== 'Pass'));
  validation.rounds += 1;
  if (evaluation.verdict === 'Pass') validation.passedRounds += 1;
  if (breached) validation.breachedRounds += 1;
  validation.checks = evaluation.checks;
  validation.lastRoundAt = toIso(round.completedAt);
  validation.message = `round ${validation.rounds}: ${evaluation.message}`;
}

/** The critical checks at their failureLimit in the latest round, as the round judged them. */
function failingChecks(spec: MigrationPlanSpec, validation: RollbackValidationStatus): string[] {
  const checks = validationChecks(spec);
  return (validation.checks ?? []).flatMap((c) => {
    const check = checks.find((k) => k.name === c.name);
    const atLimit = check?.severity === 'critical' && c.consecutiveFailures >= check.failureLimit && c.result !== 'Pass';
    return atLimit ? [`${c.name}=${c.value ?? c.result} breaches ${c.threshold} (${c.consecutiveFailures}/${check.failureLimit})`] : [];
  });
}

export type ValidationConclusion = { result: Exclude<ValidationResult, 'Running'>; message: string };

/** Whether the running validation is over, and how; undefined while it goes on. */
export function validationConclusion(spec: MigrationPlanSpec, status: MigrationPlanStatus): ValidationConclusion | undefined {
  const validation = runningValidation(status);
  if (validation === undefined) return undefined;
  if (spec.rollback.validation === undefined || validationChecks(spec).length === 0) {
    return { result: 'Cancelled', message: 'cancelled: the spec no longer asks for rollback.validation' };
  }
  const rounds = `${validation.passedRounds}/${validation.rounds} rounds passed`;
  const failing = failingChecks(spec, validation);
  if (failing.length > 0) return { result: 'Failed', message: `stable failed its checks: ${failing.join('; ')} (${rounds})` };
  const end = endOf(spec, validation);
  const last = toMs(validation.lastRoundAt);
  if (end === undefined || last === undefined || last < end) return undefined;
  const latest = validation.message ?? '';
  if (validation.breachedRounds > 0) return { result: 'Failed', message: `stable breached its thresholds in ${validation.breachedRounds} of ${validation.rounds} rounds; latest ${latest}` };
  if (validation.passedRounds < validation.rounds) return { result: 'NoData', message: `stable could not be confirmed: ${rounds}, the others lacked data; latest ${latest}` };
  return { result: 'Passed', message: `stable passed every check for ${spec.rollback.validation.duration} (${rounds})` };
}
