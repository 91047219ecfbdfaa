// What the REST API tests share: an in-process API server with users and RBAC-like rules (real
// TokenReview and SubjectAccessReview answers), and a stand-in for the controller that serves
// the plan cache the way the controller does (its Informer over a list and a watch) and records
// what the routes ask of it, without reconciling anything: nothing writes but the test.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SteeringController } from '../../src/api/app';
import { Informer, type KubeObject as CachedObject } from '../../src/controller/informer';
import { kubeSource } from '../../src/controller/kubeSource';
import { Kube, loadKubeConfig, type KubeObject } from '../../src/kube';
import { LocalKube, type LocalKubeOptions } from '../../src/localkube';
import { planKey, plansResource, type PlanRef } from '../../src/plan/ref';
import type { MigrationPlanStatus, RequestKind } from '../../src/plan/schema';
import { ChangeSignal, type PlanFeed } from '../../src/steering/feed';
import type { TestCluster } from '../support/cluster';
import { planRef } from '../support/plans';

export type ApiCluster = TestCluster & { local: LocalKube };

/** A LocalKube with `options` (tokens, rules, given the run's namespace) and that namespace. */
export async function startApiCluster(label: string, options: (namespace: string) => LocalKubeOptions = () => ({})): Promise<ApiCluster> {
  const namespace = `api-${label}-${randomBytes(3).toString('hex')}`;
  const local = new LocalKube(options(namespace));
  await local.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trafficshift-api-${label}-`));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  local.writeKubeconfig(kubeconfigPath);
  const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
  const kube = new Kube(kubeConfig, { fieldManager: 'trafficshift-e2e' });
  await kube.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  return {
    kubeconfigPath,
    kubeConfig,
    kube,
    namespace,
    local,
    async close() {
      kube.close();
      await local.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The controller as the routes see it: its plan cache and feed, and a record of the rest. */
export class CacheOnlyController implements SteeringController {
  readonly enqueued: Array<{ name: string; urgent: boolean }> = [];
  readonly noted: Array<{ name: string; kind: RequestKind; value: string; at: number }> = [];
  readonly isLeader = true;
  private readonly changes = new ChangeSignal();
  private readonly listeners = new Set<(key: string) => void>();
  private readonly informer: Informer<CachedObject>;

  constructor(kube: Kube, namespace?: string) {
    this.informer = new Informer<CachedObject>(kubeSource(kube, plansResource(namespace)), {
      resyncMs: 0,
      onChange: (key) => {
        for (const listener of this.listeners) listener(key);
        this.changes.notify();
      },
    });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  enqueue(plan: PlanRef, options: { urgent?: boolean } = {}): void {
    this.enqueued.push({ name: plan.name, urgent: options.urgent ?? false });
  }

  noteRequest(plan: PlanRef, kind: RequestKind, value: string, at: number): void {
    this.noted.push({ name: plan.name, kind, value, at });
  }

  cachedPlans(): readonly CachedObject[] {
    return this.informer.list();
  }

  cachedPlan(key: string): CachedObject | undefined {
    return this.informer.get(key);
  }

  onPlanChange(listener: (key: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  planFeed(plan: PlanRef): PlanFeed {
    return {
      current: () => this.informer.get(planKey(plan)) as KubeObject | undefined,
      nextChange: (signal) => this.changes.next(signal),
    };
  }

  /** Resolves once the cache holds the plan at `resourceVersion` (or any version when absent). */
  async sees(plan: PlanRef, resourceVersion?: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const obj = this.informer.get(planKey(plan)) as { metadata?: { resourceVersion?: string } } | undefined;
      if (obj !== undefined && (resourceVersion === undefined || obj.metadata?.resourceVersion === resourceVersion)) return;
      if (Date.now() > deadline) throw new Error(`the cache did not see ${planKey(plan)}${resourceVersion ? ` at ${resourceVersion}` : ''}`);
      await this.changes.next(AbortSignal.timeout(100));
    }
  }
}

/** What the controller would have written: the plan's status (the status subresource). */
export async function setStatus(cluster: TestCluster, name: string, status: MigrationPlanStatus): Promise<KubeObject> {
  return cluster.kube.mergePatch(planRef(cluster, name), { status: status as Record<string, unknown> }, { subresource: 'status' });
}

export function resourceVersionOf(obj: KubeObject): string {
  return (obj['metadata'] as { resourceVersion: string }).resourceVersion;
}

/** A token for a ServiceAccount with no binding (test/support/accounts.ts). */
export { serviceAccountToken } from '../support/accounts';

/** How many requests the API server got for `path` (e.g. the TokenReview collection). */
export function requestsTo(cluster: ApiCluster, pathSuffix: string): number {
  return cluster.local.requests.filter((r) => r.path.endsWith(pathSuffix)).length;
}

export const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
export const ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
