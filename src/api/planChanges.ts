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

  /** The changes from what was reported before to `plans`, the whole cache; a deleted and
   * recreated plan is both. */
  update(plans: readonly CachedObject[]): PlanChange[] {
    const changes: PlanChange[] = [];
    const present = new Set<string>();
    for (const obj of plans) {
      const key = this.compare(obj, changes);
      if (key !== undefined) present.add(key);
    }
    for (const [key, { plan }] of this.seen) {
      if (present.has(key)) continue;
      this.seen.delete(key);
      changes.push({ kind: 'deleted', plan });
    }
    return changes;
  }

  /** The changes of these plans only (`lookup` gives each as the cache holds it now): the cost
   * of a change is then that plan's, not the whole cache's. */
  updateKeys(keys: Iterable<string>, lookup: (key: string) => CachedObject | undefined): PlanChange[] {
    const changes: PlanChange[] = [];
    for (const key of keys) {
      const obj = lookup(key);
      if (obj !== undefined && this.compare(obj, changes) !== undefined) continue;
      const before = this.seen.get(key);
      if (before === undefined) continue;
      this.seen.delete(key);
      changes.push({ kind: 'deleted', plan: before.plan });
    }
    return changes;
  }

  /** Adds the change `obj` makes to `changes`; its key when it is a plan this diff follows. */
  private compare(obj: CachedObject, changes: PlanChange[]): string | undefined {
    const plan = planRefOf(obj);
    if (plan === undefined || !this.include(plan)) return undefined;
    const key = planKey(plan);
    const meta = obj.metadata as { uid?: string; resourceVersion?: string };
    const version = `${meta.uid ?? ''}/${meta.resourceVersion ?? ''}`;
    const before = this.seen.get(key);
    if (before?.version === version) return key;
    if (before !== undefined && before.version.split('/')[0] !== meta.uid) changes.push({ kind: 'deleted', plan });
    this.seen.set(key, { plan, version });
    changes.push({ kind: 'changed', plan, object: obj as unknown as KubeObject });
    return key;
  }
}

/**
 * Calls `onChanges` with the cache's changes each time it changes, until `signal` aborts. The
 * controller names each plan its cache changes (onPlanChange), and the diff looks at those alone.
 * Names arrive before the feed wakes, and the next wait starts in the same tick as the diff, so
 * no change falls between two looks.
 */
export async function followPlans(controller: Pick<SteeringController, 'cachedPlan' | 'onPlanChange' | 'planFeed'>, diff: PlanDiff, onChanges: (changes: PlanChange[]) => void, signal: AbortSignal): Promise<void> {
  const feed = controller.planFeed({ namespace: '', name: '' });
  const changed = new Set<string>();
  const unsubscribe = controller.onPlanChange((key) => changed.add(key));
  try {
    while (!signal.aborted) {
      await feed.nextChange(signal);
      // Lets a burst of changes land before one look at them all, and never spins on a feed that
      // answers at once.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) return;
      if (changed.size === 0) continue;
      const keys = [...changed];
      changed.clear();
      const changes = diff.updateKeys(keys, (key) => controller.cachedPlan(key));
      if (changes.length > 0) onChanges(changes);
    }
  } finally {
    unsubscribe();
  }
}
