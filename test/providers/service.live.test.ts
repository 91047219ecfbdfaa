import { KubeError } from '../../src/kube';
import { InvalidWeightError, createProvider } from '../../src/providers';
import { buildPatch, serviceRef } from '../../src/providers/service';
import type { Target } from '../../src/plan/schema';
import { type LiveKube, startLiveKube } from './liveKube';

const target: Target = { provider: 'service', service: { name: 'checkout', stableSelector: { app: 'monolith' }, canarySelector: { app: 'checkout-svc', track: 'v2' } } };

let live: LiveKube;
beforeAll(async () => {
  live = await startLiveKube();
  await live.kube.create(serviceRef('shop', ''), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { selector: { app: 'monolith' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
});
afterAll(async () => live.stop());

const selector = async () => ((await live.kube.get(serviceRef('shop', 'checkout')))['spec'] as { selector?: Record<string, string> }).selector;

describe('service provider against an API server', () => {
  it('switches the selector exactly, both ways', async () => {
    const provider = createProvider(live.kube, 'shop', target);
    expect(await provider.read()).toStrictEqual({ ok: true, weight: 0 });
    expect(await provider.write(100)).toStrictEqual({ ok: true, weight: 100 });
    expect(await selector()).toStrictEqual({ app: 'checkout-svc', track: 'v2' });
    expect(await provider.write(0)).toStrictEqual({ ok: true, weight: 0 });
    expect(await selector()).toStrictEqual({ app: 'monolith' });
    await expect(provider.write(50)).rejects.toBeInstanceOf(InvalidWeightError);
  });

  it('a patch computed before a concurrent edit is refused with 409', async () => {
    const before = await live.kube.get(serviceRef('shop', 'checkout'));
    await live.kube.mergePatch(serviceRef('shop', 'checkout'), { metadata: { labels: { edited: 'yes' } } });
    const plan = buildPatch(before, target.service!, 'shop', 100);
    if (!plan.ok) throw new Error(plan.message);
    const err = await live.kube.mergePatch(serviceRef('shop', 'checkout'), plan.patch).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ status: 409, reason: 'Conflict' });
    expect(await selector()).toStrictEqual({ app: 'monolith' });
  });

  it('a missing Service is TargetNotFound', async () => {
    const provider = createProvider(live.kube, 'shop', { provider: 'service', service: { ...target.service!, name: 'gone' } });
    expect(await provider.read()).toMatchObject({ ok: false, reason: 'TargetNotFound' });
    expect(await provider.write(0)).toMatchObject({ ok: false, reason: 'TargetNotFound' });
  });
});
