// Careless and hostile plans: whatever a plan holds, `validate` and the controller's spec check
// answer with field errors and never throw. A throw in either is a crash of `trafficshift
// validate`, or a plan the controller can no longer reconcile, roll back or delete.
//
// The values are plan-shaped: each starts from a real example plan, and a few of its fields (any
// depth, spec or not) are replaced by something wrong: another type, a random string where a
// duration goes, a number out of range, NaN, deep nesting, a huge string, or nothing at all.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { checkPlanText } from '../../src/plan/loadFile';
import { readSpec, validatePlan, validateSpec, type FieldError } from '../../src/plan/validate';

/** Cases per property; the file runs CASES_PER_PROPERTY × 3 in all. */
const CASES_PER_PROPERTY = 3_400;

const EXAMPLES_DIR = path.resolve(__dirname, '../../manifests/examples');
const EXAMPLES: unknown[] = fs
  .readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8')));

type Path = Array<string | number>;

/** Every path in a JSON-like value, the root included. */
function pathsOf(value: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

const DELETE = Symbol('delete');

function setAt(root: unknown, at: Path, value: unknown): unknown {
  if (at.length === 0) return value === DELETE ? undefined : value;
  let node = root as Record<string | number, unknown>;
  for (const part of at.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  const last = at[at.length - 1] as string | number;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return root;
}

const durationish = fc.oneof(
  fc.string(),
  fc.stringMatching(/^-?\d{1,25}(\.\d{0,3})?(ns|us|µs|ms|s|m|h|d|w| seconds|)$/),
  fc.constantFrom('10 seconds', '-5s', '0', '0s', '1.5.5s', '720h', '99999999999h', '1e309h', 'Infinityh', 'NaNs', '5m-3s', ' 5s', '5s '),
);
const numberish = fc.oneof(
  fc.double(),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, 0.5, 101, -1),
);
const deepNesting = fc.integer({ min: 1, max: 400 }).chain((depth) =>
  fc.constantFrom('array', 'object').map((kind) => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
    return v;
  }),
);
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: durationish },
  { weight: 3, arbitrary: numberish },
  { weight: 3, arbitrary: fc.anything({ maxDepth: 4, withNullPrototype: true, withBigInt: false, withSet: false, withMap: false, withDate: false, withTypedArray: false, withSparseArray: true }) },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], {}, '', true, DELETE, DELETE, 'x'.repeat(100_000), { pause: {} }, [{}]) },
);

/** An example plan with 1 to 5 fields replaced. The index picks a path among those the value
 * has at that moment, so later edits can land inside earlier ones. */
const mutatedPlan: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...EXAMPLES), fc.array(fc.tuple(fc.nat(), replacement), { minLength: 1, maxLength: 5 }))
  .map(([example, edits]) => {
    let plan: unknown = structuredClone(example);
    for (const [index, value] of edits) {
      const paths = pathsOf(plan);
      plan = setAt(plan, paths[index % paths.length] as Path, value);
    }
    return plan;
  });

/** Why `errors` is not a usable list of field errors, or undefined when it is. Plain code, not
 * expect(): a case can carry hundreds of errors, and ten thousand cases would spend minutes in
 * jest's matchers. */
function fieldErrorProblem(errors: readonly FieldError[]): string | undefined {
  if (errors.length === 0) return 'no errors on an invalid value';
  const bad = errors.find((e) => typeof e.path !== 'string' || e.path.length === 0 || typeof e.message !== 'string' || e.message.length === 0);
  return bad ? `a field error without path or message: ${JSON.stringify(bad)}` : undefined;
}

function expectFieldErrors(errors: readonly FieldError[]): void {
  const problem = fieldErrorProblem(errors);
  if (problem) throw new Error(problem);
}

