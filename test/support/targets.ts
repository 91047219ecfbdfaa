// Target objects for each provider, and a recorder that watches them and keeps every canary
// weight they ever held, in order: tests assert on what traffic saw, not on which calls ran.
import { Watch } from '@kubernetes/client-node';
import { resourcePath, type KubeObject, type ResourceRef } from '../../src/kube';
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
  plans: { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans' },
} as const satisfies Record<string, ResourceRef>;

function ingress(name: string, svc: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, annotations },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  };
}

/** A target of each provider, named after `base`, and the objects it needs. */
export function targetFixture(provider: Target['provider'], base: string): { target: Target; objects: Array<{ ref: ResourceRef; body: KubeObject }> } {
  switch (provider) {
    case 'nginx':
      return {
        target: { provider, nginx: { ingress: base, canaryIngress: `${base}-canary` } },
        objects: [
          { ref: REFS.ingresses, body: ingress(base, 'monolith') },
          { ref: REFS.ingresses, body: ingress(`${base}-canary`, 'checkout-svc', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' }) },
        ],
      };
    case 'gatewayAPI':
      return {
        target: { provider, gatewayAPI: { httpRoute: base, stableBackend: 'monolith', canaryBackend: 'checkout-svc' } },
        objects: [{
          ref: REFS.httproutes,
          body: {
            apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: base },
            spec: {
              parentRefs: [{ name: 'public-gateway' }],
              rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'monolith', port: 80, weight: 100 }, { name: 'checkout-svc', port: 80, weight: 0 }] }],
            },
          },
        }],
      };
    case 'istio':
      return {
        target: { provider, istio: { virtualService: base, route: 'primary', stableDestination: { host: 'monolith' }, canaryDestination: { host: 'checkout-svc' } } },
        objects: [{
          ref: REFS.virtualservices,
          body: {
            apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: base },
            spec: {
              hosts: ['checkout.shop.svc.cluster.local'],
              http: [{ name: 'primary', route: [{ destination: { host: 'monolith' }, weight: 100 }, { destination: { host: 'checkout-svc' }, weight: 0 }] }],
            },
          },
        }],
      };
    case 'smi':
      return {
        target: { provider, smi: { trafficSplit: base, stableBackend: 'monolith', canaryBackend: 'checkout-svc' } },
        objects: [{
          ref: REFS.trafficsplits,
          body: {
            apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: base },
            spec: { service: 'checkout', backends: [{ service: 'monolith', weight: 100 }, { service: 'checkout-svc', weight: 0 }] },
          },
        }],
      };
    case 'service':
      return {
        target: { provider, service: { name: base, stableSelector: { app: 'monolith' }, canarySelector: { app: 'checkout-svc' } } },
        objects: [{
          ref: REFS.services,
          body: { apiVersion: 'v1', kind: 'Service', metadata: { name: base }, spec: { selector: { app: 'monolith' }, ports: [{ port: 80, targetPort: 8080 }] } },
        }],
      };
  }
}

export async function createObjects(cluster: TestCluster, objects: Array<{ ref: ResourceRef; body: KubeObject }>): Promise<void> {
  for (const o of objects) await cluster.kube.create({ ...o.ref, namespace: cluster.namespace }, o.body);
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

  async start(): Promise<void> {
    this.stopped = false;
    await this.watchFromNow();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private async watchFromNow(): Promise<void> {
    const { ref, name } = writtenObject(this.target);
    const path = resourcePath({ ...ref, namespace: this.cluster.namespace });
    const current = await this.cluster.kube.get({ ...ref, namespace: this.cluster.namespace, name });
    this.observe(current);
    const rv = (current['metadata'] as { resourceVersion: string }).resourceVersion;
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
