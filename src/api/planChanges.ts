// What changed in the controller's plan cache since a reader last looked: plans added or modified
// (a new resourceVersion) and plans deleted (or deleted and created again: a new uid). The
// dashboard's stream and the check history follow the cache this way, with no watch of their own.
import type { KubeObject as CachedObject } from '../controller/informer';
import type { KubeObject } from '../kube';
import { planKey, planRefOf, type PlanRef } from '../plan/ref';
import type { SteeringController } from './app';

export type PlanChange = { kind: 'changed'; plan: PlanRef; object: KubeObject } | { kind: 'deleted'; plan: PlanRef };

/** Remembers the version of every plan it has reported. */
export class PlanDiff {
  /** planKey -> `uid/resourceVersion` as last reported. */
  private readonly seen = new Map<string, { plan: PlanRef; version: string }>();

  constructor(private readonly include: (plan: PlanRef) => boolean = () => true) {}

  /** The changes from what was reported before to `plans`; a deleted and recreated plan is both. */
  update(plans: readonly CachedObject[]): PlanChange[] {
    const changes: PlanChange[] = [];
    const present = new Set<string>();
    for (const obj of plans) {
      const plan = planRefOf(obj);
      if (plan === undefined || !this.include(plan)) continue;
      const key = planKey(plan);
      const meta = obj.metadata as { uid?: string; resourceVersion?: string };
      const version = `${meta.uid ?? ''}/${meta.resourceVersion ?? ''}`;
      present.add(key);
      const before = this.seen.get(key);
      if (before?.version === version) continue;
      if (before !== undefined && before.version.split('/')[0] !== meta.uid) changes.push({ kind: 'deleted', plan });
      this.seen.set(key, { plan, version });
      changes.push({ kind: 'changed', plan, object: obj as unknown as KubeObject });
    }
    for (const [key, { plan }] of this.seen) {
      if (present.has(key)) continue;
      this.seen.delete(key);
      changes.push({ kind: 'deleted', plan });
    }
    return changes;
  }
}

/**
 * Calls `onChanges` with the cache's changes each time it changes, until `signal` aborts. The
 * controller's plan feed wakes on a change of any plan (one signal for its whole cache), so a
 * feed of any plan is a feed of all. The cache is updated before the wake-up, and the next wait
 * starts in the same tick as the diff, so no change falls between two looks.
 */
export async function followPlans(controller: Pick<SteeringController, 'cachedPlans' | 'planFeed'>, diff: PlanDiff, onChanges: (changes: PlanChange[]) => void, signal: AbortSignal): Promise<void> {
  const feed = controller.planFeed({ namespace: '', name: '' });
  while (!signal.aborted) {
    await feed.nextChange(signal);
    // Lets a burst of changes land before one look at them all, and never spins on a feed that
    // answers at once.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.aborted) return;
    const changes = diff.update(controller.cachedPlans());
    if (changes.length > 0) onChanges(changes);
  }
}
