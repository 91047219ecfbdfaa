import { checkPlanText, isClean, parseYamlDocuments, YamlSyntaxError } from '../../src/plan/loadFile';

const PLAN = `apiVersion: trafficshift.io/v1alpha1
kind: MigrationPlan
metadata:
  name: checkout-v2
spec:
  targets:
    - provider: nginx
      nginx: {ingress: checkout, canaryIngress: checkout-canary}
  steps:
    - weight: 50
    - weight: 40
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: checkout
spec:
  selector: {app: checkout}
`;

describe('parseYamlDocuments', () => {
  it('numbers documents and finds the line each starts on, leaving out empty ones', () => {
    const docs = parseYamlDocuments(`# leading comment\n${SERVICE}---\n---\n${PLAN}`);
    expect(docs.map((d) => ({ index: d.index, line: d.line }))).toStrictEqual([
      { index: 1, line: 2 },
      { index: 3, line: 10 },
    ]);
  });

  it('finds the line of a nested object, or of the nearest one above a scalar', () => {
    const [doc] = parseYamlDocuments(PLAN);
    expect(doc?.lineOf(['spec'])).toBe(5);
    expect(doc?.lineOf(['spec', 'steps', 1])).toBe(11);
    expect(doc?.lineOf(['spec', 'steps', 1, 'weight'])).toBe(11);
    expect(doc?.lineOf(['spec', 'targets', 0, 'nginx'])).toBe(8);
    expect(doc?.lineOf(['spec', 'nothing', 'here'])).toBe(5);
  });

  it('throws YamlSyntaxError with a 1-based line and column', () => {
    let caught: unknown;
    try {
      parseYamlDocuments('a: 1\nb: [1,\n  c: d: e\n');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(YamlSyntaxError);
    expect(caught).toMatchObject({ line: 3, column: 7, reason: 'missed comma between flow collection entries' });
  });
});

describe('checkPlanText', () => {
  it('validates plans, skips other kinds and puts a line on every error', () => {
    const report = checkPlanText('plans.yaml', `${SERVICE}---\n${PLAN}`);
    expect(report).toStrictEqual({
      file: 'plans.yaml',
      documents: [
        { document: 1, line: 1, kind: 'Service', name: 'checkout', status: 'skipped', reason: 'kind Service is not a MigrationPlan' },
        {
          document: 2, line: 8, kind: 'MigrationPlan', name: 'checkout-v2', status: 'invalid',
          errors: [
            { path: 'spec.steps[1].weight', message: "must be greater than the previous step's 50", line: 18 },
            { path: 'spec.steps[1].weight', message: 'the last step must be 100', line: 18 },
          ],
        },
      ],
    });
    expect(isClean(report)).toBe(false);
  });

  it('calls a good plan valid', () => {
    const report = checkPlanText('ok.yaml', PLAN.replace('weight: 40', 'weight: 100'));
    expect(report.documents).toStrictEqual([{ document: 1, line: 1, kind: 'MigrationPlan', name: 'checkout-v2', status: 'valid' }]);
    expect(isClean(report)).toBe(true);
  });

  it('reports a YAML syntax error as a file failure', () => {
    const report = checkPlanText('bad.yaml', 'kind: MigrationPlan\nspec: [\n');
    expect(report.documents).toStrictEqual([]);
    expect(report.failure).toMatchObject({ message: expect.stringMatching(/^YAML syntax error: /), line: expect.any(Number), column: expect.any(Number) });
    expect(isClean(report)).toBe(false);
  });

  it.each([
    ['a document with no kind', 'metadata: {name: x}\nspec: {}\n', 'kind', 'is required'],
    ['another kind in trafficshift.io', 'apiVersion: trafficshift.io/v1alpha1\nkind: Plan\n', 'kind', 'must be "MigrationPlan"'],
    ['a list instead of an object', '- a\n- b\n', '(root)', 'must be a Kubernetes object, not a list'],
    ['a bare scalar', 'hello\n', '(root)', 'must be a Kubernetes object, not the value "hello"'],
  ])('refuses %s', (_what, text, path, message) => {
    const [doc] = checkPlanText('x.yaml', text).documents;
    expect(doc?.status).toBe('invalid');
    if (doc?.status !== 'invalid') return;
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0]?.path).toBe(path);
    expect(doc.errors[0]?.message).toContain(message);
  });

  it('has nothing to say about a file of other kinds', () => {
    const report = checkPlanText('svc.yaml', SERVICE);
    expect(report.documents.map((d) => d.status)).toStrictEqual(['skipped']);
    expect(isClean(report)).toBe(true);
  });
});
