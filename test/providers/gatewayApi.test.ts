import { buildPatch, readWeight } from '../../src/providers/gatewayApi';
import { InvalidWeightError } from '../../src/providers';

const target = { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' };

type Ref = { name: string; weight?: number; kind?: string; group?: string; namespace?: string; port?: number };

function route(...rules: Ref[][]): unknown {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'gw' }], rules: rules.map((backendRefs) => ({ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs })) },
  };
}

const stable = (weight?: number): Ref => ({ name: 'monolith', port: 80, ...(weight !== undefined ? { weight } : {}) });
const canary = (weight?: number): Ref => ({ name: 'checkout-svc', port: 8080, ...(weight !== undefined ? { weight } : {}) });

describe('gatewayAPI readWeight', () => {
  it.each([
    ['75/25', route([stable(75), canary(25)]), 25],
    ['100/0', route([stable(100), canary(0)]), 0],
    ['0/100', route([stable(0), canary(100)]), 100],
    ['both weights absent (each defaults to 1)', route([stable(), canary()]), 50],
    ['relative weights 3:1', route([stable(3), canary(1)]), 25],
    ['canary listed first', route([canary(40), stable(60)]), 40],
    ['two agreeing rules', route([stable(90), canary(10)], [canary(1), stable(9)]), 10],
    ['a rule with only the stable backend is ignored', route([stable(100)], [stable(80), canary(20)]), 20],
    ['explicit kind Service and group ""', route([{ ...stable(70), kind: 'Service', group: '' }, canary(30)]), 30],
    ['a third backend with weight 0', route([stable(50), canary(50), { name: 'legacy', weight: 0 }]), 50],
  ])('%s -> %i', (_name, obj, weight) => {
    expect(readWeight(obj, target, 'shop')).toStrictEqual({ ok: true, weight });
  });

  it.each([
    ['2:1 (66.7%) rounds', route([stable(1), canary(2)]), 67],
    ['a share under 1% is reported as 1, never 0', route([stable(999), canary(1)]), 1],
    ['a share over 99% is reported as 99, never 100', route([stable(1), canary(999)]), 99],
  ])('%s -> %i', (_name, obj, weight) => {
    expect(readWeight(obj, target, 'shop')).toStrictEqual({ ok: true, weight });
  });

  it.each([
    ['no rule with both', route([stable(100)], [canary(100)]), 'HTTPRoute shop/checkout has no rule with backendRefs to both monolith and checkout-svc'],
    ['no rules at all', route(), 'HTTPRoute shop/checkout has no rule with backendRefs to both monolith and checkout-svc'],
    ['canary in another namespace is another Service', route([stable(100), { ...canary(0), namespace: 'other' }]), 'HTTPRoute shop/checkout has no rule with backendRefs to both monolith and checkout-svc'],
    ['a non-Service kind is not the backend', route([stable(100), { ...canary(0), kind: 'ServiceImport', group: 'multicluster.x-k8s.io' }]), 'HTTPRoute shop/checkout has no rule with backendRefs to both monolith and checkout-svc'],
    ['rules disagree', route([stable(90), canary(10)], [stable(50), canary(50)]), 'HTTPRoute shop/checkout: rules disagree on the canary weight of checkout-svc (spec.rules[0]: 10%, spec.rules[1]: 50%)'],
    ['both weights 0', route([stable(0), canary(0)]), 'HTTPRoute shop/checkout: spec.rules[0] gives monolith weight 0 and checkout-svc weight 0, which splits no traffic'],
    ['a third backend takes traffic', route([stable(50), canary(25), { name: 'legacy', weight: 25 }]), 'HTTPRoute shop/checkout: spec.rules[0].backendRefs[2] sends traffic to legacy besides monolith and checkout-svc; set its weight to 0 or move it elsewhere'],
    ['the stable backend listed twice', route([stable(50), canary(25), stable(25)]), 'HTTPRoute shop/checkout: spec.rules[0].backendRefs lists monolith 2 times'],
    ['a weight that is not a number', route([{ name: 'monolith', weight: 'x' as unknown as number }, canary(1)]), 'HTTPRoute shop/checkout: spec.rules[0].backendRefs[0].weight: Invalid input: expected number, received string'],
  ])('%s -> TargetInvalid', (_name, obj, message) => {
    expect(readWeight(obj, target, 'shop')).toStrictEqual({ ok: false, reason: 'TargetInvalid', message });
  });

  it('an object without spec is TargetInvalid naming spec', () => {
    expect(readWeight({ metadata: { name: 'checkout' } }, target, 'shop')).toStrictEqual({
      ok: false,
      reason: 'TargetInvalid',
      message: 'HTTPRoute shop/checkout: spec: Invalid input: expected object, received undefined',
    });
  });
});

