import { KubeError } from '../../src/kube';
import { createProvider } from '../../src/providers';
import { buildPatch, httpRouteRef } from '../../src/providers/gatewayApi';
import type { Target } from '../../src/plan/schema';
import { type LiveKube, startLiveKube } from './liveKube';

const target: Target = { provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } };
const routeSpec = {
  parentRefs: [{ name: 'gw' }],
  rules: [
    { matches: [{ path: { type: 'PathPrefix', value: '/admin' } }], backendRefs: [{ name: 'monolith', port: 80 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'monolith', port: 80, weight: 100 }, { name: 'checkout-svc', port: 8080, weight: 0 }] },
  ],
};

let live: LiveKube;
beforeAll(async () => {
  live = await startLiveKube(['httpRoute']);
  await live.kube.create(httpRouteRef('shop', ''), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'checkout', namespace: 'shop' }, spec: routeSpec });
});
afterAll(async () => live.stop());

const stored = async () => {
  const obj = await live.kube.get(httpRouteRef('shop', 'checkout'));
  return (obj['spec'] as { rules: { backendRefs: { name: string; weight?: number }[] }[] }).rules.map((r) => r.backendRefs.map((b) => [b.name, b.weight]));
};

describe('gatewayAPI provider against an API server', () => {
  it('reads 0, writes weights by JSON patch, and leaves the single-backend rule alone (its weight is the CRD default 1)', async () => {
    const provider = createProvider(live.kube, 'shop', target);
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 0 });
    expect(await provider.write(25)).toStrictEqual({ ok: true, weight: 25 });
    expect(await stored()).toStrictEqual([[['monolith', 1]], [['monolith', 75], ['checkout-svc', 25]]]);
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 25 });
    expect(await provider.write(0)).toStrictEqual({ ok: true, weight: 0 });
    expect(await stored()).toStrictEqual([[['monolith', 1]], [['monolith', 100], ['checkout-svc', 0]]]);
  });

  it('a patch built before a concurrent reorder is refused (422) and changes nothing', async () => {
    const before = await live.kube.get(httpRouteRef('shop', 'checkout'));
    const plan = buildPatch(before, target.gatewayAPI!, 'shop', 50);
    if (!plan.ok) throw new Error(plan.message);
    // Someone swaps the two backendRefs of rule 1 (a merge patch replaces the whole list).
    await live.kube.mergePatch(httpRouteRef('shop', 'checkout'), {
      spec: { rules: [routeSpec.rules[0], { ...routeSpec.rules[1], backendRefs: [{ name: 'checkout-svc', port: 8080, weight: 10 }, { name: 'monolith', port: 80, weight: 90 }] }] },
    });
    const err = await live.kube.jsonPatch(httpRouteRef('shop', 'checkout'), plan.patch).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ status: 422 });
    expect(await stored()).toStrictEqual([[['monolith', 1]], [['checkout-svc', 10], ['monolith', 90]]]);
    // A fresh write reads the new order and lands.
    expect(await createProvider(live.kube, 'shop', target).write(50)).toStrictEqual({ ok: true, weight: 50 });
    expect(await stored()).toStrictEqual([[['monolith', 1]], [['checkout-svc', 50], ['monolith', 50]]]);
  });

  it('a missing HTTPRoute is TargetNotFound on read and write', async () => {
    const missing = createProvider(live.kube, 'shop', { provider: 'gatewayAPI', gatewayAPI: { ...target.gatewayAPI!, httpRoute: 'nope' } });
    for (const state of [await missing.read(), await missing.write(0)]) {
      expect(state).toMatchObject({ ok: false, reason: 'TargetNotFound' });
      expect(state.ok || state.message).toMatch(/^HTTPRoute shop\/nope not found/);
    }
  });

  it('a 500 propagates as a KubeError, never as TargetNotFound', async () => {
    const fault = live.server.faults.inject({ match: { resource: 'httproutes', name: 'checkout' }, respond: { status: 500, message: 'etcd down' }, times: 1 });
    try {
      await expect(createProvider(live.kube, 'shop', target).read()).rejects.toMatchObject({ status: 500 });
    } finally {
      fault.remove();
    }
  });
});
