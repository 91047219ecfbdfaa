import fc from 'fast-check';
import { formatPath, parsePath, validatePlan, validateSpec } from '../../src/plan/validate';

const target = { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } };
const spec = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  targets: [target],
  steps: [{ weight: 10, pause: '1m' }, { weight: 100 }],
  ...overrides,
});
const plan = (specOverrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'trafficshift.io/v1alpha1',
  kind: 'MigrationPlan',
  metadata: { name: 'checkout-v2', namespace: 'shop' },
  spec: spec(specOverrides),
});

function errorsOf(result: ReturnType<typeof validateSpec> | ReturnType<typeof validatePlan>): Array<{ path: string; message: string }> {
  if (result.ok) throw new Error('expected validation to fail');
  return result.errors;
}

describe('validateSpec messages', () => {
  it('accepts a good spec and fills its defaults', () => {
    const result = validateSpec(spec());
    expect(result).toMatchObject({ ok: true, value: { strategy: 'Canary', paused: false, rollback: { automatic: true } } });
  });

  it('defaults onDrift to Repair, takes Hold, and names the allowed values of a bad one', () => {
    expect(validateSpec(spec())).toMatchObject({ ok: true, value: { onDrift: 'Repair' } });
    expect(validateSpec(spec({ onDrift: 'Hold' }))).toMatchObject({ ok: true, value: { onDrift: 'Hold' } });
    expect(errorsOf(validateSpec(spec({ onDrift: 'Ignore' })))).toStrictEqual([
      { path: 'spec.onDrift', message: 'must be one of Repair, Hold (got "Ignore")' },
    ]);
  });

  it('takes hooks with retries defaulting to 2, and names a bad when, too many retries and a duplicate name', () => {
    const journeys = { name: 'journeys', when: 'afterStep', webhook: { url: 'http://checks.shop/journeys', timeout: '30s' } };
    expect(validateSpec(spec({ hooks: [journeys] }))).toMatchObject({ ok: true, value: { hooks: [{ ...journeys, retries: 2 }] } });
    expect(errorsOf(validateSpec(spec({ hooks: [{ ...journeys, when: 'duringStep' }] })))).toStrictEqual([
      { path: 'spec.hooks[0].when', message: 'must be one of beforeStep, afterStep, afterRollback, afterSuccess (got "duringStep")' },
    ]);
    expect(errorsOf(validateSpec(spec({ hooks: [{ ...journeys, retries: 9 }] })))).toStrictEqual([{ path: 'spec.hooks[0].retries', message: 'must be at most 5' }]);
    expect(errorsOf(validateSpec(spec({ hooks: [journeys, { ...journeys, when: 'beforeStep' }] })))).toStrictEqual([
      { path: 'spec.hooks[1].name', message: '"journeys" is already the name of hooks[0]' },
    ]);
  });

  it('takes rollback.validation with a check that measures stable, and stableQuery only on a query check', () => {
    const prometheus = { address: 'http://prometheus:9090' };
    const analysis = (checks: unknown[]) => ({ prometheus, checks });
    const ok = validateSpec(spec({ analysis: analysis([{ name: 'errors', query: 'q', stableQuery: 's', max: 1 }]), rollback: { validation: { duration: '2m' } } }));
    expect(ok).toMatchObject({ ok: true, value: { rollback: { automatic: true, validation: { duration: '2m' } }, analysis: { checks: [{ stableQuery: 's' }] } } });
    expect(validateSpec(spec({ analysis: analysis([{ name: 'errors', template: 'error-rate', max: 1 }]), rollback: { validation: { duration: '30s' } } }))).toMatchObject({ ok: true });
    expect(errorsOf(validateSpec(spec({ analysis: analysis([{ name: 'errors', query: 'q', max: 1 }]), rollback: { validation: { duration: '2m' } } })))).toStrictEqual([
      { path: 'spec.rollback.validation', message: 'runs the analysis checks against stable, and no check can: add a template, webhook, or query check with stableQuery to analysis.checks' },
    ]);
    expect(errorsOf(validateSpec(spec({ rollback: { validation: { duration: '2m' } } })))).toHaveLength(1);
    expect(errorsOf(validateSpec(spec({ analysis: analysis([{ name: 'errors', template: 'error-rate', stableQuery: 's', max: 1 }]) })))).toStrictEqual([
      { path: 'spec.analysis.checks[0].stableQuery', message: 'only a query check takes stableQuery (templates expand for the stable side themselves)' },
    ]);
    expect(errorsOf(validateSpec(spec({ analysis: analysis([{ name: 'errors', template: 'error-rate', max: 1 }]), rollback: { validation: { duration: '0s' } } })))).toStrictEqual([
      { path: 'spec.rollback.validation.duration', message: 'must be at least 1s' },
    ]);
  });

  it('says a missing field is required', () => {
    expect(errorsOf(validateSpec({ targets: [target] }))).toStrictEqual([{ path: 'spec.steps', message: 'is required' }]);
    expect(errorsOf(validateSpec(spec({ targets: [{ provider: 'nginx', nginx: { ingress: 'checkout' } }] })))).toStrictEqual([
      { path: 'spec.targets[0].nginx.canaryIngress', message: 'is required' },
    ]);
  });

  it('lists the allowed values of an enum and what it got', () => {
    expect(errorsOf(validateSpec(spec({ strategy: 'canary' })))).toStrictEqual([
      { path: 'spec.strategy', message: 'must be one of Canary, BlueGreen (got "canary")' },
    ]);
  });

  it('names an unknown field at its own path, with the likely intended one', () => {
    const { steps, ...rest } = spec();
    expect(errorsOf(validateSpec({ ...rest, stpes: steps }))).toStrictEqual([
      { path: 'spec.steps', message: 'is required' },
      { path: 'spec.stpes', message: 'unknown field (did you mean "steps"?)' },
    ]);
    expect(errorsOf(validateSpec(spec({ colour: 'blue' })))).toStrictEqual([{ path: 'spec.colour', message: 'unknown field' }]);
  });

  it('reports each of several unknown fields', () => {
    expect(errorsOf(validateSpec(spec({ rollback: { automatic: true, foo: 1, bar: 2 } }))).map((e) => e.path)).toStrictEqual([
      'spec.rollback.foo',
      'spec.rollback.bar',
    ]);
  });

  it('says what type it wanted and what it got', () => {
    expect(errorsOf(validateSpec(spec({ steps: [{ weight: '10' }, { weight: 100 }] })))).toStrictEqual([
      { path: 'spec.steps[0].weight', message: 'must be a number, not the string "10"' },
    ]);
    expect(errorsOf(validateSpec(spec({ paused: 'yes' })))).toStrictEqual([{ path: 'spec.paused', message: 'must be true or false, not the string "yes"' }]);
  });

  it('words bounds for numbers, strings and lists', () => {
    const istio = {
      provider: 'istio',
      istio: { virtualService: 'checkout', route: '', stableDestination: { host: 'monolith' }, canaryDestination: { host: 'checkout-svc', port: 70000 } },
    };
    expect(errorsOf(validateSpec(spec({ targets: [istio] })))).toStrictEqual([
      { path: 'spec.targets[0].istio.route', message: 'must not be empty' },
      { path: 'spec.targets[0].istio.canaryDestination.port', message: 'must be at most 65535' },
    ]);
  });

  it('explains a pause of the wrong type in the words of the SPEC', () => {
    expect(errorsOf(validateSpec(spec({ steps: [{ weight: 10, pause: 60 }, { weight: 100 }] })))).toStrictEqual([
      { path: 'spec.steps[0].pause', message: 'must be a duration such as 30s or 5m, or {} to wait for a promotion' },
    ]);
  });

  it('reports the problem inside the branch of a union the input chose', () => {
    expect(errorsOf(validateSpec(spec({ steps: [{ weight: 10, pause: { until: 'tomorrow' } }, { weight: 100 }] })))).toStrictEqual([
      { path: 'spec.steps[0].pause.until', message: 'unknown field' },
    ]);
    expect(errorsOf(validateSpec(spec({ steps: [{ weight: 10, pause: '1 minute' }, { weight: 100 }] })))).toStrictEqual([
      { path: 'spec.steps[0].pause', message: 'must be a duration such as 30s, 1m30s or 2h' },
    ]);
  });

  it('still runs cross-field rules when the failure is in a field they do not read', () => {
    const errors = errorsOf(validateSpec(spec({ description: 5, steps: [{ weight: 50 }, { weight: 40 }] })));
    expect(errors).toStrictEqual([
      { path: 'spec.description', message: 'must be a string, not the number 5' },
      { path: 'spec.steps[1].weight', message: "must be greater than the previous step's 50" },
      { path: 'spec.steps[1].weight', message: 'the last step must be 100' },
    ]);
  });

  it('skips cross-field rules when a field they read did not parse', () => {
    const errors = errorsOf(validateSpec(spec({ steps: [{ weight: 50 }, { weight: 'forty' }] })));
    expect(errors).toStrictEqual([{ path: 'spec.steps[1].weight', message: 'must be a number, not the string "forty"' }]);
  });
});

