// The analysis contract between the controller and the check providers. The controller asks the
// runner for a round; the runner asks one provider per check and judges the measured values
// against the check's thresholds. Providers measure, the runner judges, the engine decides what
// a judgement means (NoData and Error are never a pass).
import type { Check, CheckResultKind, MigrationPlanSpec } from '../plan/schema';
import type { AnalysisRound, CheckOutcome, RoundSide } from '../engine/types';

// A round is what the engine observes, so its shape is the engine's.
export type { AnalysisRound, CheckOutcome, RoundSide };

export type { PlanRef } from '../plan/ref';
import type { PlanRef } from '../plan/ref';

export interface RoundContext {
  plan: PlanRef;
  /** zod-parsed (defaults applied); spec.analysis is defined when a round is asked for. */
  spec: MigrationPlanSpec;
  /** Where the plan is, for webhook payloads. */
  step: number;
  weight: number;
  /** The backend measured: the canary while the plan runs, stable in a rollback validation
   * (only the checks that measure stable run, with their stable queries). Absent: canary. */
  side?: RoundSide;
  /** Aborts every check of the round (controller shutdown, plan deleted). */
  signal: AbortSignal;
}

/** Reads Secret keys for credentials (bearerTokenFrom, basicAuthFrom). Injected, so checks do no
 * Kubernetes I/O themselves. Rejects when the Secret or key is missing, or when the Secret is not
 * labelled as a trafficshift credential (src/controller/credentials.ts). */
export interface SecretReader {
  read(namespace: string, name: string, key: string): Promise<string>;
}

/** What a provider measured. `Pass` means "measured fine": a number (or, for a webhook without a
 * value, a 2xx). The runner then compares `value` with the check's min/max. */
export interface Measurement {
  value: number | null;
  result: CheckResultKind;
  message?: string;
}

export interface CheckProvider {
  evaluate(check: Check, ctx: RoundContext): Promise<Measurement>;
}

export interface AnalysisRunner {
  runRound(ctx: RoundContext): Promise<AnalysisRound>;
}

/** Optional hook for /metrics; called once per check per round. */
export interface CheckMetrics {
  observe(plan: PlanRef, check: string, value: number | null, result: CheckResultKind, durationSeconds: number): void;
}
