// ingress-nginx canary: a second Ingress for the same host/path, marked with the canary
// annotations, receives `canary-weight` percent of the traffic. Only the canary Ingress is
// written; the stable Ingress is read to check that it exists and never changed.
import { z } from 'zod';
import type { NginxTarget, Target } from '../plan/schema';
import type { ObjectClient, ResourceRef } from '../kube';
import { ObjectProvider } from './shell';
import {
  type BackendRef,
  type Backends,
  type LiveLookup,
  type PatchPlan,
  type TargetState,
  type TrafficProvider,
  assertWeight,
  parseView,
  targetInvalid,
} from './types';

export const CANARY = 'nginx.ingress.kubernetes.io/canary';
export const CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
/** Since ingress-nginx 1.1: the denominator of canary-weight (default 100). We speak percent. */
export const CANARY_WEIGHT_TOTAL = 'nginx.ingress.kubernetes.io/canary-weight-total';

export function ingressRef(namespace: string, name: string): ResourceRef {
  return { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace, name };
}

/** The few fields of an Ingress this provider touches. */
export const IngressView = z.object({
  metadata: z.object({
    name: z.string(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});
export type IngressView = z.infer<typeof IngressView>;

export type IngressMergePatch = { metadata: { annotations: Record<string, string> } };

const label = (namespace: string, name: string) => `Ingress ${namespace}/${name}`;

/** How messages and views name this target (providers/index.ts describeTarget). */
export function describe(namespace: string, nginx: NginxTarget): string {
  return `nginx ${label(namespace, nginx.canaryIngress)}`;
}

function weightTotalProblem(annotations: Record<string, string>, object: string): TargetState | undefined {
  const total = annotations[CANARY_WEIGHT_TOTAL];
  if (total !== undefined && total.trim() !== '100') {
    return targetInvalid(`${object}: annotation ${CANARY_WEIGHT_TOTAL} is "${total}"; trafficshift writes percent weights, so remove it or set it to "100"`);
  }
  return undefined;
}

/** The canary weight the canary Ingress holds: 0 unless it is marked canary and has a weight. */
export function readWeight(obj: unknown, target: NginxTarget, namespace: string): TargetState {
  const object = label(namespace, target.canaryIngress);
  const parsed = parseView(IngressView, obj, object);
  if (!parsed.ok) return parsed;
  const annotations = parsed.view.metadata.annotations ?? {};
  const totalProblem = weightTotalProblem(annotations, object);
  if (totalProblem) return totalProblem;
  // ingress-nginx parses the annotation as a boolean; anything but "true" means not a canary.
  if (annotations[CANARY] !== 'true') return { ok: true, weight: 0 };
  const raw = annotations[CANARY_WEIGHT];
  if (raw === undefined) return { ok: true, weight: 0 };
  if (!/^\d{1,3}$/.test(raw.trim()) || Number(raw) > 100) {
    return targetInvalid(`${object}: annotation ${CANARY_WEIGHT} is "${raw}", expected an integer 0..100`);
  }
  return { ok: true, weight: Number(raw) };
}

/**
 * The merge patch that sets the canary weight. A hand-edited, malformed canary-weight is simply
 * overwritten (a rollback must always land), but a canary-weight-total other than 100 would make
 * any weight but 0 mean something else, so only 0 is written then.
 */
export function buildPatch(obj: unknown, target: NginxTarget, namespace: string, weight: number): PatchPlan<IngressMergePatch> {
  assertWeight(weight);
  const object = label(namespace, target.canaryIngress);
  const parsed = parseView(IngressView, obj, object);
  if (!parsed.ok) return parsed;
  const totalProblem = weightTotalProblem(parsed.view.metadata.annotations ?? {}, object);
  if (totalProblem && !totalProblem.ok && weight !== 0) return totalProblem;
  return { ok: true, patch: { metadata: { annotations: { [CANARY]: 'true', [CANARY_WEIGHT]: String(weight) } } } };
}

/** The objects this target reads: the stable and the canary Ingress (watch both). */
export function targetObjects(namespace: string, target: NginxTarget): ResourceRef[] {
  return [ingressRef(namespace, target.ingress), ingressRef(namespace, target.canaryIngress)];
}

export function nginxProvider(kube: ObjectClient, namespace: string, target: Target): TrafficProvider {
  const nginx = target.nginx;
  if (!nginx) throw new Error(`target with provider ${target.provider} has no nginx block`);
  return new ObjectProvider(kube, target, {
    ref: ingressRef(namespace, nginx.canaryIngress),
    object: `canary ${label(namespace, nginx.canaryIngress)}`,
    describe: describe(namespace, nginx),
    // The stable Ingress is the one nginx falls back to; without it the canary has no meaning.
    prerequisites: [{ ref: ingressRef(namespace, nginx.ingress), object: `stable ${label(namespace, nginx.ingress)}` }],
    patchType: 'merge',
    readWeight: (obj) => readWeight(obj, nginx, namespace),
    buildPatch: (obj, weight) => buildPatch(obj, nginx, namespace, weight),
  });
}

const ServiceBackend = z.object({ service: z.object({ name: z.string() }).optional() }).optional();
const IngressBackends = z.object({
  spec: z
    .object({
      defaultBackend: ServiceBackend,
      rules: z.array(z.object({ http: z.object({ paths: z.array(z.object({ backend: ServiceBackend })) }).optional() })).optional(),
    })
    .optional(),
});

/** Every Service an Ingress sends traffic to (its rules' backends and its default backend). */
export function ingressServices(obj: unknown): string[] {
  const parsed = IngressBackends.safeParse(obj);
  if (!parsed.success) return [];
  const spec = parsed.data.spec;
  const names = [spec?.defaultBackend?.service?.name, ...(spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service?.name))];
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

/** nginx names its backends only in the Ingresses themselves: the canary Ingress's Services are
 * the canary side, the stable Ingress's the stable side. An Ingress not in `live` has none. */
export function backendServices(namespace: string, target: NginxTarget, live: LiveLookup): Backends {
  const side = (name: string): BackendRef[] => ingressServices(live(ingressRef(namespace, name))).map((svc) => ({ kind: 'service', namespace, name: svc }));
  return { canary: side(target.canaryIngress), stable: side(target.ingress) };
}
