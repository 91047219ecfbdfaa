// Service selector switch (BlueGreen): all traffic goes wherever the Service's selector points.
// Weight 100 means the selector is exactly canarySelector, 0 exactly stableSelector; there is
// nothing in between, so only 0 and 100 can be written.
import { z } from 'zod';
import type { ServiceTarget, Target } from '../plan/schema';
import type { ObjectClient, ResourceRef } from '../kube';
import { ObjectProvider } from './shell';
import {
  type Backends,
  type PatchPlan,
  type TargetState,
  type TrafficProvider,
  InvalidWeightError,
  assertWeight,
  parseView,
  targetInvalid,
} from './types';

export function serviceRef(namespace: string, name: string): ResourceRef {
  return { group: '', version: 'v1', plural: 'services', namespace, name };
}

/** The few fields of a Service this provider touches. */
export const ServiceView = z.object({
  metadata: z.object({ name: z.string(), resourceVersion: z.string().optional() }),
  spec: z.object({ selector: z.record(z.string(), z.string()).optional() }),
});
export type ServiceView = z.infer<typeof ServiceView>;

export type ServiceMergePatch = {
  metadata: { resourceVersion: string };
  spec: { selector: Record<string, string | null> };
};

const label = (namespace: string, name: string) => `Service ${namespace}/${name}`;

/** How messages and views name this target (providers/index.ts describeTarget). */
export function describe(namespace: string, service: ServiceTarget): string {
  return `service ${label(namespace, service.name)}`;
}

const show = (selector: Readonly<Record<string, string>>) =>
  `{${Object.entries(selector).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;

function sameSelector(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/** Exact equality, not "contains": a write sets the selector to exactly one of the two, so
 * anything else (including extra labels) is a hand edit the controller must not guess about. */
export function readWeight(obj: unknown, target: ServiceTarget, namespace: string): TargetState {
  const object = label(namespace, target.name);
  const parsed = parseView(ServiceView, obj, object);
  if (!parsed.ok) return parsed;
  if (sameSelector(target.stableSelector, target.canarySelector)) {
    return targetInvalid(`${object}: stableSelector and canarySelector are the same ${show(target.stableSelector)}`);
  }
  const selector = parsed.view.spec.selector ?? {};
  if (sameSelector(selector, target.canarySelector)) return { ok: true, weight: 100 };
  if (sameSelector(selector, target.stableSelector)) return { ok: true, weight: 0 };
  return targetInvalid(
    `${object}: spec.selector ${show(selector)} is neither stableSelector ${show(target.stableSelector)} nor canarySelector ${show(target.canarySelector)}`,
  );
}

/**
 * A merge patch that makes the selector exactly the new one: keys of the live selector that the
 * new one lacks are set to null (a merge patch merges maps). It carries the resourceVersion it
 * was computed from, so a concurrent edit of the Service fails it with 409 instead of leaving a
 * mixed selector.
 */
export function buildPatch(obj: unknown, target: ServiceTarget, namespace: string, weight: number): PatchPlan<ServiceMergePatch> {
  assertWeight(weight);
  if (weight !== 0 && weight !== 100) {
    throw new InvalidWeightError(`the service provider switches selectors and can only write 0 or 100, got ${weight}`);
  }
  const parsed = parseView(ServiceView, obj, label(namespace, target.name));
  if (!parsed.ok) return parsed;
  const resourceVersion = parsed.view.metadata.resourceVersion;
  if (resourceVersion === undefined) return targetInvalid(`${label(namespace, target.name)}: metadata.resourceVersion is missing`);
  const next = weight === 100 ? target.canarySelector : target.stableSelector;
  const selector: Record<string, string | null> = {};
  for (const key of Object.keys(parsed.view.spec.selector ?? {})) if (!(key in next)) selector[key] = null;
  Object.assign(selector, next);
  return { ok: true, patch: { metadata: { resourceVersion }, spec: { selector } } };
}

/** The objects this target reads. */
export function targetObjects(namespace: string, target: ServiceTarget): ResourceRef[] {
  return [serviceRef(namespace, target.name)];
}

export function serviceProvider(kube: ObjectClient, namespace: string, target: Target): TrafficProvider {
  const service = target.service;
  if (!service) throw new Error(`target with provider ${target.provider} has no service block`);
  return new ObjectProvider(kube, target, {
    ref: serviceRef(namespace, service.name),
    object: label(namespace, service.name),
    describe: describe(namespace, service),
    patchType: 'merge',
    readWeight: (obj) => readWeight(obj, service, namespace),
    buildPatch: (obj, weight) => buildPatch(obj, service, namespace, weight),
  });
}

/** The selector switch sends traffic to the Pods a selector picks, not to another Service: the
 * gate counts the ready Pods of each selector in the Service's namespace. */
export function backendServices(namespace: string, service: ServiceTarget): Backends {
  return {
    canary: [{ kind: 'pods', namespace, selector: service.canarySelector, name: service.name }],
    stable: [{ kind: 'pods', namespace, selector: service.stableSelector, name: service.name }],
  };
}
