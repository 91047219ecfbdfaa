// The npm package: `npm pack` makes a tarball that installs globally and runs as `trafficshift`
// and, found on PATH, as the kubectl plugin `kubectl trafficshift`. It is installed into a
// prefix of its own (dependencies from the registry, not this checkout) and run from there,
// against an in-process API server for a command that reaches a cluster.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalKube } from '../../src/localkube';
import { SETTLE_MS } from '../support/deadlines';

const ROOT = path.resolve(__dirname, '../..');
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const kubectlFound = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!kubectlFound) process.stderr.write('\n*** kubectl is not on PATH: SKIPPING the kubectl-plugin test in test/repo/package.test.ts ***\n\n');
const withKubectl = kubectlFound ? it : it.skip;

let dir = '';
let bin = '';
let files: string[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `make build` first (make test does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-package-'));
  const packed = execFileSync('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [entry] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!entry) throw new Error(`npm pack printed no entry: ${packed}`);
  files = entry.files.map((f) => f.path);
  const prefix = path.join(dir, 'prefix');
  execFileSync('npm', ['install', '--global', '--prefix', prefix, path.join(dir, entry.filename), '--no-audit', '--no-fund'], { cwd: dir, stdio: 'pipe', timeout: SETTLE_MS });
  bin = path.join(prefix, 'bin');
}, SETTLE_MS + 30_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('packs the built program, the CRDs it serves and the README, and no sources or tests', () => {
  expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/cli/main.js', 'manifests/crd.yaml']));
  expect(files.some((f) => f.startsWith('third_party/crds/'))).toBe(true);
  expect(files.filter((f) => /^(src|test|scripts|charts)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
});

it('installs globally as trafficshift, which answers --version and reaches a cluster', async () => {
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`, KUBECONFIG: '' };
  expect(execFileSync('trafficshift', ['--version'], { env, encoding: 'utf8' }).trim()).toBe(version);
  const local = new LocalKube({ namespaces: ['default', 'shop'] });
  await local.start();
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    local.writeKubeconfig(kubeconfig, 'shop');
    // Not execFileSync: the API server runs in this process and must answer meanwhile. An empty
    // namespace: kubectl's words on stderr, exit 0.
    const { stdout, stderr } = await promisify(execFile)('trafficshift', ['list', '--kubeconfig', kubeconfig], { env, timeout: SETTLE_MS });
    expect(stdout).toBe('');
    expect(stderr).toContain('No resources found in shop namespace.');
  } finally {
    await local.stop();
  }
});

withKubectl('is found by kubectl as the plugin kubectl-trafficshift', () => {
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`, KUBECONFIG: '' };
  expect(execFileSync('kubectl', ['plugin', 'list'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toContain(path.join(bin, 'kubectl-trafficshift'));
  expect(execFileSync('kubectl', ['trafficshift', '--version'], { env, encoding: 'utf8' }).trim()).toBe(version);
  expect(execFileSync('kubectl', ['trafficshift', '--help'], { env, encoding: 'utf8' })).toMatch(/^Usage: kubectl trafficshift /);
});