describe('validatePlan', () => {
  it('checks the envelope too', () => {
    expect(errorsOf(validatePlan({ ...plan(), apiVersion: 'trafficshift.io/v1', metadata: {} }))).toStrictEqual([
      { path: 'apiVersion', message: 'must be "trafficshift.io/v1alpha1", not the string "trafficshift.io/v1"' },
      { path: 'metadata.name', message: 'is required' },
    ]);
  });

  it('names a 1 MB unknown key in a path cut to 100 characters, with no "did you mean"', () => {
    const key = 'k'.repeat(1024 * 1024);
    expect(errorsOf(validatePlan(plan({ [key]: 1 })))).toStrictEqual([{ path: `spec["${'k'.repeat(100)}…"]`, message: 'unknown field' }]);
  });

  it('still suggests the close field after a swap or a dropped letter', () => {
    expect(errorsOf(validateSpec(spec({ sucessCriteria: {} })))).toStrictEqual([
      { path: 'spec.sucessCriteria', message: 'unknown field (did you mean "successCriteria"?)' },
    ]);
    expect(errorsOf(validateSpec(spec({ rollback: { automatic: true, autoamtic: false } })))).toStrictEqual([
      { path: 'spec.rollback.autoamtic', message: 'unknown field (did you mean "automatic"?)' },
    ]);
  });

  it('quotes at most 40 characters of a value it got', () => {
    const huge = 'x'.repeat(1024 * 1024);
    expect(errorsOf(validateSpec(spec({ strategy: huge })))).toStrictEqual([
      { path: 'spec.strategy', message: `must be one of Canary, BlueGreen (got "${'x'.repeat(40)}…")` },
    ]);
    expect(errorsOf(validateSpec(spec({ paused: huge })))).toStrictEqual([
      { path: 'spec.paused', message: `must be true or false, not the string "${'x'.repeat(40)}…"` },
    ]);
  });

  it('reports a non-object input at the root', () => {
    expect(errorsOf(validatePlan('checkout'))).toStrictEqual([{ path: '(root)', message: 'must be an object, not the string "checkout"' }]);
  });

  it('quotes a label key in a path, as it has dots in it', () => {
    const service = { provider: 'service', service: { name: 'checkout', stableSelector: { 'app.kubernetes.io/name': 5 }, canarySelector: { app: 'b' } } };
    expect(errorsOf(validatePlan(plan({ strategy: 'BlueGreen', targets: [service], steps: [{ weight: 100 }] })))).toStrictEqual([
      { path: 'spec.targets[0].service.stableSelector["app.kubernetes.io/name"]', message: 'must be a string, not the number 5' },
    ]);
  });
});

