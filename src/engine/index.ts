// The pure migration engine: decide() per reconcile, analysisDue() before it, desiredWeight()
// for anyone who needs to know what the targets should hold.
export { decide } from './decide';
export { analysisDue, roundDue } from './timing';
export { pendingRequest } from './events';
export { desiredWeight } from './steps';
export type { Action, AnalysisRound, RoundSide, CheckOutcome, Decision, NotificationSnapshot, NotifyAction, Observations, PendingRequest, TargetObservation } from './types';
export { hooksDue, type HookCall, type HookResult } from './hooks';
