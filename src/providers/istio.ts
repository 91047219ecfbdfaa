// Istio VirtualService: the named http route's destinations carry weights. The route is chosen
// by name (spec.http[].name); its destinations matching the stable and canary destinations of
// the target (host, and subset/port when the target gives them) are moved.
import { z } from 'zod';
import type { IstioDestination, IstioTarget, Target } from '../plan/schema';
import { type JsonPatchOp, type ObjectClient, type ResourceRef, jsonPointer } from '../kube';
import { ObjectProvider } from './shell';
import {
  type BackendRef,
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

/** v1beta1 rather than v1: served by every Istio since 1.5 (v1 only since 1.22), and the
 * VirtualService schema is the same in both. */
export function virtualServiceRef(namespace: string, name: string): ResourceRef {
  return { group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices', namespace, name };
}

const Destination = z.object({
  host: z.string(),
  subset: z.string().optional(),
  port: z.object({ number: z.number().int().optional() }).optional(),
});
const RouteDestination = z.object({ destination: Destination, weight: z.number().int().min(0).optional() });

/** The few fields of a VirtualService this provider touches. */
export const VirtualServiceView = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    http: z.array(z.object({ name: z.string().optional(), route: z.array(RouteDestination).optional() })).optional(),
  }),
});
export type VirtualServiceView = z.infer<typeof VirtualServiceView>;
type RouteDestination = z.infer<typeof RouteDestination>;

const label = (namespace: string, name: string) => `VirtualService ${namespace}/${name}`;

/** How messages and views name this target (providers/index.ts describeTarget). */
export function describe(namespace: string, vs: IstioTarget): string {
  return `istio ${label(namespace, vs.virtualService)} route ${vs.route}`;
}

export function destinationName(d: IstioDestination): string {
  return [d.host, d.subset && `subset ${d.subset}`, d.port && `port ${d.port}`].filter(Boolean).join(' ');
}

function matches(r: RouteDestination, want: IstioDestination): boolean {
  return (
    r.destination.host === want.host &&
    (want.subset === undefined || r.destination.subset === want.subset) &&
    (want.port === undefined || r.destination.port?.number === want.port)
  );
}

/** The named http route, where its two destinations sit, or why it cannot be moved. */
export function findRoute(view: VirtualServiceView, target: IstioTarget, namespace: string): { http: number; split: Split } | TargetProblem {
  const object = label(namespace, target.virtualService);
  const http = view.spec.http ?? [];
  const named = [...http.entries()].filter(([, h]) => h.name === target.route);
  if (named.length === 0) {
    const names = http.map((h) => h.name).filter((n) => n !== undefined);
    return targetInvalid(`${object}: spec.http[name=${target.route}] does not exist (http routes: ${names.length > 0 ? names.join(', ') : 'none named'})`);
  }
  if (named.length > 1) return targetInvalid(`${object}: spec.http[name=${target.route}] is not unique (${named.length} routes have that name)`);
  const [[index, route]] = named as [[number, (typeof http)[number]]];
  const split = classifySplit(
    route.route ?? [],
    // Istio: with more than one destination an absent weight is 0.
    (r, i) => ({ index: i, name: destinationName({ host: r.destination.host, subset: r.destination.subset, port: r.destination.port?.number }), weight: r.weight ?? 0 }),
    (r) => matches(r, target.stableDestination),
    (r) => matches(r, target.canaryDestination),
  );
  const where = `spec.http[${index}].route`;
  if (split.stables.length === 0 || split.canaries.length === 0) {
    const missing = split.stables.length === 0 ? target.stableDestination : target.canaryDestination;
    return targetInvalid(`${object}: ${where} (name=${target.route}) has no destination ${destinationName(missing)}`);
  }
  return { http: index, split };
}

export function readWeight(obj: unknown, target: IstioTarget, namespace: string): TargetState {
  const object = label(namespace, target.virtualService);
  const parsed = parseView(VirtualServiceView, obj, object);
  if (!parsed.ok) return parsed;
  const found = findRoute(parsed.view, target, namespace);
  if ('ok' in found) return found;
  const where = `spec.http[${found.http}].route`;
  const problem = splitProblem(found.split, where, destinationName(target.stableDestination), destinationName(target.canaryDestination));
  if (problem) return targetInvalid(`${object}: ${problem}`);
  const [stable, canary] = [found.split.stables[0]?.weight ?? 0, found.split.canaries[0]?.weight ?? 0];
  const weight = canaryPercent(stable, canary);
  if (weight === undefined) return targetInvalid(`${object}: ${where} gives both destinations weight 0, which splits no traffic`);
  return { ok: true, weight };
}

