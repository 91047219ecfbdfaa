// Somewhere to read one plan and hear when it changes. The REST API reads the controller's plan
// cache (no extra watch); the CLI watches the one plan through the user's kubeconfig. Both wait
// on a feed the same way, so `rollback --wait` means the same thing on either path.
import { Informer, type KubeObject as CachedObject } from '../controller/informer';
import { kubeSource } from '../controller/kubeSource';
import { toKubeError, type Kube, type KubeObject } from '../kube';
import { planKey, plansResource, type PlanRef } from '../plan/ref';
import { getPlan, PlanNotFound } from './requests';

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

/** How often a plan is read again when its user may get it but not list and watch it. */
export const POLL_MS = 1000;

/**
 * Watches one plan (a field selector on its name). The first GET is made directly, so a plan
 * that does not exist or may not be read fails at once (PlanNotFound, 403) instead of leaving a
 * watch retrying in the background. A user who may get the plan but not list or watch it (RBAC
 * can grant one without the others) is served by reading the plan again every POLL_MS instead.
 */
export async function watchPlan(kube: Kube, plan: PlanRef): Promise<WatchedPlan> {
  let latest: KubeObject | undefined = await getPlan(kube, plan);
  const changes = new ChangeSignal();
  const stopped = new AbortController();
  let polling: Promise<void> | undefined;
  const poll = async (): Promise<void> => {
    while (!stopped.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        stopped.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (stopped.signal.aborted) return;
      try {
        latest = await getPlan(kube, plan);
      } catch (error) {
        if (!(error instanceof PlanNotFound)) continue;
        latest = undefined;
      }
      changes.notify();
    }
  };
  const informer = new Informer<CachedObject>(kubeSource(kube, plansResource(plan.namespace), { fieldSelector: `metadata.name=${plan.name}`, watchTimeoutSeconds: 60 }), {
    resyncMs: 0,
    onChange: (key, obj, kind) => {
      if (key !== planKey(plan)) return;
      // A deletion hands over the last object seen; the plan is gone all the same.
      latest = kind === 'deleted' ? undefined : (obj as KubeObject | undefined);
      changes.notify();
    },
    onError: (error) => {
      const status = toKubeError(error).status;
      if ((status !== 401 && status !== 403) || polling !== undefined) return;
      polling = poll();
      void informer.stop();
    },
  });
  // Not awaited: the GET above already answered; the watch only brings news.
  void informer.start();
  return {
    current: () => latest,
    nextChange: (signal) => changes.next(signal),
    async stop() {
      stopped.abort();
      await informer.stop();
      await polling;
    },
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
