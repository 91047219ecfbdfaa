import { createProvider } from '../../src/providers';
import { CANARY, CANARY_WEIGHT, ingressRef } from '../../src/providers/nginx';
import type { Target } from '../../src/plan/schema';
import { type LiveKube, startLiveKube } from './liveKube';

const target: Target = { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } };

function ingress(name: string, service: string, annotations: Record<string, string>) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'shop', annotations },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }],
    },
  };
}

let live: LiveKube;
beforeAll(async () => {
  live = await startLiveKube();
  await live.kube.create(ingressRef('shop', ''), ingress('checkout', 'monolith', { owner: 'team-a' }));
  await live.kube.create(ingressRef('shop', ''), ingress('checkout-canary', 'checkout-svc', { owner: 'team-b' }));
});
afterAll(async () => live.stop());

const annotations = async (name: string) => (await live.kube.get(ingressRef('shop', name)))['metadata'] as { annotations?: Record<string, string> };

describe('nginx provider against an API server', () => {
  it('reads 0 from an unmarked canary, writes the canary annotations by merge patch, never touches the stable Ingress', async () => {
    const stableBefore = await live.kube.get(ingressRef('shop', 'checkout'));
    const provider = createProvider(live.kube, 'shop', target);
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 0 });
    expect(await provider.write(5)).toStrictEqual({ ok: true, weight: 5 });
    expect((await annotations('checkout-canary')).annotations).toStrictEqual({ owner: 'team-b', [CANARY]: 'true', [CANARY_WEIGHT]: '5' });
    expect(await provider.write(100)).toStrictEqual({ ok: true, weight: 100 });
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 100 });
    expect(await provider.write(0)).toStrictEqual({ ok: true, weight: 0 });
    expect((await annotations('checkout-canary')).annotations?.[CANARY_WEIGHT]).toBe('0');
    expect(await live.kube.get(ingressRef('shop', 'checkout'))).toStrictEqual(stableBefore);
  });

  it('a missing stable Ingress is TargetNotFound on read, naming it, with the weight the canary Ingress still holds; a write of 0 still lands', async () => {
    const provider = createProvider(live.kube, 'shop', { provider: 'nginx', nginx: { ingress: 'gone', canaryIngress: 'checkout-canary' } });
    await createProvider(live.kube, 'shop', target).write(10);
    const state = await provider.read();
    expect(state).toMatchObject({ ok: false, reason: 'TargetNotFound', weight: 10 });
    expect(state.ok || state.message).toMatch(/^stable Ingress shop\/gone not found/);
    expect(await provider.write(0)).toStrictEqual({ ok: true, weight: 0 });
    expect(await provider.read()).toMatchObject({ ok: false, reason: 'TargetNotFound', weight: 0 });
  });

  it('a missing canary Ingress is TargetNotFound on read and write', async () => {
    const provider = createProvider(live.kube, 'shop', { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'gone' } });
    for (const state of [await provider.read(), await provider.write(10)]) {
      expect(state).toMatchObject({ ok: false, reason: 'TargetNotFound' });
      expect(state.ok || state.message).toMatch(/^canary Ingress shop\/gone not found/);
    }
  });
});
