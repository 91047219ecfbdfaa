import { buildPatch, readWeight } from '../../src/providers/istio';
import { InvalidWeightError } from '../../src/providers';

const target = {
  virtualService: 'checkout',
  route: 'primary',
  stableDestination: { host: 'monolith' },
  canaryDestination: { host: 'checkout-svc' },
};

type Dest = { host: string; subset?: string; port?: number; weight?: number };
const dest = ({ host, subset, port, weight }: Dest) => ({
  destination: { host, ...(subset ? { subset } : {}), ...(port ? { port: { number: port } } : {}) },
  ...(weight !== undefined ? { weight } : {}),
});

function vs(...http: { name?: string; route: Dest[] }[]): unknown {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { hosts: ['checkout.shop.svc'], http: http.map((h) => ({ ...(h.name ? { name: h.name } : {}), route: h.route.map(dest) })) },
  };
}

describe('istio readWeight', () => {
  it.each([
    ['the named route', vs({ name: 'primary', route: [{ host: 'monolith', weight: 80 }, { host: 'checkout-svc', weight: 20 }] }), 20],
    ['the named route, not the first one', vs(
      { name: 'admin', route: [{ host: 'monolith', weight: 10 }, { host: 'checkout-svc', weight: 90 }] },
      { name: 'primary', route: [{ host: 'monolith', weight: 95 }, { host: 'checkout-svc', weight: 5 }] },
    ), 5],
    ['an absent weight next to another destination is 0', vs({ name: 'primary', route: [{ host: 'monolith', weight: 100 }, { host: 'checkout-svc' }] }), 0],
    ['a third destination with weight 0', vs({ name: 'primary', route: [{ host: 'monolith', weight: 50 }, { host: 'mirror', weight: 0 }, { host: 'checkout-svc', weight: 50 }] }), 50],
  ])('%s -> %i', (_name, obj, weight) => {
    expect(readWeight(obj, target, 'shop')).toStrictEqual({ ok: true, weight });
  });

  it('subsets tell two destinations of one host apart', () => {
    const bySubset = { ...target, stableDestination: { host: 'reviews', subset: 'v1' }, canaryDestination: { host: 'reviews', subset: 'v2' } };
    const obj = vs({ name: 'primary', route: [{ host: 'reviews', subset: 'v2', weight: 30 }, { host: 'reviews', subset: 'v1', weight: 70 }] });
    expect(readWeight(obj, bySubset, 'shop')).toStrictEqual({ ok: true, weight: 30 });
  });

  it.each([
    ['no route of that name', vs({ name: 'other', route: [{ host: 'monolith', weight: 100 }, { host: 'checkout-svc', weight: 0 }] }), 'VirtualService shop/checkout: spec.http[name=primary] does not exist (http routes: other)'],
    ['only unnamed routes', vs({ route: [{ host: 'monolith', weight: 100 }, { host: 'checkout-svc', weight: 0 }] }), 'VirtualService shop/checkout: spec.http[name=primary] does not exist (http routes: none named)'],
    ['two routes of that name', vs({ name: 'primary', route: [] }, { name: 'primary', route: [] }), 'VirtualService shop/checkout: spec.http[name=primary] is not unique (2 routes have that name)'],
    ['the canary destination missing', vs({ name: 'primary', route: [{ host: 'monolith', weight: 100 }] }), 'VirtualService shop/checkout: spec.http[0].route (name=primary) has no destination checkout-svc'],
    ['a port that does not match', vs({ name: 'primary', route: [{ host: 'monolith', port: 80, weight: 100 }, { host: 'checkout-svc', port: 9090, weight: 0 }] }), null],
    ['a third destination takes traffic', vs({ name: 'primary', route: [{ host: 'monolith', weight: 50 }, { host: 'mirror', weight: 10 }, { host: 'checkout-svc', weight: 40 }] }), 'VirtualService shop/checkout: spec.http[0].route[1] sends traffic to mirror besides monolith and checkout-svc; set its weight to 0 or move it elsewhere'],
    ['both weights 0', vs({ name: 'primary', route: [{ host: 'monolith' }, { host: 'checkout-svc' }] }), 'VirtualService shop/checkout: spec.http[0].route gives both destinations weight 0, which splits no traffic'],
  ])('%s -> TargetInvalid', (_name, obj, message) => {
    const withPort = message === null ? { ...target, canaryDestination: { host: 'checkout-svc', port: 8080 } } : target;
    expect(readWeight(obj, withPort, 'shop')).toStrictEqual({
      ok: false,
      reason: 'TargetInvalid',
      message: message ?? 'VirtualService shop/checkout: spec.http[0].route (name=primary) has no destination checkout-svc port 8080',
    });
  });

  it('a malformed destination is TargetInvalid naming the field', () => {
    const obj = { metadata: { name: 'checkout' }, spec: { http: [{ name: 'primary', route: [{ destination: {} }] }] } };
    expect(readWeight(obj, target, 'shop')).toStrictEqual({
      ok: false,
      reason: 'TargetInvalid',
      message: 'VirtualService shop/checkout: spec.http[0].route[0].destination.host: Invalid input: expected string, received undefined',
    });
  });
});

