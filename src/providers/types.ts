// The one interface every traffic provider implements, and the small pieces their pure halves
// share. Nothing here knows about any provider.
import type { z } from 'zod';
import type { Target } from '../plan/schema';
import { type KubeObject, type ObjectClient, type ResourceRef, isNotFound, toKubeError } from '../kube';

/** Why a target cannot be read or written. The message names the object and the field.
 * `weight` is set when the object that carries the canary weight is there and readable but
 * something it depends on is not (nginx: the stable Ingress was deleted): traffic may still
 * flow through it, so a rollback writes it and a deletion waits until it holds 0. */
export type TargetProblem = { ok: false; reason: 'TargetNotFound' | 'TargetInvalid'; message: string; weight?: number };

/** What a target's live object says: the canary weight it holds now, or why it cannot say. */
export type TargetState = { ok: true; weight: number } | TargetProblem;

/** The patch a write would send, or why no meaningful patch exists. */
export type PatchPlan<P> = { ok: true; patch: P } | TargetProblem;

export interface TrafficProvider {
  /** The spec entry this provider moves. */
  readonly target: Target;
  /** e.g. `nginx Ingress shop/checkout-canary`. */
  describe(): string;
  /** GETs the live object(s), checks their shape, returns the canary weight held now. A 404 is
   * TargetNotFound; every other failure is a KubeError thrown to the caller (retry it). */
  read(): Promise<TargetState>;
  /** Sets canary = weight and stable = 100 - weight with ONE patch, and returns the state of
   * the object the server answered with. Throws InvalidWeightError for a weight outside
   * 0..100 (a programming error, never a target problem). */
  write(weight: number): Promise<TargetState>;
  /** The state from objects a watch cache holds (`lookup`), with no request; undefined when the
   * cache lacks one. The next write builds on the cached object, as on a read. */
  readCached?(lookup: (ref: ResourceRef) => KubeObject | undefined): TargetState | undefined;
}

export class InvalidWeightError extends Error {
  override readonly name = 'InvalidWeightError';
}

/** Weights are whole percents: stable + canary = 100 at every write. */
export function assertWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
    throw new InvalidWeightError(`canary weight must be an integer 0..100, got ${weight}`);
  }
}

export function targetInvalid(message: string): TargetProblem {
  return { ok: false, reason: 'TargetInvalid', message };
}

export function targetNotFound(message: string): TargetProblem {
  return { ok: false, reason: 'TargetNotFound', message };
}

/** `spec.rules[0].backendRefs[1].weight` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => {
      if (typeof p === 'number') return `[${p}]`;
      const key = String(p);
      // Annotation and label keys hold dots and slashes: quote them so the path stays readable.
      if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return `${i === 0 ? '' : '.'}${key}`;
    })
    .join('');
}

/** Parses a live object through a provider's typed view; a mismatch is TargetInvalid naming
 * the first offending field. */
export function parseView<T>(schema: z.ZodType<T>, obj: unknown, object: string): { ok: true; view: T } | TargetProblem {
  const parsed = schema.safeParse(obj);
  if (parsed.success) return { ok: true, view: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue ? fieldPath(issue.path) || '(object)' : '(object)';
  return targetInvalid(`${object}: ${field}: ${issue?.message ?? "unexpected shape"}`);
}

/**
 * The canary's share in whole percent from two relative weights. The weights of a route may
 * not make a whole percent (2:1 is 33.3%); the share is rounded, except that 0 and 100 are
 * reported only when they are exact, so "0" always means no canary traffic at all and "100"
 * no stable traffic: a near-zero share never passes for a finished rollback.
 */
export function canaryPercent(stable: number, canary: number): number | undefined {
  const total = stable + canary;
  if (!(total > 0) || stable < 0 || canary < 0) return undefined;
  if (canary === 0) return 0;
  if (stable === 0) return 100;
  return Math.min(99, Math.max(1, Math.round((canary * 100) / total)));
}

/** GETs a target's live object; a 404 becomes TargetNotFound naming the object, anything else
 * is thrown as a KubeError. */
export async function getTarget(kube: ObjectClient, ref: ResourceRef, object: string): Promise<{ ok: true; obj: KubeObject } | TargetProblem> {
  try {
    return { ok: true, obj: await kube.get(ref) };
  } catch (err) {
    if (isNotFound(err)) return targetNotFound(`${object} not found (${toKubeError(err).message})`);
    throw toKubeError(err);
  }
}

/** Sends one patch; a 404 (the object went away since the GET) is TargetNotFound. */
export async function patchTarget(send: () => Promise<KubeObject>, object: string): Promise<{ ok: true; obj: KubeObject } | TargetProblem> {
  try {
    return { ok: true, obj: await send() };
  } catch (err) {
    if (isNotFound(err)) return targetNotFound(`${object} not found (${toKubeError(err).message})`);
    throw toKubeError(err);
  }
}


/** A backend whose ready endpoints the readiness gate counts: a Service (its EndpointSlices), the
 * Pods a selector picks (the service provider), or something outside the cluster. */
export type BackendRef =
  | { kind: 'service'; namespace: string; name: string }
  | { kind: 'pods'; namespace: string; selector: Record<string, string>; name: string }
  | { kind: 'external'; name: string; message: string };

export interface Backends {
  canary: BackendRef[];
  stable: BackendRef[];
}

/** Look-up of a target's live objects (its targetObjects) for providers whose backends live there. */
export type LiveLookup = (ref: ResourceRef) => KubeObject | undefined;

/** One list entry of a weighted split (a backendRef, a route destination, a backend). */
export interface SplitSlot {
  index: number;
  name: string;
  weight: number;
}

/** The entries of one weighted list, sorted into stable, canary and everything else. */
export interface Split {
  stables: SplitSlot[];
  canaries: SplitSlot[];
  others: SplitSlot[];
}

export function classifySplit<T>(
  items: readonly T[],
  slot: (item: T, index: number) => SplitSlot,
  isStable: (item: T) => boolean,
  isCanary: (item: T) => boolean,
): Split {
  const split: Split = { stables: [], canaries: [], others: [] };
  items.forEach((item, i) => {
    if (isStable(item)) split.stables.push(slot(item, i));
    else if (isCanary(item)) split.canaries.push(slot(item, i));
    else split.others.push(slot(item, i));
  });
  return split;
}

/**
 * Why a split's weights cannot be read as one percent: a backend listed twice, or a third
 * backend that takes traffic. A write of canary 0 still makes sense then (every stable entry
 * gets 100, every canary entry 0, the third backend keeps what it has), so a rollback lands;
 * any other weight would not mean what it says, so providers refuse it.
 */
export function splitProblem(split: Split, where: string, stableName: string, canaryName: string): string | undefined {
  if (split.stables.length > 1) return `${where} lists ${stableName} ${split.stables.length} times`;
  if (split.canaries.length > 1) return `${where} lists ${canaryName} ${split.canaries.length} times`;
  const other = split.others.find((o) => o.weight > 0);
  if (other) {
    return `${where}[${other.index}] sends traffic to ${other.name} besides ${stableName} and ${canaryName}; set its weight to 0 or move it elsewhere`;
  }
  return undefined;
}
