// Gateway API HTTPRoute: each rule's backendRefs carry relative weights. Every rule that
// references both the stable and the canary Service is moved; a rule that references only one
// of them (say, an /admin path that stays on the monolith) is left alone.
import { z } from 'zod';
import type { GatewayApiTarget, Target } from '../plan/schema';
import { type JsonPatchOp, type ObjectClient, type ResourceRef, jsonPointer } from '../kube';
import { ObjectProvider } from './shell';
import {
  type Backends,
  type PatchPlan,
  type Split,
  type SplitSlot,
  type TargetProblem,
  type TargetState,
  type TrafficProvider,
  assertWeight,
  canaryPercent,
  classifySplit,
  parseView,
  splitProblem,
  targetInvalid,
} from './types';

export function httpRouteRef(namespace: string, name: string): ResourceRef {
  return { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace, name };
}

const BackendRef = z.object({
  name: z.string(),
  group: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  // The CRD bounds it to 0..1000000; the default when absent is 1.
  weight: z.number().int().min(0).optional(),
});

/** The few fields of an HTTPRoute this provider touches. */
export const HTTPRouteView = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z.object({
    rules: z.array(z.object({ backendRefs: z.array(BackendRef).optional() })).optional(),
  }),
});
export type HTTPRouteView = z.infer<typeof HTTPRouteView>;
type BackendRef = z.infer<typeof BackendRef>;

/** A rule that references both backends, and where they sit in its backendRefs. */
export interface SplitRule {
  rule: number;
  split: Split;
}

const label = (namespace: string, name: string) => `HTTPRoute ${namespace}/${name}`;

/** How messages and views name this target (providers/index.ts describeTarget). */
export function describe(namespace: string, route: GatewayApiTarget): string {
  return `gatewayAPI ${label(namespace, route.httpRoute)}`;
}

/** A backendRef names the Service `name` in the route's namespace (kind and group default to
 * Service and the core group; a ref into another namespace is another Service). */
function refersTo(ref: BackendRef, name: string, routeNamespace: string): boolean {
  return (
    ref.name === name &&
    (ref.kind === undefined || ref.kind === 'Service') &&
    (ref.group === undefined || ref.group === '') &&
    (ref.namespace === undefined || ref.namespace === routeNamespace)
  );
}

/** Every rule that references both backends, or why the route has none. */
export function findSplitRules(view: HTTPRouteView, target: GatewayApiTarget, namespace: string): SplitRule[] | TargetProblem {
  const found: SplitRule[] = [];
  for (const [rule, r] of (view.spec.rules ?? []).entries()) {
    const split = classifySplit(
      r.backendRefs ?? [],
      // Gateway API: an absent weight is 1.
      (b, index) => ({ index, name: b.name, weight: b.weight ?? 1 }),
      (b) => refersTo(b, target.stableBackend, namespace),
      (b) => refersTo(b, target.canaryBackend, namespace),
    );
    if (split.stables.length > 0 && split.canaries.length > 0) found.push({ rule, split });
  }
  if (found.length === 0) {
    return targetInvalid(`${label(namespace, target.httpRoute)} has no rule with backendRefs to both ${target.stableBackend} and ${target.canaryBackend}`);
  }
  return found;
}

function firstProblem(rules: SplitRule[], target: GatewayApiTarget, namespace: string): TargetProblem | undefined {
  for (const { rule, split } of rules) {
    const problem = splitProblem(split, `spec.rules[${rule}].backendRefs`, target.stableBackend, target.canaryBackend);
    if (problem) return targetInvalid(`${label(namespace, target.httpRoute)}: ${problem}`);
  }
  return undefined;
}

/**
 * The canary's share over the rules that reference both backends. Rules that disagree are
 * TargetInvalid, not "the first rule's value": any single number would hide the traffic the
 * other rules send, and the controller must never lose track of where traffic is. A write sets
 * every such rule, so it is also the repair.
 */