describe('istio buildPatch', () => {
  it('sets the two weights of the named route, guarded by route-name and host tests', () => {
    const obj = vs(
      { name: 'admin', route: [{ host: 'monolith', weight: 100 }, { host: 'checkout-svc', weight: 0 }] },
      { name: 'primary', route: [{ host: 'checkout-svc', weight: 0 }, { host: 'monolith', weight: 100 }] },
    );
    expect(buildPatch(obj, target, 'shop', 10)).toStrictEqual({
      ok: true,
      patch: [
        { op: 'test', path: '/spec/http/1/name', value: 'primary' },
        { op: 'test', path: '/spec/http/1/route/1/destination/host', value: 'monolith' },
        { op: 'test', path: '/spec/http/1/route/0/destination/host', value: 'checkout-svc' },
        { op: 'add', path: '/spec/http/1/route/1/weight', value: 90 },
        { op: 'add', path: '/spec/http/1/route/0/weight', value: 10 },
      ],
    });
  });

  it('tests subset and port too when the target gives them (stable and canary may share a host)', () => {
    const t = { ...target, stableDestination: { host: 'reviews', subset: 'v1', port: 9080 }, canaryDestination: { host: 'reviews', subset: 'v2' } };
    const obj = vs({ name: 'primary', route: [{ host: 'reviews', subset: 'v1', port: 9080, weight: 100 }, { host: 'reviews', subset: 'v2', weight: 0 }] });
    expect(buildPatch(obj, t, 'shop', 50)).toStrictEqual({
      ok: true,
      patch: [
        { op: 'test', path: '/spec/http/0/name', value: 'primary' },
        { op: 'test', path: '/spec/http/0/route/0/destination/host', value: 'reviews' },
        { op: 'test', path: '/spec/http/0/route/0/destination/subset', value: 'v1' },
        { op: 'test', path: '/spec/http/0/route/0/destination/port/number', value: 9080 },
        { op: 'test', path: '/spec/http/0/route/1/destination/host', value: 'reviews' },
        { op: 'test', path: '/spec/http/0/route/1/destination/subset', value: 'v2' },
        { op: 'add', path: '/spec/http/0/route/0/weight', value: 50 },
        { op: 'add', path: '/spec/http/0/route/1/weight', value: 50 },
      ],
    });
  });

  it('no route of that name: no patch', () => {
    expect(buildPatch(vs({ name: 'other', route: [] }), target, 'shop', 0)).toMatchObject({ ok: false, reason: 'TargetInvalid' });
  });

  it.each([-5, 100.5, 1000])('refuses weight %p', (w) => {
    expect(() => buildPatch(vs({ name: 'primary', route: [] }), target, 'shop', w)).toThrow(InvalidWeightError);
  });

  it('stable + canary = 100 for every weight', () => {
    const obj = vs({ name: 'primary', route: [{ host: 'monolith', weight: 100 }, { host: 'checkout-svc', weight: 0 }] });
    for (let w = 0; w <= 100; w++) {
      const plan = buildPatch(obj, target, 'shop', w);
      if (!plan.ok) throw new Error(plan.message);
      const values = plan.patch.flatMap((op) => (op.op === 'add' ? [op.value as number] : []));
      expect(values).toStrictEqual([100 - w, w]);
    }
  });
});
