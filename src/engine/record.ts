// What the status tells a person afterwards: the bounded history and the kstatus conditions.
//
// Conditions (kstatus reads Reconciling and Stalled; kubectl wait and people read all four):
//   Ready        True only in Succeeded (reason Succeeded); False otherwise, reason = the phase.
//   Stalled      True when the plan cannot go on without a person: InvalidSpec, TargetNotFound,
//                TargetInvalid, CheckFailing (a critical check at its limit with automatic
//                rollback off), RolledBack (waits for retry), StatusInconsistent (the status
//                asks for more than one step above what the targets hold) and TargetDrifted
//                (onDrift: Hold, and someone else changed a target's weight). False otherwise:
//                BackendNotReady (the readiness gate holds the plan until a canary backend has
//                enough ready endpoints) is waiting, not stuck: it goes on by itself once the
//                backend is ready, so Stalled False, Progressing False (Holding), Reconciling True.
//   Progressing  True while the controller is moving towards a final state on its own:
//                Pending, Progressing and RollingBack, unless stalled, paused or outside a change
//                window. False in Holding, WaitingForPromotion, Paused and the final phases,
//                which wait for time, a person or nothing.
//   Reconciling  True in every phase but the final ones (Succeeded, RolledBack, Failed) unless
//                stalled: the migration is not where it is going yet, whether the controller is
//                moving it or it waits at a gate. kstatus reads it as InProgress.
// lastTransitionTime changes only when a condition's status flips, as kstatus expects.
import type { Condition, HistoryEntry, MigrationPlanStatus, Phase } from '../plan/schema';
import { toIso } from './steps';

export const HISTORY_LIMIT = 50;

export function appendHistory(history: readonly HistoryEntry[] | undefined, entries: readonly HistoryEntry[]): HistoryEntry[] {
  return [...(history ?? []), ...entries].slice(-HISTORY_LIMIT);
}

export const STALL_REASONS = ['InvalidSpec', 'TargetNotFound', 'TargetInvalid', 'CheckFailing', 'RolledBack', 'StatusInconsistent', 'TargetDrifted'] as const;
/** Reasons that keep a Pending/Progressing plan from moving although nothing is wrong. */
const WAITING_REASONS = ['Paused', 'OutsideChangeWindow', 'BackendNotReady'];

export interface Situation {
  reason: string;
  message: string;
}

type ConditionWish = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

export function conditionsFor(phase: Phase, situation: Situation, status: MigrationPlanStatus): ConditionWish[] {
  const stalledBy: Situation | undefined = (STALL_REASONS as readonly string[]).includes(situation.reason)
    ? situation
    : phase === 'RolledBack'
      ? { reason: 'RolledBack', message: `rolled back: ${status.rollback?.reason ?? 'unknown reason'}; retry to start again` }
      : undefined;
  const stalled = stalledBy !== undefined && phase !== 'Succeeded';
  const moving =
    (phase === 'Pending' || phase === 'Progressing' || phase === 'RollingBack') && !stalled && !WAITING_REASONS.includes(situation.reason);
  // kstatus (Flux) reads only Reconciling and Stalled: without Reconciling=True a migration
  // still under way, or waiting at a gate, would read as Current, as if it were done.
  const unfinished = phase !== 'Succeeded' && phase !== 'RolledBack' && phase !== 'Failed' && !stalled;
  return [
    phase === 'Succeeded'
      ? { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'all traffic is on the canary' }
      : { type: 'Ready', status: 'False', reason: phase, message: situation.message },
    { type: 'Progressing', status: moving ? 'True' : 'False', reason: situation.reason, message: situation.message },
    { type: 'Reconciling', status: unfinished ? 'True' : 'False', reason: situation.reason, message: situation.message },
    stalled && stalledBy
      ? { type: 'Stalled', status: 'True', reason: stalledBy.reason, message: stalledBy.message }
      : { type: 'Stalled', status: 'False', reason: phase, message: situation.message },
  ];
}

export function mergeConditions(
  previous: readonly Condition[] | undefined,
  wishes: readonly ConditionWish[],
  now: number,
  generation: number,
): Condition[] {
  return wishes.map((wish) => {
    const before = previous?.find((c) => c.type === wish.type);
    const lastTransitionTime = before !== undefined && before.status === wish.status ? before.lastTransitionTime : toIso(now);
    return { ...wish, lastTransitionTime, observedGeneration: generation };
  });
}
