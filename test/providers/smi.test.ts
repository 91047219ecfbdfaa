import { buildPatch, readWeight } from '../../src/providers/smi';
import { InvalidWeightError } from '../../src/providers';

const target = { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' };

function split(...backends: { service: string; weight: unknown }[]): unknown {
  return {
    apiVersion: 'split.smi-spec.io/v1alpha4',
    kind: 'TrafficSplit',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { service: 'checkout', backends },
  };
}

describe('smi readWeight', () => {
  it.each([
    ['90/10', split({ service: 'monolith', weight: 90 }, { service: 'checkout-svc', weight: 10 }), 10],
    ['canary first', split({ service: 'checkout-svc', weight: 60 }, { service: 'monolith', weight: 40 }), 60],
    ['relative 1:1', split({ service: 'monolith', weight: 1 }, { service: 'checkout-svc', weight: 1 }), 50],
    ['fractional weights', split({ service: 'monolith', weight: 0.75 }, { service: 'checkout-svc', weight: 0.25 }), 25],
    ['a third backend at 0', split({ service: 'monolith', weight: 100 }, { service: 'legacy', weight: 0 }, { service: 'checkout-svc', weight: 0 }), 0],
  ])('%s -> %i', (_name, obj, weight) => {
    expect(readWeight(obj, target, 'shop')).toStrictEqual({ ok: true, weight });
  });

  it.each([
    ['the canary backend missing', split({ service: 'monolith', weight: 100 }), 'TrafficSplit shop/checkout: spec.backends has no backend for checkout-svc'],
    ['both missing', split({ service: 'x', weight: 100 }), 'TrafficSplit shop/checkout: spec.backends has no backend for monolith and checkout-svc'],
    ['a weight that is a string', split({ service: 'monolith', weight: '100' }, { service: 'checkout-svc', weight: 0 }), 'TrafficSplit shop/checkout: spec.backends[0].weight: Invalid input: expected number, received string'],
    ['a third backend takes traffic', split({ service: 'monolith', weight: 50 }, { service: 'checkout-svc', weight: 25 }, { service: 'legacy', weight: 25 }), 'TrafficSplit shop/checkout: spec.backends[2] sends traffic to legacy besides monolith and checkout-svc; set its weight to 0 or move it elsewhere'],
    ['the canary listed twice', split({ service: 'monolith', weight: 50 }, { service: 'checkout-svc', weight: 25 }, { service: 'checkout-svc', weight: 25 }), 'TrafficSplit shop/checkout: spec.backends lists checkout-svc 2 times'],
    ['both weights 0', split({ service: 'monolith', weight: 0 }, { service: 'checkout-svc', weight: 0 }), 'TrafficSplit shop/checkout: spec.backends gives monolith and checkout-svc both weight 0, which splits no traffic'],
  ])('%s -> TargetInvalid', (_name, obj, message) => {
    expect(readWeight(obj, target, 'shop')).toStrictEqual({ ok: false, reason: 'TargetInvalid', message });
  });
});

describe('smi buildPatch', () => {
  it('sets both weights, each guarded by a test of its service name', () => {
    const obj = split({ service: 'legacy', weight: 0 }, { service: 'checkout-svc', weight: 0 }, { service: 'monolith', weight: 100 });
    expect(buildPatch(obj, target, 'shop', 5)).toStrictEqual({
      ok: true,
      patch: [
        { op: 'test', path: '/spec/backends/2/service', value: 'monolith' },
        { op: 'test', path: '/spec/backends/1/service', value: 'checkout-svc' },
        { op: 'add', path: '/spec/backends/2/weight', value: 95 },
        { op: 'add', path: '/spec/backends/1/weight', value: 5 },
      ],
    });
  });

  it('a duplicated canary blocks any weight but 0; 0 zeroes every canary entry', () => {
    const obj = split({ service: 'monolith', weight: 50 }, { service: 'checkout-svc', weight: 25 }, { service: 'checkout-svc', weight: 25 });
    expect(buildPatch(obj, target, 'shop', 10)).toMatchObject({ ok: false, reason: 'TargetInvalid' });
    expect(buildPatch(obj, target, 'shop', 0)).toStrictEqual({
      ok: true,
      patch: [
        { op: 'test', path: '/spec/backends/0/service', value: 'monolith' },
        { op: 'test', path: '/spec/backends/1/service', value: 'checkout-svc' },
        { op: 'test', path: '/spec/backends/2/service', value: 'checkout-svc' },
        { op: 'add', path: '/spec/backends/0/weight', value: 100 },
        { op: 'add', path: '/spec/backends/1/weight', value: 0 },
        { op: 'add', path: '/spec/backends/2/weight', value: 0 },
      ],
    });
  });

  it.each([-1, 101, 33.3])('refuses weight %p', (w) => {
    expect(() => buildPatch(split(), target, 'shop', w)).toThrow(InvalidWeightError);
  });

  it('stable + canary = 100 for every weight', () => {
    const obj = split({ service: 'monolith', weight: 100 }, { service: 'checkout-svc', weight: 0 });
    for (let w = 0; w <= 100; w++) {
      const plan = buildPatch(obj, target, 'shop', w);
      if (!plan.ok) throw new Error(plan.message);
      expect(plan.patch.flatMap((op) => (op.op === 'add' ? [op.value as number] : []))).toStrictEqual([100 - w, w]);
    }
  });
});
