// The readiness gate: no weight above 0 lands on a canary backend that has fewer ready endpoints
// than it needs, spec.readiness.minReady and, with scaleWithWeight, ceil(stableReadyAtStart * w /
// 100) at weight w. The gate judges the weight about to be written, never the one already there,
// and never a rollback: writing stable (0) waits for nothing.
import type { BackendReadinessStatus, MigrationPlanSpec, MigrationPlanStatus } from '../plan/schema';
import type { BackendReadiness, Observations } from './types';

/** How many backends the status lists; a target with more is rare, and the message names the first short one. */
export const READINESS_STATUS_LIMIT = 8;

/** The stable side's ready endpoints, summed over its in-cluster backends; undefined when none
 * could be counted (all external, or a read failed). */
export function stableReady(obs: Pick<Observations, 'readiness'>): number | undefined {
  const stable = obs.readiness?.stable ?? [];
  const counted = stable.filter((b) => !b.external);
  if (counted.length === 0 || counted.some((b) => b.ready === undefined)) return undefined;
  return counted.reduce((sum, b) => sum + (b.ready ?? 0), 0);
}

/** Ready endpoints every canary backend needs at `weight`. */
export function requiredReady(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Pick<Observations, 'readiness'>, weight: number): number {
  if (weight <= 0) return 0;
  const gate = spec.readiness;
  const stableAtStart = status.readiness?.stableReadyAtStart ?? stableReady(obs);
  const scaled = gate.scaleWithWeight && stableAtStart !== undefined ? Math.ceil((stableAtStart * weight) / 100) : 0;
  return Math.max(gate.minReady, scaled);
}

export interface GateVerdict {
  /** Why the weight may not be written; undefined when it may. */
  refusal?: string;
  /** What the gate saw, for status.readiness.canary. */
  backends: BackendReadinessStatus[];
}

/**
 * Whether `weight` may be written to the canary backends. Undefined when the gate does not apply:
 * it is off, the weight is 0, or readiness was not observed (the controller counts it on every
 * pass that could write a weight above 0).
 */
export function gateVerdict(spec: MigrationPlanSpec, status: MigrationPlanStatus, obs: Pick<Observations, 'readiness'>, weight: number): GateVerdict | undefined {
  if (!spec.readiness.enabled || weight <= 0 || obs.readiness === undefined) return undefined;
  const required = requiredReady(spec, status, obs, weight);
  const canary = obs.readiness.canary;
  const backends = canary.slice(0, READINESS_STATUS_LIMIT).map((b) => backendStatus(b, required));
  if (canary.length === 0) return { refusal: `no canary backend Service was found to count ready endpoints for canary ${weight}%`, backends };
  const short = canary.find((b) => !b.external && (b.ready === undefined || b.ready < required));
  if (short === undefined) return { backends };
  const why =
    short.ready === undefined
      ? `canary backend ${short.service}: its ready endpoints could not be counted (${short.message ?? 'unknown error'}), needs ${required}`
      : `canary backend ${short.service} has ${short.ready} ready ${short.ready === 1 ? 'endpoint' : 'endpoints'}, needs ${required}`;
  return { refusal: `${why} for canary ${weight}%`, backends };
}

function backendStatus(b: BackendReadiness, required: number): BackendReadinessStatus {
  const out: BackendReadinessStatus = { service: b.service };
  if (b.ready !== undefined) out.ready = b.ready;
  if (b.external) out.external = true;
  else out.required = required;
  if (b.message !== undefined) out.message = b.message;
  return out;
}

/** Whether writing `weight` raises some target: only a raise can put traffic on a backend that
 * cannot serve it; lowering the canary's share is always allowed. */
export function raisesSomeTarget(obs: Pick<Observations, 'targets'>, weight: number): boolean {
  return obs.targets.some((t) => t.ok && t.weight < weight);
}
