// Target objects for each provider, and a recorder that watches them and keeps every canary
// weight they ever held, in order: tests assert on what traffic saw, not on which calls ran.
import { Watch } from '@kubernetes/client-node';
import { isConflict, resourcePath, type KubeObject, type ResourceRef } from '../../src/kube';
import { API_VERSION, KIND, type Target } from '../../src/plan/schema';
import * as gatewayApi from '../../src/providers/gatewayApi';
import * as istio from '../../src/providers/istio';
import * as nginx from '../../src/providers/nginx';
import * as service from '../../src/providers/service';
import * as smi from '../../src/providers/smi';
import type { TestCluster } from './cluster';

export const REFS = {
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' },
  httproutes: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
  virtualservices: { group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices' },
  trafficsplits: { group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits' },
  services: { group: '', version: 'v1', plural: 'services' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
  pods: { group: '', version: 'v1', plural: 'pods' },
  plans: { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans' },
} as const satisfies Record<string, ResourceRef>;

function ingress(name: string, svc: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, annotations },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  };
}

/** An object a fixture needs. `shared`: a backend several targets of a test may name, created once
 * (AlreadyExists is fine). `status`: written through the status subresource after the create, as
 * a kubelet would (a create ignores status). */
export interface FixtureObject {
  ref: ResourceRef;
  body: KubeObject;
  shared?: boolean;
  status?: Record<string, unknown>;
}

export interface BackendOptions {
  stable?: string;
  canary?: string;
  /** Ready endpoints (service provider: ready Pods) of each side; 1 when not given. */
  stableReady?: number;
  canaryReady?: number;
}

/** A ready EndpointSlice as the EndpointSlice controller would write it (the test's servers run none). */
export function endpointSlice(service: string, ready: number, notReady = 0): KubeObject {
  const octet = [...service].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 250, 7) + 1;
  const endpoint = (i: number, isReady: boolean) => ({ addresses: [`10.244.${octet}.${i + 1}`], conditions: { ready: isReady } });
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${service}-slice`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [...Array.from({ length: ready }, (_, i) => endpoint(i, true)), ...Array.from({ length: notReady }, (_, i) => endpoint(ready + i, false))],
  };
}

/** A backend Service with `ready` ready endpoints. */
export function backendObjects(service: string, ready = 1): FixtureObject[] {
  return [
    { ref: REFS.services, shared: true, body: { apiVersion: 'v1', kind: 'Service', metadata: { name: service }, spec: { selector: { app: service }, ports: [{ port: 80, targetPort: 8080 }] } } },
    { ref: REFS.endpointslices, shared: true, body: endpointSlice(service, ready) },
  ];
}

/** `count` Pods labelled app=<app>, Ready as a kubelet would report them. */
export function podObjects(app: string, count = 1): FixtureObject[] {
  return Array.from({ length: count }, (_, i) => ({
    ref: REFS.pods,
    shared: true,
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-${i}`, labels: { app } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }));
}

/** A target of each provider, named after `base`, and the objects it needs: the route and its
 * backends, each with ready endpoints (the readiness gate holds a plan whose canary has none). */
export function targetFixture(provider: Target['provider'], base: string, options: BackendOptions = {}): { target: Target; objects: FixtureObject[] } {
  const stable = options.stable ?? 'monolith';
  const canary = options.canary ?? 'checkout-svc';
  const fixture = routeFixture(provider, base, stable, canary);
  const backends =
    provider === 'service'
      ? [...podObjects(stable, options.stableReady ?? 1), ...podObjects(canary, options.canaryReady ?? 1)]
      : [...backendObjects(stable, options.stableReady ?? 1), ...backendObjects(canary, options.canaryReady ?? 1)];
  return { target: fixture.target, objects: [...fixture.objects, ...backends] };
}

