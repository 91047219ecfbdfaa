// Somewhere to read one plan and hear when it changes. The REST API reads the controller's plan
// cache (no extra watch); the CLI watches the one plan through the user's kubeconfig. Both wait
// on a feed the same way, so `rollback --wait` means the same thing on either path.
import { Informer, type KubeObject as CachedObject } from '../controller/informer';
import { kubeSource } from '../controller/kubeSource';
import type { Kube, KubeObject } from '../kube';
import { planKey, plansResource, type PlanRef } from '../plan/ref';
import { getPlan } from './requests';

export interface PlanFeed {
  /** The plan as last seen; undefined once it is gone. */
  current(): KubeObject | undefined;
  /** Resolves at the next change of the plan, or at once when `signal` has aborted. */
  nextChange(signal: AbortSignal): Promise<void>;
}

/** Wakes waiters on every change; shared by the feeds below. */
export class ChangeSignal {
  private waiters: Array<() => void> = [];

  notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  next(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

export interface WatchedPlan extends PlanFeed {
  stop(): Promise<void>;
}

/**
 * Watches one plan (a field selector on its name). The first GET is made directly, so a plan
 * that does not exist or may not be read fails at once (PlanNotFound, 403) instead of leaving a
 * watch retrying in the background.
 */
export async function watchPlan(kube: Kube, plan: PlanRef): Promise<WatchedPlan> {
  let latest: KubeObject | undefined = await getPlan(kube, plan);
  const changes = new ChangeSignal();
  const informer = new Informer<CachedObject>(kubeSource(kube, plansResource(plan.namespace), { fieldSelector: `metadata.name=${plan.name}`, watchTimeoutSeconds: 60 }), {
    resyncMs: 0,
    onChange: (key, obj) => {
      if (key !== planKey(plan)) return;
      latest = obj as KubeObject | undefined;
      changes.notify();
    },
  });
  // Not awaited: the GET above already answered; the watch only brings news.
  void informer.start();
  return {
    current: () => latest,
    nextChange: (signal) => changes.next(signal),
    stop: () => informer.stop(),
  };
}

/**
 * Waits until `test` returns a value for the plan as the feed shows it, or `timeoutMs` passes
 * (undefined then). `pollMs` also re-tests without a change, for conditions that read outside
 * the feed (the live targets).
 */
export async function waitForPlan<T>(
  feed: PlanFeed,
  test: (plan: KubeObject | undefined) => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await test(feed.current());
    if (found !== undefined) return found;
    const left = deadline - Date.now();
    if (left <= 0 || options.signal?.aborted) return undefined;
    const wait = AbortSignal.any([AbortSignal.timeout(Math.min(left, options.pollMs ?? left)), ...(options.signal ? [options.signal] : [])]);
    await feed.nextChange(wait);
  }
}
