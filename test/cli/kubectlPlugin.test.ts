// `kubectl trafficshift …`: the built executable (dist/cli/main.js, `make build`) found by the
// real kubectl as a plugin named kubectl-trafficshift on PATH, as `npm install -g` or a krew-like
// symlink puts it. It runs as its own process here, so this is also where main's handling shows:
// exit codes, one-line errors without a stack trace, and an exit without lingering.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../support/controllerProcess';
import { startCluster, type TestCluster } from '../support/cluster';
import { makePlan, statusFor } from './cliSupport';

const kubectlFound = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectlFound) process.stderr.write('\n*** kubectl is not on PATH: SKIPPING test/cli/kubectlPlugin.test.ts ***\n\n');
const describeWithKubectl = kubectlFound ? describe : describe.skip;

describeWithKubectl('kubectl trafficshift (the built plugin)', () => {
  let cluster: TestCluster;
  let bin: string;

  const kubectl = (args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> =>
    new Promise((resolve) => {
      const started = Date.now();
      execFile('kubectl', args, { timeout: 30_000, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`, KUBECONFIG: cluster.kubeconfigPath, ...env } }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    });

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` first (make test does)`);
    // kubectl runs only executable plugins; npm sets this bit when it installs the bin.
    if ((fs.statSync(CLI).mode & 0o111) === 0) fs.chmodSync(CLI, 0o755);
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-plugin-'));
    fs.symlinkSync(CLI, path.join(bin, 'kubectl-trafficshift'));
    cluster = await startCluster('cli-plugin');
    await makePlan(cluster, 'checkout', { status: statusFor('WaitingForPromotion', { canaryWeight: 25 }) });
  });
  afterAll(async () => {
    await cluster?.close();
    if (bin) fs.rmSync(bin, { recursive: true, force: true });
  });

  it('kubectl finds it, and its usage says `kubectl trafficshift`', async () => {
    const plugins = await kubectl(['plugin', 'list']);
    expect(plugins.stdout).toContain(path.join(bin, 'kubectl-trafficshift'));
    const help = await kubectl(['trafficshift', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kubectl trafficshift /);
  });

  it('list and status through the kubeconfig, exit 0, and the process ends at once', async () => {
    const list = await kubectl(['trafficshift', 'list', '--kubeconfig', cluster.kubeconfigPath, '-n', cluster.namespace]);
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout).toMatch(/^NAME\s+PHASE\s+STEP\s+WEIGHT\s+AGE\s+MESSAGE\ncheckout\s+WaitingForPromotion\s+1\/4\s+25%/);
    // Well under the 2 s after which main would force an exit on a lingering handle.
    expect(list.ms).toBeLessThan(15_000);
    const status = await kubectl(['trafficshift', 'status', 'checkout', '-n', cluster.namespace]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Progress:    [###.......] step 1/4  canary 25%  (waiting for promote)');
  });

  it('a steering command writes and says so; one with nothing to do writes nothing, exit 0', async () => {
    const promote = await kubectl(['trafficshift', 'promote', 'checkout', '-n', cluster.namespace]);
    expect(promote).toMatchObject({ code: 0, stderr: '' });
    const retry = await kubectl(['trafficshift', 'retry', 'checkout', '-n', cluster.namespace]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('is already running');
  });

  it('an unknown plan, a bad flag, an unreachable cluster: one line on stderr, non-zero, no stack trace', async () => {
    const unknown = await kubectl(['trafficshift', 'status', 'nope', '-n', cluster.namespace]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`Error from server (NotFound): migrationplans.trafficshift.io "nope" not found in namespace "${cluster.namespace}"\n`);

    const badFlag = await kubectl(['trafficshift', 'wait', 'checkout', '--for', 'Done']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(badFlag.stderr).toMatch(/^error: option '--for <state>' argument 'Done' is invalid/);

    const file = path.join(bin, 'unreachable.kubeconfig');
    fs.writeFileSync(file, fs.readFileSync(cluster.kubeconfigPath, 'utf8').replace(/server: \S+/, 'server: http://127.0.0.1:1'));
    const down = await kubectl(['trafficshift', 'list', '--kubeconfig', file]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe('error: cannot reach the Kubernetes API server at http://127.0.0.1:1 (ECONNREFUSED): is the cluster up, and is this the right kubeconfig and context?\n');
  });
});
