// The I/O half every provider shares: GET the live object, build the patch with the provider's
// pure half, send it as ONE PATCH, and read the weight back from the object the server answered
// with. A provider file supplies only what is its own: which object, how to read its weight,
// and how to patch it.
import type { JsonPatchOp, Kube, KubeObject, ResourceRef } from '../kube';
import type { Target } from '../plan/schema';
import { assertWeight, getTarget, patchTarget, type PatchPlan, type TargetState, type TrafficProvider } from './types';

interface ObjectOf {
  /** The object whose weight is written. */
  ref: ResourceRef;
  /** How messages name it, e.g. `canary Ingress shop/checkout-canary`. */
  object: string;
  describe: string;
  readWeight(obj: unknown): TargetState;
  /** Objects that must exist besides the written one (nginx: the stable Ingress). */
  prerequisites?: ReadonlyArray<{ ref: ResourceRef; object: string }>;
}

export type ProviderHalves = ObjectOf &
  (
    | { patchType: 'merge'; buildPatch(obj: unknown, weight: number): PatchPlan<KubeObject> }
    | { patchType: 'json'; buildPatch(obj: unknown, weight: number): PatchPlan<JsonPatchOp[]> }
  );

export class ObjectProvider implements TrafficProvider {
  constructor(private readonly kube: Kube, readonly target: Target, private readonly halves: ProviderHalves) {}

  describe(): string {
    return this.halves.describe;
  }

  async read(): Promise<TargetState> {
    const live = await getTarget(this.kube, this.halves.ref, this.halves.object);
    const state = live.ok ? this.halves.readWeight(live.obj) : live;
    for (const p of this.halves.prerequisites ?? []) {
      const found = await getTarget(this.kube, p.ref, p.object);
      // The written object may still send traffic to the canary without its prerequisite: say
      // what it holds, so a rollback or a deletion still puts it back to 0.
      if (!found.ok) return state.ok ? { ...found, weight: state.weight } : found;
    }
    return state;
  }

  async write(weight: number): Promise<TargetState> {
    assertWeight(weight);
    const h = this.halves;
    const live = await getTarget(this.kube, h.ref, h.object);
    if (!live.ok) return live;
    let send: () => Promise<KubeObject>;
    if (h.patchType === 'merge') {
      const plan = h.buildPatch(live.obj, weight);
      if (!plan.ok) return plan;
      send = () => this.kube.mergePatch(h.ref, plan.patch);
    } else {
      const plan = h.buildPatch(live.obj, weight);
      if (!plan.ok) return plan;
      send = () => this.kube.jsonPatch(h.ref, plan.patch);
    }
    const patched = await patchTarget(send, h.object);
    return patched.ok ? h.readWeight(patched.obj) : patched;
  }
}