/** What `trafficshift validate`, the API-facing parse and the controller see of one value. */
function checkEverywhere(plan: unknown): void {
  const whole = validatePlan(plan);
  if (!whole.ok) expectFieldErrors(whole.errors);

  const rawSpec = plan !== null && typeof plan === 'object' ? (plan as { spec?: unknown }).spec : plan;
  const spec = validateSpec(rawSpec);
  if (!spec.ok) {
    expectFieldErrors(spec.errors);
    const outside = spec.errors.find((e) => !e.path.startsWith('spec'));
    if (outside) throw new Error(`a spec error outside spec: ${outside.path}`);
  }

  const reading = readSpec(rawSpec);
  if ((reading.spec === undefined) !== (reading.error !== undefined)) throw new Error('readSpec gave both a spec and an error, or neither');
  if ((reading.spec === undefined) !== !spec.ok) throw new Error('readSpec and validateSpec disagree');
  if (reading.error) expectFieldErrors([reading.error]);

  // The CLI reads YAML text: the same value as a file gives a report, never a throw.
  const text = yaml.dump(plan, { skipInvalid: true, noRefs: true });
  const report = checkPlanText('plan.yaml', text);
  for (const doc of report.documents) if (doc.status === 'invalid') expectFieldErrors(doc.errors);
}

describe('no plan-shaped value makes validation throw', () => {
  it('parses every example as valid (the starting points are sound)', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(6);
    for (const example of EXAMPLES) expect(validatePlan(example)).toMatchObject({ ok: true });
  });

  it(`example plans with 1–5 fields made wrong (${CASES_PER_PROPERTY} cases)`, () => {
    fc.assert(fc.property(mutatedPlan, (plan) => checkEverywhere(plan)), { numRuns: CASES_PER_PROPERTY, seed: 12 });
  });

  it(`specs that are anything at all (${CASES_PER_PROPERTY} cases)`, () => {
    const spec = fc.oneof(fc.anything({ maxDepth: 5, withNullPrototype: true }), deepNesting, durationish, numberish);
    fc.assert(
      fc.property(spec, (s) => checkEverywhere({ apiVersion: 'trafficshift.io/v1alpha1', kind: 'MigrationPlan', metadata: { name: 'p' }, spec: s })),
      { numRuns: CASES_PER_PROPERTY, seed: 13 },
    );
  });

  it(`every duration field with a random string (${CASES_PER_PROPERTY} cases)`, () => {
    const durationPaths: Path[] = [
      ['spec', 'analysis', 'interval'],
      ['spec', 'steps', 0, 'pause'],
      ['spec', 'successCriteria', 'bakeTime'],
      ['spec', 'rollback', 'rto'],
      ['spec', 'analysis', 'prometheus', 'timeout'],
      ['spec', 'analysis', 'checks', 2, 'webhook', 'timeout'],
    ];
    const base = EXAMPLES.find((e) => (e as { spec?: { analysis?: { checks?: unknown[] } } }).spec?.analysis?.checks?.length === 3);
    expect(base).toBeDefined();
    const edit = fc.array(fc.tuple(fc.constantFrom(...durationPaths), durationish), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(edit, (edits) => {
        const plan = structuredClone(base);
        for (const [at, value] of edits) setAt(plan, at, value);
        checkEverywhere(plan);
      }),
      { numRuns: CASES_PER_PROPERTY, seed: 14 },
    );
  });

  it.each([
    ['an interval in words', { analysis: { interval: '10 seconds' } }, 'spec.analysis.interval'],
    ['a negative interval', { analysis: { interval: '-5s' } }, 'spec.analysis.interval'],
  ])('%s is a field error with its path', (_what, change, errorPath) => {
    const plan = structuredClone(EXAMPLES[0]) as { spec: Record<string, unknown> };
    plan.spec = { ...plan.spec, ...change };
    const result = validatePlan(plan);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path)).toContain(errorPath);
  });

  it.each([
    ['a list', []],
    ['empty (spec: with nothing after it)', null],
    ['a string', 'spec'],
  ])('a spec that is %s is one root error, and the controller gets no targets', (_what, spec) => {
    const reading = readSpec(spec);
    expect(reading).toStrictEqual({ targets: [], error: { path: 'spec', message: expect.any(String) } });
  });
});
