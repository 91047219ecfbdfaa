// SMI TrafficSplit: spec.backends[] lists services with relative weights; the stable and the
// canary backend are moved, any other backend must carry weight 0.
import { z } from 'zod';
import type { SmiTarget, Target } from '../plan/schema';
import { type JsonPatchOp, type ObjectClient, type ResourceRef, jsonPointer } from '../kube';
import { ObjectProvider } from './shell';
import {
  type Backends,
  type PatchPlan,
  type Split,
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

/** v1alpha4 is the only version the SMI CRD serves (v1alpha2/3 are listed but not served). */
export function trafficSplitRef(namespace: string, name: string): ResourceRef {
  return { group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits', namespace, name };
}

/** The few fields of a TrafficSplit this provider touches. The CRD types weight as a number,
 * so fractions are possible; the share is still reported in whole percent. */
export const TrafficSplitView = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    backends: z.array(z.object({ service: z.string(), weight: z.number().min(0) })),
  }),
});
export type TrafficSplitView = z.infer<typeof TrafficSplitView>;

const label = (namespace: string, name: string) => `TrafficSplit ${namespace}/${name}`;

/** How messages and views name this target (providers/index.ts describeTarget). */
export function describe(namespace: string, split: SmiTarget): string {
  return `smi ${label(namespace, split.trafficSplit)}`;
}

export function findBackends(view: TrafficSplitView, target: SmiTarget, namespace: string): Split | TargetProblem {
  const split = classifySplit(
    view.spec.backends,
    (b, index) => ({ index, name: b.service, weight: b.weight }),
    (b) => b.service === target.stableBackend,
    (b) => b.service === target.canaryBackend,
  );
  const missing = [split.stables.length === 0 && target.stableBackend, split.canaries.length === 0 && target.canaryBackend].filter(Boolean);
  if (missing.length > 0) {
    return targetInvalid(`${label(namespace, target.trafficSplit)}: spec.backends has no backend for ${missing.join(' and ')}`);
  }
  return split;
}

export function readWeight(obj: unknown, target: SmiTarget, namespace: string): TargetState {
  const object = label(namespace, target.trafficSplit);
  const parsed = parseView(TrafficSplitView, obj, object);
  if (!parsed.ok) return parsed;
  const split = findBackends(parsed.view, target, namespace);
  if ('ok' in split) return split;
  const problem = splitProblem(split, 'spec.backends', target.stableBackend, target.canaryBackend);
  if (problem) return targetInvalid(`${object}: ${problem}`);
  const [stable, canary] = [split.stables[0]?.weight ?? 0, split.canaries[0]?.weight ?? 0];
  const weight = canaryPercent(stable, canary);
  if (weight === undefined) return targetInvalid(`${object}: spec.backends gives ${target.stableBackend} and ${target.canaryBackend} both weight 0, which splits no traffic`);
  return { ok: true, weight };
}

/** A JSON patch setting both backends' weights, each guarded by a `test` of its service name
 * so a concurrent reorder fails the patch (422) instead of swapping the weights. */
export function buildPatch(obj: unknown, target: SmiTarget, namespace: string, weight: number): PatchPlan<JsonPatchOp[]> {
  assertWeight(weight);
  const object = label(namespace, target.trafficSplit);
  const parsed = parseView(TrafficSplitView, obj, object);
  if (!parsed.ok) return parsed;
  const split = findBackends(parsed.view, target, namespace);
  if ('ok' in split) return split;
  const problem = splitProblem(split, 'spec.backends', target.stableBackend, target.canaryBackend);
  if (problem && weight !== 0) return targetInvalid(`${object}: ${problem}`);
  const slots = [...split.stables.map((s) => [s, 100 - weight] as const), ...split.canaries.map((s) => [s, weight] as const)];
  const patch: JsonPatchOp[] = [
    ...slots.map(([s]): JsonPatchOp => ({ op: 'test', path: jsonPointer('spec', 'backends', s.index, 'service'), value: s.name })),
    ...slots.map(([s, value]): JsonPatchOp => ({ op: 'add', path: jsonPointer('spec', 'backends', s.index, 'weight'), value })),
  ];
  return { ok: true, patch };
}

/** The objects this target reads. */
export function targetObjects(namespace: string, target: SmiTarget): ResourceRef[] {
  return [trafficSplitRef(namespace, target.trafficSplit)];
}

export function smiProvider(kube: ObjectClient, namespace: string, target: Target): TrafficProvider {
  const split = target.smi;
  if (!split) throw new Error(`target with provider ${target.provider} has no smi block`);
  return new ObjectProvider(kube, target, {
    ref: trafficSplitRef(namespace, split.trafficSplit),
    object: label(namespace, split.trafficSplit),
    describe: describe(namespace, split),
    patchType: 'json',
    readWeight: (obj) => readWeight(obj, split, namespace),
    buildPatch: (obj, weight) => buildPatch(obj, split, namespace, weight),
  });
}

/** SMI backends are Services in the TrafficSplit's namespace. */
export function backendServices(namespace: string, split: SmiTarget): Backends {
  return {
    canary: [{ kind: 'service', namespace, name: split.canaryBackend }],
    stable: [{ kind: 'service', namespace, name: split.stableBackend }],
  };
}
