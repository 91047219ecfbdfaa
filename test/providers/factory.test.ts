import { KubeConfig } from '@kubernetes/client-node';
import { Kube } from '../../src/kube';
import { canaryPercent, createProvider, targetObjects } from '../../src/providers';
import type { Target } from '../../src/plan/schema';

const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
  users: [{ name: 'u' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const kube = new Kube(kc);

describe('createProvider', () => {
  it.each<[Target, string]>([
    [{ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }, 'nginx Ingress shop/checkout-canary'],
    [{ provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'a', canaryBackend: 'b' } }, 'gatewayAPI HTTPRoute shop/checkout'],
    [{ provider: 'istio', istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: 'a' }, canaryDestination: { host: 'b' } } }, 'istio VirtualService shop/checkout route primary'],
    [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'a', canaryBackend: 'b' } }, 'smi TrafficSplit shop/checkout'],
    [{ provider: 'service', service: { name: 'checkout', stableSelector: { app: 'a' }, canarySelector: { app: 'b' } } }, 'service Service shop/checkout'],
  ])('%j -> %s', (target, described) => {
    const provider = createProvider(kube, 'shop', target);
    expect(provider.describe()).toBe(described);
    expect(provider.target).toBe(target);
  });

  it('a target without its provider block is a programming error', () => {
    expect(() => createProvider(kube, 'shop', { provider: 'smi' })).toThrow('target with provider smi has no smi block');
  });
});

describe('canaryPercent', () => {
  it.each([
    [100, 0, 0],
    [0, 100, 100],
    [1, 1, 50],
    [2, 1, 33],
    [1, 2, 67],
    [1000, 1, 1],
    [1, 1000, 99],
    [0.5, 0.5, 50],
  ])('stable %p, canary %p -> %p', (s, c, expected) => {
    expect(canaryPercent(s, c)).toBe(expected);
  });

  it.each([[0, 0], [-1, 2], [Number.NaN, 1]])('stable %p, canary %p split nothing', (s, c) => {
    expect(canaryPercent(s, c)).toBeUndefined();
  });
});

describe('targetObjects', () => {
  it.each<[Target, string[]]>([
    [{ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }, ['networking.k8s.io/v1/ingresses/shop/checkout', 'networking.k8s.io/v1/ingresses/shop/checkout-canary']],
    [{ provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'a', canaryBackend: 'b' } }, ['gateway.networking.k8s.io/v1/httproutes/shop/checkout']],
    [{ provider: 'istio', istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: 'a' }, canaryDestination: { host: 'b' } } }, ['networking.istio.io/v1beta1/virtualservices/shop/checkout']],
    [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'a', canaryBackend: 'b' } }, ['split.smi-spec.io/v1alpha4/trafficsplits/shop/checkout']],
    [{ provider: 'service', service: { name: 'checkout', stableSelector: { app: 'a' }, canarySelector: { app: 'b' } } }, ['/v1/services/shop/checkout']],
    [{ provider: 'smi' }, []],
  ])('%j reads %j', (target, refs) => {
    expect(targetObjects('shop', target).map((r) => `${r.group}/${r.version}/${r.plural}/${r.namespace}/${r.name}`)).toStrictEqual(refs);
  });
});
