import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as yaml from 'js-yaml';
import { generateCrd } from '../../src/plan/crd';
import { programName, runCli } from '../../src/cli/program';

const ROOT = path.resolve(__dirname, '../..');
const example = (name: string): string => path.join(ROOT, 'manifests/examples', name);
const invalid = (name: string): string => path.join(ROOT, 'test/fixtures/invalid', name);

interface Run { code: number; stdout: string; stderr: string }

async function cli(args: string[], stdin = '', invokedAs = '/usr/local/bin/trafficshift'): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', invokedAs, ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([stdin]),
  });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trafficshift-validate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trafficshift validate', () => {
  it('passes every example and exits 0', async () => {
    const files = ['nginx-canary.yaml', 'gateway-api-canary.yaml', 'istio-canary.yaml', 'smi-canary.yaml', 'service-bluegreen.yaml', 'multi-target.yaml'].map(example);
    const run = await cli(['validate', ...files]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toStrictEqual([
      `${files[0]}: checkout-nginx is valid`,
      `${files[1]}: checkout-gateway is valid`,
      `${files[2]}: checkout-istio is valid`,
      `${files[3]}: checkout-smi is valid`,
      `${files[4]}: checkout-bluegreen is valid`,
      `${files[5]}: checkout-v2 is valid`,
    ]);
  });

  it('prints every error with file, document, name, path and line, and exits 1', async () => {
    const file = invalid('provider-block-mismatch.yaml');
    const run = await cli(['validate', file]);
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split('\n')).toStrictEqual([
      `${file}: doc 1 (checkout-v2): spec.targets[0].nginx: provider is nginx, so the nginx block is required (line 11)`,
      `${file}: doc 1 (checkout-v2): spec.targets[0].gatewayAPI: provider is nginx; remove the gatewayAPI block (line 12)`,
    ]);
  });

  it('validates each plan of a multi-document file and skips other kinds with a note', async () => {
    const file = path.join(dir, 'bundle.yaml');
    const plan = (name: string, lastWeight: number): string =>
      `apiVersion: trafficshift.io/v1alpha1\nkind: MigrationPlan\nmetadata: {name: ${name}}\nspec:\n  targets: [{provider: smi, smi: {trafficSplit: ts, stableBackend: a, canaryBackend: b}}]\n  steps: [{weight: 50}, {weight: ${lastWeight}}]\n`;
    writeFileSync(file, `apiVersion: v1\nkind: Service\nmetadata: {name: checkout}\n---\n${plan('good', 100)}---\n${plan('bad', 90)}`);
    const run = await cli(['validate', file]);
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split('\n')).toStrictEqual([
      `${file}: good is valid`,
      `${file}: doc 3 (bad): spec.steps[1].weight: the last step must be 100 (line 17)`,
    ]);
    expect(run.stderr).toBe(`${file}: doc 1 (checkout): skipped: kind Service is not a MigrationPlan\n`);
  });

  it('names a 1 MB unknown key in one short line, at the line of the object that holds it', async () => {
    const file = path.join(dir, 'huge-key.yaml');
    writeFileSync(file, `apiVersion: trafficshift.io/v1alpha1\nkind: MigrationPlan\nmetadata: {name: huge}\nspec:\n  targets: [{provider: nginx, nginx: {ingress: a, canaryIngress: b}}]\n  steps: [{weight: 100}]\n  ${'k'.repeat(1024 * 1024)}: 1\n`);
    const run = await cli(['validate', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`${file}: doc 1 (huge): spec["${'k'.repeat(100)}…"]: unknown field (line 4)\n`);
  });

  it('reports a YAML syntax error with its line and column', async () => {
    const file = invalid('yaml-syntax-error.yaml');
    const run = await cli(['validate', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`${file}: YAML syntax error: missed comma between flow collection entries (line 20, column 5)\n`);
  });

  it('reports a missing file and still validates the others', async () => {
    const missing = path.join(dir, 'nope.yaml');
    const good = example('smi-canary.yaml');
    const run = await cli(['validate', missing, good]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`${missing}: no such file\n${good}: checkout-smi is valid\n`);
  });

  it('reads stdin for -', async () => {
    const text = `apiVersion: trafficshift.io/v1alpha1\nkind: MigrationPlan\nmetadata: {name: piped}\nspec:\n  targets: [{provider: nginx, nginx: {ingress: a, canaryIngress: b}}]\n  steps: [{weight: 100, pause: 5}]\n`;
    const run = await cli(['validate', '-'], text);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('<stdin>: doc 1 (piped): spec.steps[0].pause: must be a duration such as 30s or 5m, or {} to wait for a promotion (line 6)\n');
  });

  it('says so when a file holds no MigrationPlan, without failing', async () => {
    const file = path.join(dir, 'service.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: {name: checkout}\n');
    const run = await cli(['validate', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${file}: no MigrationPlan found`);
  });

  it('writes one JSON report with --output json', async () => {
    const good = example('nginx-canary.yaml');
    const bad = invalid('bad-strategy.yaml');
    const run = await cli(['validate', '-o', 'json', good, bad]);
    expect(run.code).toBe(1);
    const parsed: unknown = JSON.parse(run.stdout);
    expect(parsed).toStrictEqual({
      valid: false,
      files: [
        { file: good, documents: [{ document: 1, line: 4, kind: 'MigrationPlan', name: 'checkout-nginx', status: 'valid' }] },
        {
          file: bad,
          documents: [{
            document: 1, line: 2, kind: 'MigrationPlan', name: 'checkout-v2', status: 'invalid',
            errors: [{ path: 'spec.strategy', message: 'must be one of Canary, BlueGreen (got "canary")', line: 7 }],
          }],
        },
      ],
    });
  });

  it('refuses an unknown output format', async () => {
    const run = await cli(['validate', '-o', 'xml', example('nginx-canary.yaml')]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('xml');
    expect(run.stdout).toBe('');
  });

  it('needs at least one file', async () => {
    const run = await cli(['validate']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('files');
  });
});

describe('trafficshift crd', () => {
  it('prints the generated CRD as YAML', async () => {
    const run = await cli(['crd']);
    expect(run.code).toBe(0);
    expect(yaml.load(run.stdout)).toStrictEqual(generateCrd());
  });
});

describe('the program', () => {
  it.each([
    ['/usr/local/bin/trafficshift', 'trafficshift'],
    ['/opt/trafficshift/dist/cli/main.js', 'trafficshift'],
    ['/home/sre/.krew/bin/kubectl-trafficshift', 'kubectl trafficshift'],
  ])('run as %s calls itself %s', (invokedAs, name) => {
    expect(programName(invokedAs)).toBe(name);
  });

  it('shows the kubectl form in help when run as a kubectl plugin', async () => {
    const run = await cli(['--help'], '', '/usr/local/bin/kubectl-trafficshift');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: kubectl trafficshift [options] [command]');
    expect(run.stdout).toContain('validate');
  });

  it('exits non-zero on an unknown command and suggests the close one', async () => {
    const run = await cli(['valdiate', 'x.yaml']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('validate');
  });
});
