// When a plan has stopped moving, as the waiting commands (`status --watch`, `wait`) judge it:
// a settled phase the controller has seen the latest spec for, with no request written that
// would move it again (a retry of a rolled-back plan, a rollback of a failed one).
import { SETTLED_PHASES, type PlanView } from '../steering/view';

/** The controller has not yet acted on the newest spec or on a request that moves the plan on. */
export function aboutToMove(view: PlanView): boolean {
  if (view.generation !== undefined && view.observedGeneration !== undefined && view.observedGeneration < view.generation) return true;
  if (view.pendingRequests.retry !== undefined && (view.phase === 'RolledBack' || view.phase === 'Failed')) return true;
  if (view.pendingRequests.rollback !== undefined && view.phase === 'Failed') return true;
  return false;
}

export function isSettled(view: PlanView): boolean {
  return SETTLED_PHASES.includes(view.phase) && !aboutToMove(view);
}
