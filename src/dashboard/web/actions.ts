// Which steering buttons a plan shows, mirroring what the REST API accepts (src/api/plans.ts): a
// button the server would refuse (409) or ignore is not offered. RBAC is not guessed here: a
// button a token may not use is still shown, and its 403 says so.
import type { Phase, PlanView } from './types.js';

export type Action = 'pause' | 'resume' | 'promote' | 'rollback' | 'retry';

export const ACTIONS: readonly Action[] = ['pause', 'resume', 'promote', 'rollback', 'retry'];

const ACTIVE: readonly Phase[] = ['Progressing', 'Paused', 'Holding', 'WaitingForPromotion'];
const FINAL: readonly Phase[] = ['Succeeded', 'RolledBack', 'Failed'];

export function allowedActions(plan: Pick<PlanView, 'phase' | 'paused'>): Action[] {
  const { phase, paused } = plan;
  const allowed: Action[] = [];
  if (!paused && !FINAL.includes(phase)) allowed.push('pause');
  if (paused) allowed.push('resume');
  if (ACTIVE.includes(phase)) allowed.push('promote');
  if (phase !== 'Succeeded' && phase !== 'RolledBack') allowed.push('rollback');
  if (phase === 'RolledBack' || phase === 'Failed') allowed.push('retry');
  return allowed;
}

/** The verb a refusal names: "you may not roll back this plan". */
export const ACTION_WORDS: Readonly<Record<Action, string>> = {
  pause: 'pause',
  resume: 'resume',
  promote: 'promote',
  rollback: 'roll back',
  retry: 'retry',
};

/** Fail outranks Error outranks NoData outranks Pass: the check a person should look at first. */
const RANK: Readonly<Record<string, number>> = { Fail: 3, Error: 2, NoData: 1, Pass: 0 };

export function worstCheck<C extends { result: string }>(checks: readonly C[]): C | undefined {
  let worst: C | undefined;
  for (const c of checks) if (worst === undefined || (RANK[c.result] ?? 0) > (RANK[worst.result] ?? 0)) worst = c;
  return worst;
}
