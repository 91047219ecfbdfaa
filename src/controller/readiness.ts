// Counts the ready endpoints behind a plan's canary and stable backends for the readiness gate
// (engine/readiness.ts). A Service's endpoints come from its EndpointSlices (discovery.k8s.io/v1,
// label kubernetes.io/service-name); the service provider's backends are the Pods a selector
// picks, counted by their Ready condition. Nothing here decides anything: a backend that cannot
// be counted says why, and the engine refuses to raise a weight on it.
import { z } from 'zod';
import type { BackendReadiness, ReadinessObservation } from '../engine/types';
import { isNotFound, type Kube, type KubeObject, type ResourceRef } from '../kube';
import type { Target } from '../plan/schema';
import { backendServices, backendsNeedLiveObjects, targetObjects, type BackendRef } from '../providers';

export const ENDPOINT_SLICES = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' } as const satisfies ResourceRef;
export const PODS = { group: '', version: 'v1', plural: 'pods' } as const satisfies ResourceRef;
export const SERVICES = { group: '', version: 'v1', plural: 'services' } as const satisfies ResourceRef;
/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const MESSAGE_LIMIT = 200;

const EndpointSliceView = z.object({
  endpoints: z
    .array(
      z.object({
        addresses: z.array(z.string()).default([]),
        conditions: z.object({ ready: z.boolean().nullable().optional() }).optional(),
        targetRef: z.object({ uid: z.string().optional() }).optional(),
      }),
    )
    .nullable()
    .optional(),
});

const PodView = z.object({
  metadata: z.object({ uid: z.string().optional(), name: z.string().optional(), deletionTimestamp: z.string().optional() }),
  status: z.object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional() }).optional(),
});

const ServiceView = z.object({ spec: z.object({ type: z.string().optional(), externalName: z.string().optional() }).optional() });

/** Ready endpoints across a Service's slices. A nil `ready` means ready (the API's own reading);
 * an endpoint listed in two slices (a slice being replaced) counts once. */
export function countReadyEndpoints(slices: readonly unknown[]): number {
  const ready = new Set<string>();
  for (const raw of slices) {
    const parsed = EndpointSliceView.safeParse(raw);
    if (!parsed.success) continue;
    for (const e of parsed.data.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const key = e.targetRef?.uid ?? e.addresses[0];
      if (key !== undefined) ready.add(key);
    }
  }
  return ready.size;
}

/** Pods with Ready=True that are not being deleted. */
export function countReadyPods(pods: readonly unknown[]): number {
  let ready = 0;
  for (const raw of pods) {
    const parsed = PodView.safeParse(raw);
    if (!parsed.success || parsed.data.metadata.deletionTimestamp !== undefined) continue;
    if (parsed.data.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ready++;
  }
  return ready;
}

export function selectorString(selector: Readonly<Record<string, string>>): string {
  return Object.entries(selector)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function backendName(b: BackendRef): string {
  switch (b.kind) {
    case 'service': return `${b.namespace}/${b.name}`;
    case 'pods': return `${b.namespace}/${b.name} pods ${selectorString(b.selector)}`;
    case 'external': return b.name;
  }
}

function bounded(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT - 1)}…`;
}

/** The controller's watches of EndpointSlices and Pods. Each answers undefined until its watch
 * has synced, and the count is then read from the API server. */
export interface BackendCache {
  /** The EndpointSlices labelled with this Service's name. */
  slicesOf(namespace: string, service: string): readonly unknown[] | undefined;
  /** The Pods this selector picks. */
  podsMatching(namespace: string, selector: Readonly<Record<string, string>>): readonly unknown[] | undefined;
}

async function countBackend(kube: Kube, b: BackendRef, cache: BackendCache | undefined): Promise<BackendReadiness> {
  const service = backendName(b);
  try {
    switch (b.kind) {
      case 'external':
        return { service, external: true, message: bounded(b.message) };
      case 'pods': {
        const cached = cache?.podsMatching(b.namespace, b.selector);
        if (cached !== undefined) return { service, ready: countReadyPods(cached) };
        const pods = await kube.list({ ...PODS, namespace: b.namespace }, { labelSelector: selectorString(b.selector) });
        return { service, ready: countReadyPods(pods.items) };
      }
      case 'service': {
        // A Service with slices exists and is no ExternalName (which has none): count them. One
        // without is read, to say whether it is missing, external, or has no endpoints yet.
        const cachedSlices = cache?.slicesOf(b.namespace, b.name);
        if (cachedSlices !== undefined && cachedSlices.length > 0) return { service, ready: countReadyEndpoints(cachedSlices) };
        let svc: KubeObject;
        try {
          svc = await kube.get({ ...SERVICES, namespace: b.namespace, name: b.name });
        } catch (error) {
          if (isNotFound(error)) return { service, ready: 0, message: 'Service not found' };
          throw error;
        }
        const spec = ServiceView.safeParse(svc).data?.spec;
        if (spec?.type === 'ExternalName') {
          return { service, external: true, message: bounded(`ExternalName Service (${spec.externalName ?? '?'}): no endpoints to count`) };
        }
        if (cachedSlices !== undefined) return { service, ready: 0 };
        const slices = await kube.list({ ...ENDPOINT_SLICES, namespace: b.namespace }, { labelSelector: `${SERVICE_NAME_LABEL}=${b.name}` });
        return { service, ready: countReadyEndpoints(slices.items) };
      }
    }
  } catch (error) {
    return { service, message: bounded(error instanceof Error ? error.message : String(error)) };
  }
}

/** The backends of every target, each side without repeats. `cached` looks a target object up in
 * the watch caches; one it lacks is read (nginx names its backends only in its Ingresses). */
export async function backendsOf(
  kube: Kube,
  namespace: string,
  targets: readonly Target[],
  cached: (ref: ResourceRef) => KubeObject | undefined = () => undefined,
): Promise<{ canary: BackendRef[]; stable: BackendRef[] }> {
  const live = new Map<string, KubeObject | undefined>();
  const keyOf = (ref: ResourceRef): string => `${ref.plural}.${ref.group}/${ref.namespace ?? ''}/${ref.name ?? ''}`;
  for (const target of targets.filter(backendsNeedLiveObjects)) {
    for (const ref of targetObjects(namespace, target)) {
      const found = cached(ref) ?? (await kube.get(ref).catch(() => undefined));
      live.set(keyOf(ref), found);
    }
  }
  const canary = new Map<string, BackendRef>();
  const stable = new Map<string, BackendRef>();
  for (const target of targets) {
    const backends = backendServices(namespace, target, (ref) => live.get(keyOf(ref)));
    for (const b of backends.canary) canary.set(backendName(b), b);
    for (const b of backends.stable) stable.set(backendName(b), b);
  }
  return { canary: [...canary.values()], stable: [...stable.values()] };
}

/** Counts every backend of both sides, at once: from the controller's caches when given. */
export async function readReadiness(
  kube: Kube,
  namespace: string,
  targets: readonly Target[],
  cached?: (ref: ResourceRef) => KubeObject | undefined,
  backendCache?: BackendCache,
): Promise<ReadinessObservation> {
  const backends = await backendsOf(kube, namespace, targets, cached);
  const [canary, stable] = await Promise.all([
    Promise.all(backends.canary.map((b) => countBackend(kube, b, backendCache))),
    Promise.all(backends.stable.map((b) => countBackend(kube, b, backendCache))),
  ]);
  return { canary, stable };
}
