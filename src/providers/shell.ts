// The I/O half every provider shares: GET the live object, build the patch with the provider's
// pure half, send it as ONE PATCH, and read the weight back from the object the server answered
// with. A provider file supplies only what is its own: which object, how to read its weight,
// and how to patch it.
//
// A provider lives for one reconcile, so a write right after a read builds its patch from the
// object that read saw instead of GETting it again: a rollback then costs one PATCH per target
// after the read, not a GET and a PATCH. A read older than a second (a check round ran between)
// is made again; a write the server refuses is read again by the caller (reconcile.ts
// applyWeights).
import type { JsonPatchOp, KubeObject, ObjectClient, ResourceRef } from '../kube';
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

/** How old a read may be for a write to build on it instead of reading again. */
const REUSE_READ_MS = 1000;

export class ObjectProvider implements TrafficProvider {
  /** The written object as the last read saw it, and when; used once, by the next write. */
  private lastRead: { obj: KubeObject; at: number } | undefined;

  constructor(private readonly kube: ObjectClient, readonly target: Target, private readonly halves: ProviderHalves) {}

  describe(): string {
    return this.halves.describe;
  }

  async read(): Promise<TargetState> {
    // The prerequisites are read at the same time as the object: one round trip, not one each.
    const [live, prerequisites] = await Promise.all([
      getTarget(this.kube, this.halves.ref, this.halves.object),
      Promise.all((this.halves.prerequisites ?? []).map((p) => getTarget(this.kube, p.ref, p.object))),
    ]);
    this.lastRead = live.ok ? { obj: live.obj, at: Date.now() } : undefined;
    const state = live.ok ? this.halves.readWeight(live.obj) : live;
    for (const found of prerequisites) {
      // The written object may still send traffic to the canary without its prerequisite: say
      // what it holds, so a rollback or a deletion still puts it back to 0.
      if (!found.ok) return state.ok ? { ...found, weight: state.weight } : found;
    }
    return state;
  }

  readCached(lookup: (ref: ResourceRef) => KubeObject | undefined): TargetState | undefined {
    const obj = lookup(this.halves.ref);
    if (obj === undefined || (this.halves.prerequisites ?? []).some((p) => lookup(p.ref) === undefined)) return undefined;
    this.lastRead = { obj, at: Date.now() };
    return this.halves.readWeight(obj);
  }

  async write(weight: number): Promise<TargetState> {
    assertWeight(weight);
    const h = this.halves;
    const seen = this.lastRead;
    this.lastRead = undefined;
    // A read from before a check round (which may take seconds) is read again.
    const fresh = seen !== undefined && Date.now() - seen.at <= REUSE_READ_MS;
    const live = fresh ? { ok: true as const, obj: seen.obj } : await getTarget(this.kube, h.ref, h.object);
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
