// Feeds the plan metrics (phase, rollback recovery time) from the plans' status in the cluster,
// so every replica, leader or not, reports the same numbers and a restart loses nothing.
// It keeps a watch of its own: the controller's plan cache is private to it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { Informer, type KubeObject } from '../controller/informer';
import { kubeSource } from '../controller/kubeSource';
import type { Kube } from '../kube';
import { GROUP, PLURAL, VERSION } from '../plan/schema';
import type { TrafficshiftMetrics } from './metrics';

export interface PlanMetricsFeedOptions {
  kube: Kube;
  kubeConfig: KubeConfig;
  metrics: TrafficshiftMetrics;
  /** One namespace, or all when absent. */
  namespace?: string;
  resyncMs?: number;
  log?: Logger;
}

type PlanObject = KubeObject & { status?: unknown };

/** Plans are namespaced, so the informer's key is always `namespace/name`. */
function planOfKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class PlanMetricsFeed {
  private readonly informer: Informer<PlanObject>;

  constructor(options: PlanMetricsFeedOptions) {
    const { metrics, namespace } = options;
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, ...(namespace === undefined ? {} : { namespace }) };
    this.informer = new Informer<PlanObject>(kubeSource(options.kube, options.kubeConfig, ref), {
      resyncMs: options.resyncMs ?? 30_000,
      onChange: (key, obj, kind) => {
        if (kind === 'deleted') metrics.forgetPlan(planOfKey(key));
        else if (obj) metrics.recordPlan(planOfKey(key), obj.status);
      },
      onError: (error, retryInMs) => options.log?.warn('plan metrics watch failed', { error: String(error), retryInMs }),
    });
  }

  /** Resolves once the first list is recorded. */
  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
