// The controller process: informers wake plans, one keyed queue reconciles them, and leader
// election decides whether this replica may write at all. Standby replicas keep their caches
// warm, so a new leader starts reconciling at once.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { createAnalysisRunner, createHookRunner, type AnalysisRunner, type OutboundPolicy } from '../checks';
import { Kube, microTime, isNotFound, type KubeObject, type KubeRequestObserver, type ResourceRef } from '../kube';
import { backendServices, createProvider, targetObjects } from '../providers';
import { ENDPOINT_SLICES, PODS, SERVICE_NAME_LABEL, type BackendCache } from './readiness';
import { FreshReads, objectCacheKey } from './freshReads';
import { isHandled } from '../engine/bounds';
import { FINALIZER, REQUEST_ANNOTATIONS, type RequestKind, type Target } from '../plan/schema';
import { kubeCredentialReader } from './credentials';
import { KubeEventSink } from './events';
import { Informer, objectKey, type KubeObject as CachedObject } from './informer';
import { kubeSource } from './kubeSource';
import { LeaderElector, type LeaseRecord, type LeaseStore } from './leaderElection';
import { silentLogger } from './logger';
import { WebhookNotifier, type NotificationOutcome, type SecretValueReader } from './notifier';
import { reconcilePlan, LostLeadership, type ReconcileDeps } from './reconcile';
import { parsePlanKey, planKey, planResource, plansResource, type PlanRef } from '../plan/ref';
import { Preempted, WorkQueue } from './workQueue';
import { ChangeSignal, type PlanFeed } from '../steering/feed';

export interface LeaderElectionOptions {
  /** Namespace of the Lease (the controller's own namespace in a cluster). */
  namespace: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** What the controller reports to /metrics (src/api/metrics.ts implements it). */
export interface ControllerMetrics {
  leading(isLeader: boolean): void;
  weightWritten(plan: PlanRef, provider: string, weight: number): void;
  /** One reconcile of a plan ended; an error means the plan is retried with backoff. */
  reconciled(result: 'success' | 'error', durationSeconds: number): void;
  /** One notification was delivered, or given up on (after its retries, or dropped). */
  notification?(outcome: NotificationOutcome): void;
}

export interface ControllerOptions {
  /** The process's one client (controllerKube); the controller's watches and writes go through it. */
  kube: Kube;
  /** Watch one namespace only; all namespaces when absent. */
  namespace?: string;
  leaderElection?: LeaderElectionOptions;
  concurrency?: number;
  /** Every plan is reconciled at least this often, so hand edits of targets are repaired. */
  resyncMs?: number;
  log?: Logger;
  analysis?: AnalysisRunner;
  metrics?: ControllerMetrics;
  now?: () => number;
  /** Where checks and notifications may call (--allowed-hosts); every host when absent. */
  outbound?: OutboundPolicy;
}

/** Which plans move which target objects, so a change to a target wakes exactly those plans. */
class TargetIndex {
  private readonly byObject = new Map<string, Set<string>>();
  private readonly byPlan = new Map<string, string[]>();

  set(planKey: string, objectKeys: string[]): void {
    this.remove(planKey);
    this.byPlan.set(planKey, objectKeys);
    for (const k of objectKeys) {
      let plans = this.byObject.get(k);
      if (!plans) this.byObject.set(k, (plans = new Set()));
      plans.add(planKey);
    }
  }

  remove(planKey: string): void {
    for (const k of this.byPlan.get(planKey) ?? []) {
      const plans = this.byObject.get(k);
      plans?.delete(planKey);
      if (plans?.size === 0) this.byObject.delete(k);
    }
    this.byPlan.delete(planKey);
  }

  plansFor(objectKey: string): string[] {
    return [...(this.byObject.get(objectKey) ?? [])];
  }
}

/** Which plans count which backends, so a backend that becomes ready moves its plans at once. */
class BackendIndex {
  private readonly services = new TargetIndex();
  private readonly selectors = new Map<string, Array<{ namespace: string; selector: Record<string, string> }>>();

  set(planKey: string, services: string[], selectors: Array<{ namespace: string; selector: Record<string, string> }>): void {
    this.services.set(planKey, services);
    if (selectors.length > 0) this.selectors.set(planKey, selectors);
    else this.selectors.delete(planKey);
  }

