import { createProvider } from '../../src/providers';
import { trafficSplitRef } from '../../src/providers/smi';
import type { Target } from '../../src/plan/schema';
import { type LiveKube, startLiveKube } from './liveKube';

const target: Target = { provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } };

let live: LiveKube;
beforeAll(async () => {
  live = await startLiveKube(['trafficSplit']);
  await live.kube.create(trafficSplitRef('shop', ''), {
    apiVersion: 'split.smi-spec.io/v1alpha4',
    kind: 'TrafficSplit',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { service: 'checkout', backends: [{ service: 'monolith', weight: 100 }, { service: 'checkout-svc', weight: 0 }] },
  });
});
afterAll(async () => live.stop());

const backends = async () => ((await live.kube.get(trafficSplitRef('shop', 'checkout')))['spec'] as { backends: unknown[] }).backends;

describe('smi provider against an API server', () => {
  it('reads and writes the two backend weights', async () => {
    const provider = createProvider(live.kube, 'shop', target);
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 0 });
    expect(await provider.write(30)).toStrictEqual({ ok: true, weight: 30 });
    expect(await backends()).toStrictEqual([{ service: 'monolith', weight: 70 }, { service: 'checkout-svc', weight: 30 }]);
    expect(await provider.write(0)).toStrictEqual({ ok: true, weight: 0 });
    expect(await backends()).toStrictEqual([{ service: 'monolith', weight: 100 }, { service: 'checkout-svc', weight: 0 }]);
  });

  it('a missing TrafficSplit is TargetNotFound', async () => {
    const provider = createProvider(live.kube, 'shop', { provider: 'smi', smi: { ...target.smi!, trafficSplit: 'gone' } });
    expect(await provider.read()).toMatchObject({ ok: false, reason: 'TargetNotFound' });
  });
});
