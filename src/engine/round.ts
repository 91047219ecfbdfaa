// Turns one analysis round (a result per check) into a verdict for the plan:
//   Fail  a critical check reached its failureLimit: rollback-worthy
//   Hold  some check keeps the plan at its weight (warning breach, critical breach below its
//         limit, or NoData/Error under `noData: hold`)
//   Pass  nothing holds; info checks are recorded only, whatever their result
// NoData and Error are never a pass. Under `noData: hold` they hold and leave the failure count
// alone (a broken Prometheus says nothing about the canary); under `noData: fail` they count as
// a breach of that check.
import type { Analysis, Check, CheckStatus, RoundVerdict } from '../plan/schema';
import { thresholdText, valueText } from '../plan/thresholds';
import { toIso } from './steps';
import type { AnalysisRound, CheckOutcome } from './types';

export interface RoundEvaluation {
  verdict: RoundVerdict;
  /** The latest entry per spec check, in spec order. */
  checks: CheckStatus[];
  /** Why the round held or failed, or that it passed. */
  message: string;
}

function describe(check: Check, outcome: CheckOutcome, consecutiveFailures: number): string {
  switch (outcome.result) {
    case 'Pass':
      return `${check.name}=${outcome.value === null ? 'pass' : valueText(outcome.value)} within ${thresholdText(check)}`;
    case 'Fail': {
      const count = check.severity === 'critical' ? ` (${consecutiveFailures}/${check.failureLimit})` : '';
      return `${check.name}=${outcome.value === null ? 'fail' : valueText(outcome.value)} breaches ${thresholdText(check)}${count}`;
    }
    case 'NoData':
      return `${check.name} returned no data${outcome.message ? `: ${outcome.message}` : ''}`;
    case 'Error':
      return `${check.name} could not be evaluated${outcome.message ? `: ${outcome.message}` : ''}`;
  }
}

export function evaluateRound(
  analysis: Pick<Analysis, 'checks' | 'noData'>,
  previous: readonly CheckStatus[] | undefined,
  round: AnalysisRound,
): RoundEvaluation {
  const at = toIso(round.completedAt);
  const failing: string[] = [];
  const holding: string[] = [];
  const checks = analysis.checks.map((check): CheckStatus => {
    const outcome: CheckOutcome = round.outcomes.find((o) => o.name === check.name) ?? {
      name: check.name,
      value: null,
      result: 'Error',
      message: 'the round carried no result for this check',
    };
    const prior = previous?.find((c) => c.name === check.name)?.consecutiveFailures ?? 0;
    const unknown = outcome.result === 'NoData' || outcome.result === 'Error';
    const breach = outcome.result === 'Fail' || (unknown && analysis.noData === 'fail');
    const consecutiveFailures = outcome.result === 'Pass' ? 0 : breach ? prior + 1 : prior;
    const message = describe(check, outcome, consecutiveFailures);
    if (check.severity === 'critical') {
      if (breach && consecutiveFailures >= check.failureLimit) failing.push(message);
      else if (breach || unknown) holding.push(message);
    } else if (check.severity === 'warning' && (breach || unknown)) {
      holding.push(message);
    }
    return {
      name: check.name,
      severity: check.severity,
      value: outcome.value,
      threshold: thresholdText(check),
      result: outcome.result,
      consecutiveFailures,
      at,
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    };
  });
  if (failing.length > 0) return { verdict: 'Fail', checks, message: [...failing, ...holding].join('; ') };
  if (holding.length > 0) return { verdict: 'Hold', checks, message: holding.join('; ') };
  return { verdict: 'Pass', checks, message: 'all checks passed' };
}