function routeFixture(provider: Target['provider'], base: string, stable: string, canary: string): { target: Target; objects: FixtureObject[] } {
  switch (provider) {
    case 'nginx':
      return {
        target: { provider, nginx: { ingress: base, canaryIngress: `${base}-canary` } },
        objects: [
          { ref: REFS.ingresses, body: ingress(base, stable) },
          { ref: REFS.ingresses, body: ingress(`${base}-canary`, canary, { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' }) },
        ],
      };
    case 'gatewayAPI':
      return {
        target: { provider, gatewayAPI: { httpRoute: base, stableBackend: stable, canaryBackend: canary } },
        objects: [{
          ref: REFS.httproutes,
          body: {
            apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: base },
            spec: {
              parentRefs: [{ name: 'public-gateway' }],
              rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: stable, port: 80, weight: 100 }, { name: canary, port: 80, weight: 0 }] }],
            },
          },
        }],
      };
    case 'istio':
      return {
        target: { provider, istio: { virtualService: base, route: 'primary', stableDestination: { host: stable }, canaryDestination: { host: canary } } },
        objects: [{
          ref: REFS.virtualservices,
          body: {
            apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: base },
            spec: {
              hosts: ['checkout.shop.svc.cluster.local'],
              http: [{ name: 'primary', route: [{ destination: { host: stable }, weight: 100 }, { destination: { host: canary }, weight: 0 }] }],
            },
          },
        }],
      };
    case 'smi':
      return {
        target: { provider, smi: { trafficSplit: base, stableBackend: stable, canaryBackend: canary } },
        objects: [{
          ref: REFS.trafficsplits,
          body: {
            apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: base },
            spec: { service: 'checkout', backends: [{ service: stable, weight: 100 }, { service: canary, weight: 0 }] },
          },
        }],
      };
    case 'service':
      return {
        target: { provider, service: { name: base, stableSelector: { app: stable }, canarySelector: { app: canary } } },
        objects: [{
          ref: REFS.services,
          body: { apiVersion: 'v1', kind: 'Service', metadata: { name: base }, spec: { selector: { app: stable }, ports: [{ port: 80, targetPort: 8080 }] } },
        }],
      };
  }
}

export async function createObjects(cluster: TestCluster, objects: FixtureObject[]): Promise<void> {
  for (const o of objects) {
    const ref = { ...o.ref, namespace: cluster.namespace };
    let created: KubeObject;
    try {
      created = await cluster.kube.create(ref, o.body);
    } catch (error) {
      if (o.shared && isConflict(error)) continue;
      throw error;
    }
    if (o.status) {
      const name = (created['metadata'] as { name: string }).name;
      await cluster.kube.replace({ ...ref, name }, { ...created, status: { ...(created['status'] as object | undefined), ...o.status } }, { subresource: 'status' });
    }
  }
}

/** Sets a backend Service's ready endpoints, as the EndpointSlice controller would after Pods
 * became ready (or stopped being). */
export async function setReadyEndpoints(cluster: TestCluster, service: string, ready: number, notReady = 0): Promise<void> {
  const ref = { ...REFS.endpointslices, namespace: cluster.namespace, name: `${service}-slice` };
  const current = await cluster.kube.get(ref);
  await cluster.kube.replace(ref, { ...endpointSlice(service, ready, notReady), metadata: current['metadata'] });
}

/** The canary weight a live object holds, read with the provider's own pure reader. */
export function weightOf(target: Target, namespace: string, obj: unknown): number | undefined {
  let state;
  switch (target.provider) {
    case 'nginx': state = target.nginx ? nginx.readWeight(obj, target.nginx, namespace) : undefined; break;
    case 'gatewayAPI': state = target.gatewayAPI ? gatewayApi.readWeight(obj, target.gatewayAPI, namespace) : undefined; break;
    case 'istio': state = target.istio ? istio.readWeight(obj, target.istio, namespace) : undefined; break;
    case 'smi': state = target.smi ? smi.readWeight(obj, target.smi, namespace) : undefined; break;
    case 'service': state = target.service ? service.readWeight(obj, target.service, namespace) : undefined; break;
  }
  return state?.ok ? state.weight : undefined;
}

