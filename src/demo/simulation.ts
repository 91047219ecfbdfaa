// A simulated world for the engine: two route objects that take writes, made-up metrics that
// depend on how much traffic the canary gets, an operator who answers promotion gates, and a
// clock that jumps to the engine's next evaluation. No I/O; the caller prints what happened.
// (To be replaced by a demo that runs the real controller against the in-process API server.)
import { analysisDue, decide, type Action, type AnalysisRound, type Observations } from '../engine';
import type { MigrationPlanSpec, MigrationPlanStatus, Phase } from '../plan/schema';

export interface Metrics {
  /** The value each check reads when the canary gets `weight` percent of traffic at `elapsedMs`. */
  read(check: string, weight: number, elapsedMs: number): number;
}

export interface Frame {
  elapsedMs: number;
  status: MigrationPlanStatus;
  weights: number[];
  round?: AnalysisRound;
  actions: Action[];
}

export interface SimulationOptions {
  spec: MigrationPlanSpec;
  metrics: Metrics;
  /** How long the operator takes to answer a promotion gate. */
  promoteAfterMs: number;
  /** Stop after this much simulated time whatever happens. */
  limitMs: number;
}

const FINAL: readonly Phase[] = ['Succeeded', 'RolledBack', 'Failed'];

/** Runs one plan to a final phase and yields a frame per engine call. */
export function* simulate({ spec, metrics, promoteAfterMs, limitMs }: SimulationOptions): Generator<Frame> {
  const start = Date.parse('2026-11-27T09:00:00.000Z');
  let now = start;
  let status: MigrationPlanStatus | undefined;
  const weights = spec.targets.map(() => 0);
  const requests: Observations['requests'] = {};
  let waitingSince: number | undefined;
  let promotions = 0;
  while (now - start <= limitMs) {
    const elapsedMs = now - start;
    let round: AnalysisRound | undefined;
    if (analysisDue(spec, status, now)) {
      const canary = weights[0] ?? 0;
      round = {
        completedAt: now,
        outcomes: (spec.analysis?.checks ?? []).map((check) => {
          const value = metrics.read(check.name, canary, elapsedMs);
          const pass = (check.max === undefined || value <= check.max) && (check.min === undefined || value >= check.min);
          return { name: check.name, value, result: pass ? 'Pass' : 'Fail' };
        }),
      };
    }
    const decision = decide(spec, status, {
      now,
      generation: 1,
      targets: weights.map((weight) => ({ ok: true, weight })),
      requests: { ...requests },
      ...(round ? { round } : {}),
    });
    // The controller's PATCHes: one per target named in the write.
    for (const action of decision.actions) {
      if (action.kind === 'setWeight') for (const i of action.targets) weights[i] = action.weight;
    }
    status = decision.status;
    yield { elapsedMs, status, weights: [...weights], actions: decision.actions, ...(round ? { round } : {}) };
    if (FINAL.includes(status.phase ?? 'Pending')) return;

    // The operator on call answers a promotion gate after a while.
    if (status.phase === 'WaitingForPromotion') {
      waitingSince ??= now;
      if (now - waitingSince >= promoteAfterMs) {
        promotions += 1;
        requests.promote = { value: `sre-on-call-${promotions}`, requestedAt: now };
        waitingSince = undefined;
      }
    } else waitingSince = undefined;

    // Jump to the next moment the engine asked for; a second later when it wants to look at once.
    const next = decision.nextEvaluationAt ?? now + 10_000;
    now = Math.max(now + 1000, Math.min(next, now + 30_000));
  }
}
