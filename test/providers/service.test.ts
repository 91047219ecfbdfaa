import { buildPatch, readWeight } from '../../src/providers/service';
import { InvalidWeightError } from '../../src/providers';

const target = { name: 'checkout', stableSelector: { app: 'monolith' }, canarySelector: { app: 'checkout-svc', track: 'v2' } };

function service(selector?: Record<string, string>, resourceVersion = '42'): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'checkout', namespace: 'shop', resourceVersion },
    spec: { ports: [{ port: 80 }], ...(selector ? { selector } : {}) },
  };
}

describe('service readWeight', () => {
  it.each([
    ['the stable selector', { app: 'monolith' }, 0],
    ['the canary selector', { app: 'checkout-svc', track: 'v2' }, 100],
    ['the canary selector, keys in another order', { track: 'v2', app: 'checkout-svc' }, 100],
  ])('%s -> %i', (_name, selector, weight) => {
    expect(readWeight(service(selector), target, 'shop')).toStrictEqual({ ok: true, weight });
  });

  it.each([
    ['extra labels beside the stable selector', { app: 'monolith', tier: 'web' }, '{app: monolith, tier: web}'],
    ['half of the canary selector', { app: 'checkout-svc' }, '{app: checkout-svc}'],
    ['something else', { app: 'other' }, '{app: other}'],
    ['no selector', undefined, '{}'],
  ])('%s -> TargetInvalid naming spec.selector', (_name, selector, shown) => {
    expect(readWeight(service(selector), target, 'shop')).toStrictEqual({
      ok: false,
      reason: 'TargetInvalid',
      message: `Service shop/checkout: spec.selector ${shown} is neither stableSelector {app: monolith} nor canarySelector {app: checkout-svc, track: v2}`,
    });
  });

  it('identical stable and canary selectors are TargetInvalid', () => {
    const same = { ...target, canarySelector: { app: 'monolith' } };
    expect(readWeight(service({ app: 'monolith' }), same, 'shop')).toMatchObject({ ok: false, reason: 'TargetInvalid' });
  });
});

describe('service buildPatch', () => {
  it('100 sets the canary selector, nulls the keys it lacks, and is conditional on the resourceVersion read', () => {
    expect(buildPatch(service({ app: 'monolith', tier: 'web' }), target, 'shop', 100)).toStrictEqual({
      ok: true,
      patch: { metadata: { resourceVersion: '42' }, spec: { selector: { tier: null, app: 'checkout-svc', track: 'v2' } } },
    });
  });

  it('0 sets the stable selector and removes the canary-only key', () => {
    expect(buildPatch(service({ app: 'checkout-svc', track: 'v2' }, '7'), target, 'shop', 0)).toStrictEqual({
      ok: true,
      patch: { metadata: { resourceVersion: '7' }, spec: { selector: { track: null, app: 'monolith' } } },
    });
  });

  it('writes even from a hand-edited selector (a rollback must land)', () => {
    expect(buildPatch(service({ app: 'other' }), target, 'shop', 0)).toMatchObject({ ok: true });
  });

  it.each([1, 50, 99, -1, 101])('refuses weight %p: a selector is all or nothing', (w) => {
    expect(() => buildPatch(service({ app: 'monolith' }), target, 'shop', w)).toThrow(InvalidWeightError);
  });

  it('what it writes reads back as the weight written', () => {
    for (const [from, w] of [[{ app: 'monolith', tier: 'web' }, 100], [{ app: 'checkout-svc', track: 'v2' }, 0]] as const) {
      const plan = buildPatch(service(from), target, 'shop', w);
      if (!plan.ok) throw new Error(plan.message);
      const merged: Record<string, string> = { ...from };
      for (const [key, value] of Object.entries(plan.patch.spec.selector)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      expect(readWeight(service(merged), target, 'shop')).toStrictEqual({ ok: true, weight: w });
    }
  });
});