/** The object whose weight the target writes (nginx: the canary Ingress). */
export function writtenObject(target: Target): { ref: ResourceRef; name: string } {
  switch (target.provider) {
    case 'nginx': return { ref: REFS.ingresses, name: target.nginx?.canaryIngress ?? '' };
    case 'gatewayAPI': return { ref: REFS.httproutes, name: target.gatewayAPI?.httpRoute ?? '' };
    case 'istio': return { ref: REFS.virtualservices, name: target.istio?.virtualService ?? '' };
    case 'smi': return { ref: REFS.trafficsplits, name: target.smi?.trafficSplit ?? '' };
    case 'service': return { ref: REFS.services, name: target.service?.name ?? '' };
  }
}

/** Watches one target's object and records each distinct weight it holds, in order. A watch that
 * breaks (a dropped connection, a 410 after compaction) is picked up again from a fresh GET, so
 * the recorder keeps going through the faults a test injects. */
export class WeightRecorder {
  readonly weights: number[] = [];
  writes = 0;
  private controller: AbortController | undefined;
  private lastRv = '';
  private stopped = false;

  constructor(private readonly cluster: TestCluster, readonly target: Target) {}

  /** `beforeCreation`: the object does not exist yet, and every version it will have, from its
   * creation on, is recorded: the watch starts at the version of a list taken now. Otherwise the
   * recording starts at the object as it is now. */
  async start(options: { beforeCreation?: boolean } = {}): Promise<void> {
    this.stopped = false;
    if (options.beforeCreation) {
      const { ref, name } = writtenObject(this.target);
      const list = await this.cluster.kube.list({ ...ref, namespace: this.cluster.namespace }, { fieldSelector: `metadata.name=${name}` });
      if (list.items.length > 0) throw new Error(`${name} exists already`);
      await this.watchFrom(list.resourceVersion);
      return;
    }
    await this.watchFromNow();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private async watchFromNow(): Promise<void> {
    const { ref, name } = writtenObject(this.target);
    const current = await this.cluster.kube.get({ ...ref, namespace: this.cluster.namespace, name });
    this.observe(current);
    await this.watchFrom((current['metadata'] as { resourceVersion: string }).resourceVersion);
  }

  private async watchFrom(rv: string): Promise<void> {
    const { ref, name } = writtenObject(this.target);
    const path = resourcePath({ ...ref, namespace: this.cluster.namespace });
    let ended = false;
    const rewatch = (): void => {
      if (ended) return;
      ended = true;
      if (this.stopped) return;
      setTimeout(() => {
        if (!this.stopped) void this.watchFromNow().catch(rewatch);
      }, 20);
    };
    let controller: AbortController | undefined;
    controller = await new Watch(this.cluster.kubeConfig).watch(
      path,
      { fieldSelector: `metadata.name=${name}`, resourceVersion: rv },
      (type, obj) => {
        if (type === 'ADDED' || type === 'MODIFIED') this.observe(obj as KubeObject);
        else if (type === 'ERROR') {
          controller?.abort();
          rewatch();
        }
      },
      () => rewatch(),
    );
    this.controller = controller;
    if (this.stopped) controller.abort();
  }

  get current(): number | undefined {
    return this.weights[this.weights.length - 1];
  }

  private observe(obj: KubeObject): void {
    const rv = (obj['metadata'] as { resourceVersion: string }).resourceVersion;
    if (rv === this.lastRv) return;
    this.lastRv = rv;
    const w = weightOf(this.target, this.cluster.namespace, obj);
    if (w === undefined) return;
    if (this.weights.length > 0) this.writes++;
    if (this.weights[this.weights.length - 1] !== w) this.weights.push(w);
  }
}

export function planObject(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec };
}
