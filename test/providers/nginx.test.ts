import { CANARY, CANARY_WEIGHT, CANARY_WEIGHT_TOTAL, buildPatch, readWeight } from '../../src/providers/nginx';
import { InvalidWeightError } from '../../src/providers';

const target = { ingress: 'checkout', canaryIngress: 'checkout-canary' };

function ingress(annotations?: Record<string, string>): unknown {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'checkout-canary', namespace: 'shop', ...(annotations ? { annotations } : {}) },
    spec: { rules: [{ host: 'shop.example', http: { paths: [] } }] },
  };
}

describe('nginx readWeight', () => {
  it.each([
    ['canary with a weight', { [CANARY]: 'true', [CANARY_WEIGHT]: '25' }, 25],
    ['canary at 100', { [CANARY]: 'true', [CANARY_WEIGHT]: '100' }, 100],
    ['canary at 0', { [CANARY]: 'true', [CANARY_WEIGHT]: '0' }, 0],
    ['no annotations at all', undefined, 0],
    ['not marked canary (weight ignored by nginx)', { [CANARY_WEIGHT]: '40' }, 0],
    ['canary "false"', { [CANARY]: 'false', [CANARY_WEIGHT]: '40' }, 0],
    ['canary without a weight', { [CANARY]: 'true' }, 0],
    ['weight-total of exactly 100', { [CANARY]: 'true', [CANARY_WEIGHT]: '30', [CANARY_WEIGHT_TOTAL]: '100' }, 30],
  ])('%s -> %i', (_name, annotations, weight) => {
    expect(readWeight(ingress(annotations), target, 'shop')).toStrictEqual({ ok: true, weight });
  });

  it.each([
    ['a word', 'abc'],
    ['a fraction', '12.5'],
    ['above 100', '101'],
    ['negative', '-5'],
    ['empty', ''],
  ])('canary-weight that is %s is TargetInvalid naming the annotation', (_name, value) => {
    expect(readWeight(ingress({ [CANARY]: 'true', [CANARY_WEIGHT]: value }), target, 'shop')).toStrictEqual({
      ok: false,
      reason: 'TargetInvalid',
      message: `Ingress shop/checkout-canary: annotation nginx.ingress.kubernetes.io/canary-weight is "${value}", expected an integer 0..100`,
    });
  });

  it('a canary-weight-total other than 100 is TargetInvalid (we speak percent)', () => {
    const state = readWeight(ingress({ [CANARY]: 'true', [CANARY_WEIGHT]: '30', [CANARY_WEIGHT_TOTAL]: '1000' }), target, 'shop');
    expect(state).toMatchObject({ ok: false, reason: 'TargetInvalid' });
    expect(state.ok || state.message).toContain('canary-weight-total is "1000"');
  });

  it('an object that is not an Ingress is TargetInvalid naming the field', () => {
    expect(readWeight({ metadata: { name: 'x', annotations: { [CANARY]: 5 } } }, target, 'shop')).toStrictEqual({
      ok: false,
      reason: 'TargetInvalid',
      message: 'Ingress shop/checkout-canary: metadata.annotations["nginx.ingress.kubernetes.io/canary"]: Invalid input: expected string, received number',
    });
  });
});

describe('nginx buildPatch', () => {
  it('sets both annotations, and nothing else, by merge patch', () => {
    expect(buildPatch(ingress({ keep: 'me' }), target, 'shop', 25)).toStrictEqual({
      ok: true,
      patch: { metadata: { annotations: { [CANARY]: 'true', [CANARY_WEIGHT]: '25' } } },
    });
  });

  it('overwrites a malformed hand-edited weight (a rollback must land)', () => {
    expect(buildPatch(ingress({ [CANARY]: 'true', [CANARY_WEIGHT]: 'abc' }), target, 'shop', 0)).toStrictEqual({
      ok: true,
      patch: { metadata: { annotations: { [CANARY]: 'true', [CANARY_WEIGHT]: '0' } } },
    });
  });

  it('with a foreign canary-weight-total, writes 0 but refuses any other weight', () => {
    const odd = ingress({ [CANARY]: 'true', [CANARY_WEIGHT]: '30', [CANARY_WEIGHT_TOTAL]: '1000' });
    expect(buildPatch(odd, target, 'shop', 0)).toMatchObject({ ok: true });
    expect(buildPatch(odd, target, 'shop', 25)).toMatchObject({ ok: false, reason: 'TargetInvalid' });
  });

  it.each([-1, 101, 12.5, Number.NaN])('refuses weight %p as a programming error', (weight) => {
    expect(() => buildPatch(ingress(), target, 'shop', weight)).toThrow(InvalidWeightError);
  });

  it('what it writes reads back as the weight written, for every weight', () => {
    for (let w = 0; w <= 100; w++) {
      const plan = buildPatch(ingress(), target, 'shop', w);
      if (!plan.ok) throw new Error(plan.message);
      const after = { ...(ingress() as object), metadata: { name: 'checkout-canary', annotations: plan.patch.metadata.annotations } };
      expect(readWeight(after, target, 'shop')).toStrictEqual({ ok: true, weight: w });
    }
  });
});