  remove(planKey: string): void {
    this.services.remove(planKey);
    this.selectors.delete(planKey);
  }

  get anySelectors(): boolean {
    return this.selectors.size > 0;
  }

  plansForService(namespace: string, name: string): string[] {
    return this.services.plansFor(`${namespace}/${name}`);
  }

  /** Plans whose selector picks a Pod with these labels; every plan counting Pods in the
   * namespace when the labels are unknown (a deletion seen only as a gap in a relist). */
  plansForPod(namespace: string, labels: Record<string, string> | undefined): string[] {
    const out: string[] = [];
    for (const [plan, selectors] of this.selectors) {
      const hit = selectors.some((s) => s.namespace === namespace && (labels === undefined || Object.entries(s.selector).every(([k, v]) => labels[k] === v)));
      if (hit) out.push(plan);
    }
    return out;
  }
}

function resourceKey(ref: ResourceRef): string {
  return `${ref.plural}.${ref.group}`;
}

/** The client a controller process writes with: its writes show as trafficshift-controller in
 * managedFields, and no call may hang longer than a rollback can wait. */
export function controllerKube(kubeConfig: KubeConfig, observer?: KubeRequestObserver): Kube {
  return new Kube(kubeConfig, { fieldManager: 'trafficshift-controller', requestTimeoutMs: 15_000, ...(observer ? { observer } : {}) });
}

/** Credentials a plan names: only Secrets labelled trafficshift.io/credential (credentials.ts). */
export function kubeSecretReader(kube: Kube): SecretValueReader {
  return kubeCredentialReader(kube);
}

function leaseStore(kube: Kube, namespace: string, name: string): LeaseStore {
  const ref = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace, name };
  const toStored = (obj: KubeObject) => ({
    spec: (obj['spec'] ?? {}) as LeaseRecord,
    resourceVersion: String((obj['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion ?? ''),
  });
  return {
    async get() {
      try {
        return toStored(await kube.get(ref));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(spec) {
      return toStored(await kube.create(ref, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec }));
    },
    async replace(spec, resourceVersion) {
      return toStored(await kube.replace(ref, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, resourceVersion }, spec }));
    },
  };
}

/** The longest a stopping controller waits for notifications under way or queued. */
const SHUTDOWN_NOTIFICATION_WAIT_MS = 10_000;

/** What the controller's caches keep of an object: all but managedFields, which the API server
 * keeps for itself and which can be larger than the rest. Read nowhere in trafficshift; a status
 * PUT that leaves it out keeps the server's. */
export function withoutManagedFields(raw: unknown): CachedObject {
  const obj = raw as CachedObject & { metadata: { managedFields?: unknown } };
  if (obj?.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata } as CachedObject;
}

export class Controller implements BackendCache {
  readonly kube: Kube;
  readonly identity: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly targetIndex = new TargetIndex();
  /** Wakes REST requests that wait on a plan (rollback?wait=30s). */
  private readonly planChanges = new ChangeSignal();
  private readonly planChangeListeners = new Set<(key: string) => void>();
  private readonly requestTimes = new Map<string, number>();
  /** Plans as the server answered a steering write, for the reconcile that write asks for. */
  private readonly writtenPlans = new Map<string, { object: KubeObject; at: number }>();
  private readonly notifier: WebhookNotifier;
  private readonly deps: ReconcileDeps;
  private planInformer: Informer<CachedObject> | undefined;
  private readonly targetInformers = new Map<string, Informer<CachedObject>>();
  private readonly backendIndex = new BackendIndex();
  /** The Service each EndpointSlice belongs to, for a deletion seen without its object. */
  private readonly sliceServices = new Map<string, string>();
  /** `namespace/service` -> the keys of its EndpointSlices, for the readiness gate's counts. */
  private readonly serviceSlices = new Map<string, Set<string>>();
  /** Plan and target reads from the caches where they are known current (freshReads.ts). */
  private readonly reads: FreshReads;
  private sliceInformer: Informer<CachedObject> | undefined;
  private podInformer: Informer<CachedObject> | undefined;
  private queue: WorkQueue | undefined;
  private elector: LeaderElector | undefined;
  private leading = false;
  private stopped = false;

  constructor(private readonly options: ControllerOptions) {
    this.kube = options.kube;
    this.log = options.log ?? silentLogger();
    this.now = options.now ?? Date.now;
    this.identity = options.leaderElection?.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
    const secrets = kubeSecretReader(this.kube);
    const outbound = options.outbound === undefined ? {} : { outbound: options.outbound };
    const metrics = options.metrics;
    this.notifier = new WebhookNotifier({
      secrets,
      log: this.log,
      ...outbound,
      ...(metrics?.notification ? { onOutcome: (outcome: NotificationOutcome) => metrics.notification?.(outcome) } : {}),
    });
    this.reads = new FreshReads(this.kube, (ref) => this.cachedObject(ref));
    this.deps = {
      kube: this.kube,
      objects: this.reads,
      backendCache: this,
      providerFor: (namespace, target) => createProvider(this.reads, namespace, target),
      analysis: options.analysis ?? createAnalysisRunner({ secrets, now: this.now, ...outbound }),
      hooks: createHookRunner({ now: this.now, ...outbound }),
      events: new KubeEventSink(this.kube, this.now),
      notifier: this.notifier,
      log: this.log,
      now: this.now,
      mayWrite: () => this.leading && (this.elector?.isLeader ?? true),
      requestSeenAt: (plan, kind, value) => this.requestTimes.get(requestKey(plan, kind, value)),
      cachedTarget: (ref) => {
        if (ref.namespace === undefined || ref.name === undefined) return undefined;
        return this.targetInformers.get(resourceKey(ref))?.get(`${ref.namespace}/${ref.name}`) as KubeObject | undefined;
      },
      takeWrittenPlan: (plan) => {
        const key = planKey(plan);
        let written = this.writtenPlans.get(key);
        this.writtenPlans.delete(key);
        if (written !== undefined && this.reads.isSuperseded(planResource(plan), written.object)) written = undefined;
        // Only the reconcile the write asked for uses it; a later one reads the plan.
        return written !== undefined && this.now() - written.at <= WRITTEN_PLAN_FRESH_MS ? written.object : undefined;
      },
      onTargets: (plan, targets) => this.indexTargets(plan, targets),
      ...(options.metrics ? { onWeightWritten: options.metrics.weightWritten.bind(options.metrics) } : {}),
    };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts watching; resolves once the plan cache has synced (and, without election, leads). */
  async start(): Promise<void> {
    const ns = this.options.namespace;
    const resyncMs = this.options.resyncMs ?? 30_000;
    this.planInformer = new Informer<CachedObject>(kubeSource(this.kube, plansResource(ns)), {
      resyncMs,
      normalize: withoutManagedFields,
      // Deletions too: the reconcile finds the plan gone and forgets it. Not our own writes: the
      // reconcile that made one already decided on what it wrote.
      onChange: (key, obj, change) => {
        const cacheKey = objectCacheKey(planResource(parsePlanKey(key)));
        if (change === 'deleted') this.reads.forget(cacheKey);
        const urgent = obj !== undefined && needsUrgentWork(obj);
        // A rollback waits on nothing, not even for the answer to a write of ours.
        if (change === 'updated' && !urgent) this.reads.unlessEcho(cacheKey, obj, () => this.queue?.add(key));
        else this.queue?.add(key, { urgent });
        if (change !== 'resync') for (const listener of this.planChangeListeners) listener(key);
        this.planChanges.notify();
      },
      onError: (error, retryInMs) => this.log.warn('plan watch failed', { error: String(error), retryInMs }),
    });
    await this.planInformer.start();
    if (this.stopped) return;
    if (this.options.leaderElection) {
      const le = this.options.leaderElection;
      this.elector = new LeaderElector({
        store: leaseStore(this.kube, le.namespace, le.name ?? 'trafficshift-controller'),
        identity: this.identity,
        microTime: (ms) => microTime(new Date(ms)),
        onStartedLeading: () => this.lead(),
        onStoppedLeading: () => void this.follow(false),
        onError: (error) => this.log.debug('lease attempt failed', { error: String(error) }),
        ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
        ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
        ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      });
      this.elector.start();
    } else {
      this.lead();
    }
  }

  /** Finishes the reconciles in flight, releases the lease, and stops watching. Safe to call
   * while start() is still waiting for the first list: start() then returns without leading. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.follow(true);
    await this.elector?.stop();
    await Promise.all([this.planInformer?.stop(), this.sliceInformer?.stop(), this.podInformer?.stop(), ...[...this.targetInformers.values()].map((i) => i.stop())]);
    this.targetInformers.clear();
    // Long enough for a first try of each, short of a pod's 30 s grace period.
    await this.notifier.flush(SHUTDOWN_NOTIFICATION_WAIT_MS);
  }

  /** Records when a rollback request was first seen (an alert's receipt), for recovery time. */
  noteRequest(plan: PlanRef, kind: RequestKind, value: string, at: number): void {
    const key = requestKey(plan, kind, value);
    if (!this.requestTimes.has(key)) this.requestTimes.set(key, at);
    if (this.requestTimes.size > 10_000) this.requestTimes.delete(this.requestTimes.keys().next().value as string);
  }

  /** Asks for a reconcile of one plan now (e.g. after the REST API changed it); `urgent` for a
   * rollback, which then goes ahead of routine work. `written` is the plan as the server answered
   * that change: the reconcile starts from it instead of reading the plan again. */
  enqueue(plan: PlanRef, options: { urgent?: boolean; written?: KubeObject } = {}): void {
    if (!this.queue) return;
    // A reconcile may already have written over it (its watch event came first, and woke one):
    // then it is behind, and a reconcile that started from it would see the rollback it asks for
    // as not yet handled and write 0 again.
    if (options.written !== undefined && !this.reads.isSuperseded(planResource(plan), options.written)) {
      this.writtenPlans.set(planKey(plan), { object: options.written, at: this.now() });
      this.reads.confirm(planResource(plan), options.written);
    }
    this.queue.add(planKey(plan), options.urgent === undefined ? {} : { urgent: options.urgent });
  }

  /** The plans as the watch last saw them (none before the first list), for readers that must not
   * list from the API server on every request: the alert webhook and the plan metrics. */
  cachedPlans(): readonly CachedObject[] {
    return this.planInformer?.list() ?? [];
  }

  /** One plan as the watch last saw it, by its `namespace/name` key. */
  cachedPlan(key: string): CachedObject | undefined {
    return this.planInformer?.get(key);
  }

  /** Calls `listener` with the key of each plan the cache changes (added, updated, deleted),
   * before the plan feeds wake, until the function it returns is called. */
  onPlanChange(listener: (key: string) => void): () => void {
    this.planChangeListeners.add(listener);
    return () => this.planChangeListeners.delete(listener);
  }

  /** One plan from the cache, and word of its changes, for a REST request that waits on it. */
  planFeed(plan: PlanRef): PlanFeed {
    const key = planKey(plan);
    return {
      current: () => this.planInformer?.get(key) as KubeObject | undefined,
      nextChange: (signal) => this.planChanges.next(signal),
    };
  }

  private lead(): void {
    if (this.leading || this.stopped) return;
    this.leading = true;
    this.reads.reset();
    this.options.metrics?.leading(true);
    this.log.info('leading: reconciling plans', { identity: this.identity });
    this.queue = new WorkQueue({
      concurrency: this.options.concurrency ?? ROUTINE_CONCURRENCY,
      urgentConcurrency: URGENT_CONCURRENCY,
      // A plan that must roll back retries a failing API server every few seconds at worst;
      // client-go's much longer caps would let a 500 storm keep bad traffic flowing.
      backoffMaxMs: 5_000,
      reconcile: async (key, signal, preempt) => {
        const plan = parsePlanKey(key);
        const started = performance.now();
        const seconds = (): number => (performance.now() - started) / 1000;
        let result: Awaited<ReturnType<typeof reconcilePlan>>;
        try {
          result = await reconcilePlan(this.deps, plan, signal, preempt);
        } catch (error) {
          // Giving way to urgent work, or to a new leader, is not a failure of the plan.
          if (!(error instanceof LostLeadership || error instanceof Preempted || preempt.aborted)) this.options.metrics?.reconciled('error', seconds());
          throw error;
        }
        this.options.metrics?.reconciled('success', seconds());
        if (result.gone) {
          this.targetIndex.remove(key);
          this.backendIndex.remove(key);
          return undefined;
        }
        return result.requeueAfterMs === undefined ? undefined : { requeueAfterMs: result.requeueAfterMs };
      },
      onError: (key, error, attempt, retryInMs) => {
        if (error instanceof LostLeadership) return;
        this.log.warn('reconcile failed', { plan: key, attempt, retryInMs, error: String(error) });
      },
    });
    this.queue.start();
    for (const obj of this.planInformer?.list() ?? []) this.queue.add(objectKey(obj.metadata));
  }

  private async follow(graceful: boolean): Promise<void> {
    const queue = this.queue;
    this.queue = undefined;
    if (this.leading) this.log.info(graceful ? 'stopping: finishing reconciles in flight' : 'lost the lease: stopped writing', { identity: this.identity });
    this.leading = false;
    this.options.metrics?.leading(false);
    await queue?.stop(graceful);
  }

  private indexTargets(plan: PlanRef, targets: readonly Target[]): void {
    const keys: string[] = [];
    for (const target of targets) {
      for (const ref of targetObjects(plan.namespace, target)) {
        keys.push(`${resourceKey(ref)}/${ref.namespace}/${ref.name}`);
        this.watchTargets({ group: ref.group, version: ref.version, plural: ref.plural });
      }
    }
    this.targetIndex.set(planKey(plan), keys);
    this.indexBackends(plan, targets);
  }

  /** The readiness gate's backends: a change to their EndpointSlices (or Pods) wakes the plan. */
  private indexBackends(plan: PlanRef, targets: readonly Target[]): void {
    const services: string[] = [];
    const selectors: Array<{ namespace: string; selector: Record<string, string> }> = [];
    const cached = (ref: ResourceRef): KubeObject | undefined => this.deps.cachedTarget?.(ref);
    for (const target of targets) {
      const backends = backendServices(plan.namespace, target, cached);
      for (const b of [...backends.canary, ...backends.stable]) {
        if (b.kind === 'service') services.push(`${b.namespace}/${b.name}`);
        else if (b.kind === 'pods') selectors.push({ namespace: b.namespace, selector: b.selector });
      }
    }
    this.backendIndex.set(planKey(plan), services, selectors);
    if (services.length > 0) this.watchEndpointSlices();
    if (selectors.length > 0) this.watchPods();
  }

  /** A plan or target object as its watch holds it. */
  private cachedObject(ref: ResourceRef): KubeObject | undefined {
    if (ref.namespace === undefined || ref.name === undefined) return undefined;
    const key = `${ref.namespace}/${ref.name}`;
    const plans = plansResource();
    if (ref.plural === plans.plural && ref.group === plans.group) return this.planInformer?.get(key) as KubeObject | undefined;
    return this.targetInformers.get(resourceKey(ref))?.get(key) as KubeObject | undefined;
  }

  slicesOf(namespace: string, service: string): readonly unknown[] | undefined {
    const informer = this.sliceInformer;
    if (informer === undefined || !informer.hasSynced) return undefined;
    const out: unknown[] = [];
    for (const key of this.serviceSlices.get(`${namespace}/${service}`) ?? []) {
      const slice = informer.get(key);
      if (slice !== undefined) out.push(slice);
    }
    return out;
  }

  podsMatching(namespace: string, selector: Readonly<Record<string, string>>): readonly unknown[] | undefined {
    const informer = this.podInformer;
    if (informer === undefined || !informer.hasSynced) return undefined;
    const wanted = Object.entries(selector);
    return informer.list().filter((pod) => {
      const meta = pod.metadata as { namespace?: string; labels?: Record<string, string> };
      return meta.namespace === namespace && wanted.every(([k, v]) => meta.labels?.[k] === v);
    });
  }

  private indexSlice(key: string, service: string | undefined): void {
    const namespace = key.slice(0, key.indexOf('/'));
    const before = this.sliceServices.get(key);
    if (before === service) return;
    if (before !== undefined) {
      const slices = this.serviceSlices.get(`${namespace}/${before}`);
      slices?.delete(key);
      if (slices?.size === 0) this.serviceSlices.delete(`${namespace}/${before}`);
      this.sliceServices.delete(key);
    }
    if (service === undefined) return;
    this.sliceServices.set(key, service);
    let slices = this.serviceSlices.get(`${namespace}/${service}`);
    if (!slices) this.serviceSlices.set(`${namespace}/${service}`, (slices = new Set()));
    slices.add(key);
  }

  private namespaced(ref: ResourceRef): ResourceRef {
    const ns = this.options.namespace;
    return ns === undefined ? ref : { ...ref, namespace: ns };
  }

  private wake(plans: readonly string[]): void {
    for (const plan of plans) this.queue?.add(plan);
  }

  private watchEndpointSlices(): void {
    if (this.sliceInformer) return;
    this.sliceInformer = new Informer<CachedObject>(kubeSource(this.kube, this.namespaced(ENDPOINT_SLICES), { labelSelector: SERVICE_NAME_LABEL }), {
      resyncMs: 0,
      normalize: withoutManagedFields,
      onChange: (key, obj, change) => {
        if (change === 'resync') return;
        const namespace = key.slice(0, key.indexOf('/'));
        const service = (obj?.metadata as { labels?: Record<string, string> } | undefined)?.labels?.[SERVICE_NAME_LABEL] ?? this.sliceServices.get(key);
        this.indexSlice(key, change === 'deleted' ? undefined : service);
        if (service !== undefined) this.wake(this.backendIndex.plansForService(namespace, service));
      },
      onError: (error, retryInMs) => this.log.warn('endpointslice watch failed', { error: String(error), retryInMs }),
    });
    void this.sliceInformer.start();
  }

  /** Only while some plan uses the service provider: Pods are many, and most plans never count them. */
  private watchPods(): void {
    if (this.podInformer || !this.backendIndex.anySelectors) return;
    this.podInformer = new Informer<CachedObject>(kubeSource(this.kube, this.namespaced(PODS)), {
      resyncMs: 0,
      normalize: withoutManagedFields,
      onChange: (key, obj, change) => {
        if (change === 'resync') return;
        const namespace = key.slice(0, key.indexOf('/'));
        const labels = (obj?.metadata as { labels?: Record<string, string> } | undefined)?.labels;
        this.wake(this.backendIndex.plansForPod(namespace, obj === undefined ? undefined : (labels ?? {})));
      },
      onError: (error, retryInMs) => this.log.warn('pod watch failed', { error: String(error), retryInMs }),
    });
    void this.podInformer.start();
  }

  /** Starts one informer per target kind on first use, so a hand edit wakes its plans at once. */
  private watchTargets(ref: ResourceRef): void {
    const kind = resourceKey(ref);
    if (this.targetInformers.has(kind)) return;
    const ns = this.options.namespace;
    const informer = new Informer<CachedObject>(kubeSource(this.kube, ns === undefined ? ref : { ...ref, namespace: ns }), {
      resyncMs: 0,
      normalize: withoutManagedFields,
      // Not for our own weight writes: the reconcile that made one judged what the server answered.
      onChange: (key, obj, change) => {
        if (change === 'resync') return;
        const wake = (): void => {
          for (const planKey of this.targetIndex.plansFor(`${kind}/${key}`)) this.queue?.add(planKey);
        };
        if (change === 'deleted') {
          this.reads.forget(`${kind}/${key}`);
          wake();
        } else this.reads.unlessEcho(`${kind}/${key}`, obj, wake);
      },
      onError: (error, retryInMs) => this.log.warn('target watch failed', { resource: kind, error: String(error), retryInMs }),
    });
    this.targetInformers.set(kind, informer);
    void informer.start();
  }
}

/** How long a plan answered by a steering write stands in for a fresh read. */
const WRITTEN_PLAN_FRESH_MS = 1000;

/** Plans reconciled at once for routine work: rounds are mostly waiting on checks' HTTP answers. */
export const ROUTINE_CONCURRENCY = 16;
/** Workers only rollbacks and deletions may use, so routine work never delays them. */
export const URGENT_CONCURRENCY = 8;

/** A plan whose next reconcile puts traffic back on stable: a rollback request not yet handled,
 * or a deletion that waits on our finalizer. Read from the cached object, so cheap. */
export function needsUrgentWork(obj: CachedObject): boolean {
  const meta = obj.metadata as { deletionTimestamp?: string; finalizers?: string[]; annotations?: Record<string, string> };
  if (meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).includes(FINALIZER)) return true;
  const requested = meta.annotations?.[REQUEST_ANNOTATIONS.rollback];
  if (requested === undefined) return false;
  const handled = (obj as { status?: { handledRequests?: { rollback?: string } } }).status?.handledRequests?.rollback;
  return !isHandled(requested, handled);
}

function requestKey(plan: PlanRef, kind: RequestKind, value: string): string {
  return `${planKey(plan)}/${kind}/${value}`;
}
