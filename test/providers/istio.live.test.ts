import { createProvider } from '../../src/providers';
import { virtualServiceRef } from '../../src/providers/istio';
import type { Target } from '../../src/plan/schema';
import { type LiveKube, startLiveKube } from './liveKube';

const target: Target = {
  provider: 'istio',
  istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: 'monolith' }, canaryDestination: { host: 'checkout-svc' } },
};

let live: LiveKube;
beforeAll(async () => {
  live = await startLiveKube(['virtualService']);
  await live.kube.create(virtualServiceRef('shop', ''), {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: {
      hosts: ['checkout.shop.svc.cluster.local'],
      http: [
        { name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: 'monolith' } }] },
        { name: 'primary', route: [{ destination: { host: 'monolith' }, weight: 100 }, { destination: { host: 'checkout-svc' }, weight: 0 }] },
      ],
    },
  });
});
afterAll(async () => live?.stop());

const routes = async () =>
  ((await live.kube.get(virtualServiceRef('shop', 'checkout')))['spec'] as { http: { name: string; route: { destination: { host: string }; weight?: number }[] }[] }).http.map((h) => [
    h.name,
    h.route.map((r) => [r.destination.host, r.weight]),
  ]);

describe('istio provider against an API server', () => {
  it('moves only the named route', async () => {
    const provider = createProvider(live.kube, 'shop', target);
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 0 });
    expect(await provider.write(20)).toStrictEqual({ ok: true, weight: 20 });
    expect(await routes()).toStrictEqual([
      ['admin', [['monolith', undefined]]],
      ['primary', [['monolith', 80], ['checkout-svc', 20]]],
    ]);
    expect(await provider.write(0)).toStrictEqual({ ok: true, weight: 0 });
  });

  it('a missing VirtualService is TargetNotFound; a missing route is TargetInvalid naming it', async () => {
    const gone = createProvider(live.kube, 'shop', { provider: 'istio', istio: { ...target.istio!, virtualService: 'gone' } });
    expect(await gone.read()).toMatchObject({ ok: false, reason: 'TargetNotFound' });
    const noRoute = createProvider(live.kube, 'shop', { provider: 'istio', istio: { ...target.istio!, route: 'canary' } });
    const state = await noRoute.write(10);
    expect(state).toMatchObject({ ok: false, reason: 'TargetInvalid' });
    expect(state.ok || state.message).toContain('spec.http[name=canary]');
  });
});
