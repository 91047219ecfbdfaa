// What the controller's API answers, as the page reads it. These mirror src/steering/view.ts
// (PlanView) and the timeline route; test/dashboard/types.test.ts stops the build when the two
// drift apart (the client cannot import the server's modules: they pull in Node and zod).

export type Phase = 'Pending' | 'Progressing' | 'Paused' | 'Holding' | 'WaitingForPromotion' | 'RollingBack' | 'RolledBack' | 'Succeeded' | 'Failed';
export type CheckResult = 'Pass' | 'Fail' | 'NoData' | 'Error';

export interface TargetWeight {
  target: string;
  provider: string;
  weight: number | null;
  problem?: string;
}

export interface CheckStatus {
  name: string;
  severity?: string;
  value: number | null;
  threshold: string;
  result: CheckResult;
  consecutiveFailures: number;
  at: string;
  message?: string;
}

export interface HistoryEntry {
  at: string;
  event: string;
  weight: number;
  message: string;
}

export interface RollbackStatus {
  reason: string;
  triggeredAt: string;
  completedAt?: string;
  recoverySeconds?: number;
}

export interface PlanView {
  namespace: string;
  name: string;
  phase: Phase;
  paused: boolean;
  step: { number: number; count: number; label: string; weight: number | null; promotionGate: boolean };
  canaryWeight: number;
  targets: TargetWeight[];
  checks: CheckStatus[];
  lastRound?: { at: string; verdict: string; message?: string };
  events: HistoryEntry[];
  rollback?: RollbackStatus;
  pendingRequests: Partial<Record<'rollback' | 'promote' | 'retry', string>>;
  specError?: string;
  createdAt?: string;
}

export interface CheckPoint {
  at: string;
  value: number | null;
  result: CheckResult;
}

export interface CheckSeries {
  name: string;
  threshold: { min?: number; max?: number };
  points: CheckPoint[];
}

/** GET /api/v1/namespaces/{ns}/plans/{name}/timeline */
export interface Timeline {
  plan: PlanView;
  specYaml: string;
  weights: Array<{ at: string; weight: number; event: string; message: string }>;
  checks: CheckSeries[];
  rollback?: { triggeredAt: string; completedAt?: string; recoverySeconds?: number; rtoSeconds?: number };
  /** Why the check series are short (a standby replica or a restarted controller keeps no history). */
  note?: string;
}

/** GET /api/v1/info */
export interface Info {
  version: string;
  authMode: 'kubernetes' | 'none';
}

export interface PlanRef {
  namespace: string;
  name: string;
}
