// The engine's contract with the controller. The controller observes the world (targets, the
// plan's annotations, check results), calls decide(), performs the returned actions and writes
// the returned status once. Nothing here does I/O or reads a clock: `now` comes in Observations.
import type { HookResult } from './hooks';
import type { CheckResultKind, CheckStatus, MigrationPlanSpec, MigrationPlanStatus, NotificationEvent, Phase, RequestKind } from '../plan/schema';

export type TargetObservation =
  | { ok: true; weight: number } // canary weight the live target object holds now
  /** `weight`: the canary weight the written object still holds when only something it depends
   * on is gone (nginx without its stable Ingress); traffic may still flow through it. */
  | { ok: false; reason: 'TargetNotFound' | 'TargetInvalid'; message: string; weight?: number };

export interface CheckOutcome {
  name: string;
  value: number | null;
  result: CheckResultKind;
  message?: string;
}

/** Which backend a round measures: the canary while a plan runs, stable in a rollback validation. */
export type RoundSide = 'canary' | 'stable';

/** One evaluation of the spec's checks (same names), run when roundDue() said so: every check
 * for the canary; for stable, those that measure it (validation.ts validationChecks). */
export interface AnalysisRound {
  completedAt: number; // epoch ms
  outcomes: CheckOutcome[];
  /** Absent: canary. */
  side?: RoundSide;
}

/** One backend of a side as the controller counted it: a Service's ready endpoints (EndpointSlices),
 * or for the service provider the ready Pods its selector picks. */
export interface BackendReadiness {
  /** `namespace/name`; for the service provider the selector is added (`shop/checkout pods app=v2`). */
  service: string;
  /** Ready endpoints; absent when the backend is external or could not be counted. */
  ready?: number;
  /** Outside the cluster (an ExternalName Service, an Istio host that is no Service): nothing to count. */
  external?: boolean;
  /** Why it could not be counted, or what makes it external. */
  message?: string;
}

export interface ReadinessObservation {
  canary: BackendReadiness[];
  stable: BackendReadiness[];
}

export interface PendingRequest {
  value: string;
  requestedAt?: number;
}

export interface Observations {
  now: number; // epoch ms
  generation: number; // metadata.generation of the plan
  targets: TargetObservation[]; // same order as spec.targets
  round?: AnalysisRound;
  /** Hooks the controller called in this reconcile (hooks.ts hooksDue), with their results. */
  hooks?: HookResult[];
  /** Raw annotation values; a request is pending iff its fingerprint (bounds.ts) differs from
   * status.handledRequests[kind]. */
  requests: Partial<Record<RequestKind, PendingRequest>>;
  /** The spec failed validation: Failed + Stalled InvalidSpec, traffic is never moved. */
  specError?: { path: string; message: string };
  /** The backends' ready endpoints. Absent when not counted (a rollback's first pass, which waits
   * for nothing): the gate then has nothing to go on and no upward write is made. */
  readiness?: ReadinessObservation;
  /** deletionTimestamp is set: restore stable unless Succeeded. */
  deleting?: boolean;
}

export type Action =
  | { kind: 'setWeight'; weight: number; targets: number[]; reason: string }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; message: string }
  | NotifyAction;

/** What a notification shows beside its message, taken from the status the engine just computed. */
export interface NotificationSnapshot {
  phase: Phase;
  /** "step 2/4: canary 25%", or BlueGreen's preview/switched; absent without a valid spec. */
  step?: string;
  /** The canary weight every target agrees on, when they do. */
  canaryWeight?: number;
  targets: Array<{ provider: string; name: string; weight?: number; problem?: string }>;
  checks: Array<Pick<CheckStatus, 'name' | 'value' | 'threshold' | 'result'> & { severity?: CheckStatus['severity'] }>;
  /** The rollback's reason, while the plan is rolling back or rolled back. */
  reason?: string;
  recoverySeconds?: number;
}

export interface NotifyAction {
  kind: 'notify';
  event: NotificationEvent;
  message: string;
  snapshot?: NotificationSnapshot;
  /** Only these entries of spec.notifications (Progress: the ones whose `every` is due). */
  notifications?: number[];
}

export interface Decision {
  /** The complete next status; the controller writes it once. */
  status: MigrationPlanStatus;
  actions: Action[];
  /** When the engine wants to be called again; undefined: only when something changes. */
  nextEvaluationAt?: number;
  /** Deleting, and traffic is on stable (or the plan Succeeded): the finalizer may go. */
  finalizerDone?: boolean;
}

export type { MigrationPlanSpec, MigrationPlanStatus };