export function readWeight(obj: unknown, target: GatewayApiTarget, namespace: string): TargetState {
  const object = label(namespace, target.httpRoute);
  const parsed = parseView(HTTPRouteView, obj, object);
  if (!parsed.ok) return parsed;
  const rules = findSplitRules(parsed.view, target, namespace);
  if (!Array.isArray(rules)) return rules;
  const problem = firstProblem(rules, target, namespace);
  if (problem) return problem;
  const shares: { rule: number; weight: number }[] = [];
  for (const { rule, split } of rules) {
    const [stable, canary] = [split.stables[0]?.weight ?? 0, split.canaries[0]?.weight ?? 0];
    const weight = canaryPercent(stable, canary);
    if (weight === undefined) {
      return targetInvalid(`${object}: spec.rules[${rule}] gives ${target.stableBackend} weight ${stable} and ${target.canaryBackend} weight ${canary}, which splits no traffic`);
    }
    shares.push({ rule, weight });
  }
  const first = shares[0]?.weight ?? 0;
  if (shares.some((s) => s.weight !== first)) {
    const list = shares.map((s) => `spec.rules[${s.rule}]: ${s.weight}%`).join(', ');
    return targetInvalid(`${object}: rules disagree on the canary weight of ${target.canaryBackend} (${list})`);
  }
  return { ok: true, weight: first };
}

/**
 * A JSON patch that sets stable 100-w and canary w in every rule that references both. Items are
 * addressed by index, so each is guarded by a `test` of its name: a concurrent edit that
 * reorders a list makes the server refuse the patch (422) instead of writing the wrong item.
 * `add` sets `weight` whether or not the field exists.
 */
export function buildPatch(obj: unknown, target: GatewayApiTarget, namespace: string, weight: number): PatchPlan<JsonPatchOp[]> {
  assertWeight(weight);
  const parsed = parseView(HTTPRouteView, obj, label(namespace, target.httpRoute));
  if (!parsed.ok) return parsed;
  const rules = findSplitRules(parsed.view, target, namespace);
  if (!Array.isArray(rules)) return rules;
  const problem = firstProblem(rules, target, namespace);
  if (problem && weight !== 0) return problem;
  const patch: JsonPatchOp[] = [];
  for (const { rule, split } of rules) {
    const at = (slot: SplitSlot, field: string) => jsonPointer('spec', 'rules', rule, 'backendRefs', slot.index, field);
    const slots = [...split.stables.map((s) => [s, 100 - weight] as const), ...split.canaries.map((s) => [s, weight] as const)];
    for (const [slot] of slots) patch.push({ op: 'test', path: at(slot, 'name'), value: slot.name });
    for (const [slot, value] of slots) patch.push({ op: 'add', path: at(slot, 'weight'), value });
  }
  return { ok: true, patch };
}

/** The objects this target reads. */
export function targetObjects(namespace: string, target: GatewayApiTarget): ResourceRef[] {
  return [httpRouteRef(namespace, target.httpRoute)];
}

export function gatewayApiProvider(kube: ObjectClient, namespace: string, target: Target): TrafficProvider {
  const route = target.gatewayAPI;
  if (!route) throw new Error(`target with provider ${target.provider} has no gatewayAPI block`);
  return new ObjectProvider(kube, target, {
    ref: httpRouteRef(namespace, route.httpRoute),
    object: label(namespace, route.httpRoute),
    describe: describe(namespace, route),
    patchType: 'json',
    readWeight: (obj) => readWeight(obj, route, namespace),
    buildPatch: (obj, weight) => buildPatch(obj, route, namespace, weight),
  });
}

/** The Services behind the split: backendRefs are matched by name in the route's namespace
 * (refersTo), so the backends are those Services. */
export function backendServices(namespace: string, route: GatewayApiTarget): Backends {
  return {
    canary: [{ kind: 'service', namespace, name: route.canaryBackend }],
    stable: [{ kind: 'service', namespace, name: route.stableBackend }],
  };
}