describe('gatewayAPI buildPatch', () => {
  it('sets both weights in every rule with both backends, guarded by name tests, and leaves single-backend rules alone', () => {
    const obj = route([stable(100)], [canary(0), stable(100)], [stable(), { name: 'other', weight: 0 }, canary()]);
    expect(buildPatch(obj, target, 'shop', 25)).toStrictEqual({
      ok: true,
      patch: [
        { op: 'test', path: '/spec/rules/1/backendRefs/1/name', value: 'monolith' },
        { op: 'test', path: '/spec/rules/1/backendRefs/0/name', value: 'checkout-svc' },
        { op: 'add', path: '/spec/rules/1/backendRefs/1/weight', value: 75 },
        { op: 'add', path: '/spec/rules/1/backendRefs/0/weight', value: 25 },
        { op: 'test', path: '/spec/rules/2/backendRefs/0/name', value: 'monolith' },
        { op: 'test', path: '/spec/rules/2/backendRefs/2/name', value: 'checkout-svc' },
        { op: 'add', path: '/spec/rules/2/backendRefs/0/weight', value: 75 },
        { op: 'add', path: '/spec/rules/2/backendRefs/2/weight', value: 25 },
      ],
    });
  });

  it('a third backend with traffic blocks every weight but 0 (so a rollback still lands)', () => {
    const obj = route([stable(50), canary(25), { name: 'legacy', weight: 25 }]);
    expect(buildPatch(obj, target, 'shop', 50)).toMatchObject({ ok: false, reason: 'TargetInvalid' });
    expect(buildPatch(obj, target, 'shop', 0)).toStrictEqual({
      ok: true,
      patch: [
        { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'monolith' },
        { op: 'test', path: '/spec/rules/0/backendRefs/1/name', value: 'checkout-svc' },
        { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 100 },
        { op: 'add', path: '/spec/rules/0/backendRefs/1/weight', value: 0 },
      ],
    });
  });

  it('rules that disagree are repaired by a write', () => {
    expect(buildPatch(route([stable(90), canary(10)], [stable(50), canary(50)]), target, 'shop', 5)).toMatchObject({ ok: true });
  });

  it('no rule with both backends: no patch', () => {
    expect(buildPatch(route([stable(100)]), target, 'shop', 0)).toMatchObject({ ok: false, reason: 'TargetInvalid' });
  });

  it.each([-1, 101, 0.5])('refuses weight %p', (w) => {
    expect(() => buildPatch(route([stable(), canary()]), target, 'shop', w)).toThrow(InvalidWeightError);
  });

  it('stable + canary = 100 in every rule for every weight, and the weight reads back', () => {
    const obj = route([stable(1), canary(1)], [canary(), stable()]);
    for (let w = 0; w <= 100; w++) {
      const plan = buildPatch(obj, target, 'shop', w);
      if (!plan.ok) throw new Error(plan.message);
      const adds = plan.patch.filter((op) => op.op === 'add').map((op) => ('value' in op ? op.value : undefined));
      expect(adds).toStrictEqual([100 - w, w, 100 - w, w]);
      expect(readWeight(applyWeights(obj, plan.patch), target, 'shop')).toStrictEqual({ ok: true, weight: w });
    }
  });
});

/** Applies the `add .../weight` ops of a patch to a copy (enough for these tests). */
function applyWeights(obj: unknown, patch: readonly { op: string; path: string; value?: unknown }[]): unknown {
  const copy = structuredClone(obj) as Record<string, unknown>;
  for (const op of patch) {
    if (op.op !== 'add') continue;
    const keys = op.path.split('/').slice(1);
    const last = keys.pop() as string;
    let at: unknown = copy;
    for (const k of keys) at = (at as Record<string, unknown>)[k];
    (at as Record<string, unknown>)[last] = op.value;
  }
  return copy;
}