/**
 * A JSON patch that sets the two destinations' weights. The route and each destination are
 * addressed by index and guarded by `test` ops on the route's name and on each destination's
 * host (and subset/port when the target gives them, since stable and canary may share a host):
 * a concurrent reorder fails the patch with 422 instead of moving the wrong destination.
 */
export function buildPatch(obj: unknown, target: IstioTarget, namespace: string, weight: number): PatchPlan<JsonPatchOp[]> {
  assertWeight(weight);
  const object = label(namespace, target.virtualService);
  const parsed = parseView(VirtualServiceView, obj, object);
  if (!parsed.ok) return parsed;
  const found = findRoute(parsed.view, target, namespace);
  if ('ok' in found) return found;
  const problem = splitProblem(found.split, `spec.http[${found.http}].route`, destinationName(target.stableDestination), destinationName(target.canaryDestination));
  if (problem && weight !== 0) return targetInvalid(`${object}: ${problem}`);
  const at = (slot: SplitSlot, ...field: string[]) => jsonPointer('spec', 'http', found.http, 'route', slot.index, ...field);
  const guards = (slot: SplitSlot, want: IstioDestination): JsonPatchOp[] => [
    { op: 'test', path: at(slot, 'destination', 'host'), value: want.host },
    ...(want.subset !== undefined ? [{ op: 'test' as const, path: at(slot, 'destination', 'subset'), value: want.subset }] : []),
    ...(want.port !== undefined ? [{ op: 'test' as const, path: at(slot, 'destination', 'port', 'number'), value: want.port }] : []),
  ];
  const patch: JsonPatchOp[] = [{ op: 'test', path: jsonPointer('spec', 'http', found.http, 'name'), value: target.route }];
  for (const s of found.split.stables) patch.push(...guards(s, target.stableDestination));
  for (const s of found.split.canaries) patch.push(...guards(s, target.canaryDestination));
  for (const s of found.split.stables) patch.push({ op: 'add', path: at(s, 'weight'), value: 100 - weight });
  for (const s of found.split.canaries) patch.push({ op: 'add', path: at(s, 'weight'), value: weight });
  return { ok: true, patch };
}

/** The objects this target reads. */
export function targetObjects(namespace: string, target: IstioTarget): ResourceRef[] {
  return [virtualServiceRef(namespace, target.virtualService)];
}

export function istioProvider(kube: ObjectClient, namespace: string, target: Target): TrafficProvider {
  const vs = target.istio;
  if (!vs) throw new Error(`target with provider ${target.provider} has no istio block`);
  return new ObjectProvider(kube, target, {
    ref: virtualServiceRef(namespace, vs.virtualService),
    object: label(namespace, vs.virtualService),
    describe: describe(namespace, vs),
    patchType: 'json',
    readWeight: (obj) => readWeight(obj, vs, namespace),
    buildPatch: (obj, weight) => buildPatch(obj, vs, namespace, weight),
  });
}

/** The Service an Istio destination host names: a short name is a Service in the
 * VirtualService's namespace, `<svc>.<ns>.svc.cluster.local` (or `<svc>.<ns>.svc`) one in `<ns>`;
 * any other host (a ServiceEntry, an outside name) is outside the cluster. */
export function hostBackend(namespace: string, host: string): BackendRef {
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(host)) return { kind: 'service', namespace, name: host };
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/.exec(host);
  if (m?.[1] !== undefined && m[3] !== undefined) return { kind: 'service', namespace: m[3], name: m[1] };
  return { kind: 'external', name: host, message: `host ${host} is no Service of the cluster: no endpoints to count` };
}

export function backendServices(namespace: string, vs: IstioTarget): Backends {
  return { canary: [hostBackend(namespace, vs.canaryDestination.host)], stable: [hostBackend(namespace, vs.stableDestination.host)] };
}
