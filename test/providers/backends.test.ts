// Which backends each provider sends canary and stable traffic to: the readiness gate counts
// their ready endpoints. Pure: nginx reads its Ingresses through a look-up, the others need only
// the plan's target.
import { backendServices, type BackendRef, type LiveLookup } from '../../src/providers';
import { hostBackend } from '../../src/providers/istio';
import { ingressServices } from '../../src/providers/nginx';
import type { Target } from '../../src/plan/schema';
import type { KubeObject } from '../../src/kube';

const NS = 'shop';
const svc = (name: string, namespace = NS): BackendRef => ({ kind: 'service', namespace, name });

function ingress(name: string, services: string[], defaultBackend?: string): KubeObject {
  return {
    metadata: { name, namespace: NS },
    spec: {
      ...(defaultBackend ? { defaultBackend: { service: { name: defaultBackend, port: { number: 80 } } } } : {}),
      rules: [{ host: 'shop.example.com', http: { paths: services.map((s, i) => ({ path: `/${i}`, pathType: 'Prefix', backend: { service: { name: s, port: { number: 80 } } } })) } }],
    },
  };
}

const ingresses: Record<string, KubeObject> = {
  checkout: ingress('checkout', ['monolith', 'monolith'], 'fallback'),
  'checkout-canary': ingress('checkout-canary', ['checkout-v2']),
};
const live: LiveLookup = (ref) => (ref.plural === 'ingresses' && ref.namespace === NS ? ingresses[ref.name ?? ''] : undefined);
const nothing: LiveLookup = () => undefined;

const istio = (stable: string, canary: string): Target => ({
  provider: 'istio',
  istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: stable }, canaryDestination: { host: canary, subset: 'v2' } },
});

const rows: Array<{ name: string; target: Target; lookup?: LiveLookup; canary: BackendRef[]; stable: BackendRef[] }> = [
  {
    name: 'nginx: the canary Ingress\'s Services and the stable Ingress\'s (default backend included, each once)',
    target: { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }, lookup: live,
    canary: [svc('checkout-v2')], stable: [svc('fallback'), svc('monolith')],
  },
  {
    name: 'nginx: Ingresses not (yet) seen name no backend',
    target: { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }, lookup: nothing,
    canary: [], stable: [],
  },
  {
    name: 'gatewayAPI: the backendRefs\' Services in the route\'s namespace',
    target: { provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-v2' } },
    canary: [svc('checkout-v2')], stable: [svc('monolith')],
  },
  {
    name: 'istio: short hosts are Services in the VirtualService\'s namespace',
    target: istio('monolith', 'checkout-v2'), canary: [svc('checkout-v2')], stable: [svc('monolith')],
  },
  {
    name: 'istio: <svc>.<ns>.svc.cluster.local and <svc>.<ns>.svc are Services in <ns>',
    target: istio('monolith.legacy.svc.cluster.local', 'checkout-v2.shop-next.svc'), canary: [svc('checkout-v2', 'shop-next')], stable: [svc('monolith', 'legacy')],
  },
  {
    name: 'istio: any other host is outside the cluster',
    target: istio('monolith', 'checkout.example.com'),
    canary: [{ kind: 'external', name: 'checkout.example.com', message: 'host checkout.example.com is no Service of the cluster: no endpoints to count' }],
    stable: [svc('monolith')],
  },
  {
    name: 'smi: the TrafficSplit\'s backend Services',
    target: { provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-v2' } },
    canary: [svc('checkout-v2')], stable: [svc('monolith')],
  },
  {
    name: 'service: the Pods each selector picks',
    target: { provider: 'service', service: { name: 'checkout', stableSelector: { app: 'v1' }, canarySelector: { app: 'v2', track: 'green' } } },
    canary: [{ kind: 'pods', namespace: NS, name: 'checkout', selector: { app: 'v2', track: 'green' } }],
    stable: [{ kind: 'pods', namespace: NS, name: 'checkout', selector: { app: 'v1' } }],
  },
];

describe('backendServices', () => {
  it.each(rows)('$name', ({ target, lookup, canary, stable }) => {
    const backends = backendServices(NS, target, lookup ?? nothing);
    expect(backends.canary).toEqual(canary);
    expect([...backends.stable].sort((a, b) => a.name.localeCompare(b.name))).toEqual(stable);
  });

  it('reads every Service an Ingress names, and none from something that is no Ingress', () => {
    expect(ingressServices(ingresses['checkout'])).toEqual(['fallback', 'monolith']);
    expect(ingressServices({ spec: { rules: [{ host: 'x' }] } })).toEqual([]);
    expect(ingressServices('not an object')).toEqual([]);
  });

  it.each([
    ['checkout', svc('checkout')],
    ['checkout.shop.svc.cluster.local', svc('checkout')],
    ['checkout.other.svc', svc('checkout', 'other')],
    ['checkout.other', { kind: 'external', name: 'checkout.other', message: 'host checkout.other is no Service of the cluster: no endpoints to count' }],
    ['*.example.com', { kind: 'external', name: '*.example.com', message: 'host *.example.com is no Service of the cluster: no endpoints to count' }],
  ] as Array<[string, BackendRef]>)('istio host %s', (host, expected) => {
    expect(hostBackend(NS, host)).toEqual(expected);
  });
});