describe('formatPath and parsePath', () => {
  it('format the paths people read', () => {
    expect(formatPath(['spec', 'steps', 2, 'weight'])).toBe('spec.steps[2].weight');
    expect(formatPath([])).toBe('');
    expect(formatPath(['spec', 'targets', 0, 'service', 'stableSelector', 'app.kubernetes.io/name'])).toBe(
      'spec.targets[0].service.stableSelector["app.kubernetes.io/name"]',
    );
    expect(parsePath('spec.steps[2].weight')).toStrictEqual(['spec', 'steps', 2, 'weight']);
  });

  it('cuts a segment over 100 characters with an ellipsis, which parsePath reads back as the cut key', () => {
    const long = 'a'.repeat(5000);
    const cut = `${'a'.repeat(100)}…`;
    expect(formatPath(['spec', long, 0])).toBe(`spec[${JSON.stringify(cut)}][0]`);
    expect(parsePath(formatPath(['spec', long, 0]))).toStrictEqual(['spec', cut, 0]);
    expect(formatPath(['spec', 'b'.repeat(100)])).toBe(`spec.${'b'.repeat(100)}`);
    // A cut never splits a surrogate pair into half a character.
    expect(formatPath([`${'c'.repeat(99)}😀tail`])).toBe(`[${JSON.stringify(`${'c'.repeat(99)}…`)}]`);
  });

  it('parsePath inverts formatPath for any path', () => {
    const segment = fc.oneof(fc.nat({ max: 1000 }), fc.string(), fc.constantFrom('spec', 'app.kubernetes.io/name', 'a-b', '0', ''));
    fc.assert(fc.property(fc.array(segment, { maxLength: 6 }), (path) => {
      expect(parsePath(formatPath(path))).toStrictEqual(path);
    }));
  });
});
