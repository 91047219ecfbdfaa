// The controller as users run it: the built `trafficshift controller` process, started with the
// run's kubeconfig. Tests see it only from outside: its /readyz, its /metrics (leadership,
// weight writes), its REST API, and the cluster it writes to. A crash is SIGKILL.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnTied } from '../../src/demo/childProcess';
import { REPO_ROOT, waitFor, type TestCluster } from './cluster';

export const CLI = path.join(REPO_ROOT, 'dist/cli/main.js');

export interface ControllerProcessOptions {
  resyncMs?: number;
  /** Leader election with a Lease in the run's namespace. */
  leaderElection?: { identity: string; leaseName?: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}

export interface ControllerProcess {
  readonly url: string;
  readonly pid: number;
  /** Whether /metrics says this replica leads (false when it does not answer). */
  isLeader(): Promise<boolean>;
  /** Weight writes this process made, from /metrics. */
  weightWrites(): Promise<number>;
  /** SIGTERM (finish the write in flight, release the lease, exit 0), or SIGKILL with `crash`. */
  stop(options?: { crash?: boolean }): Promise<number | null>;
}

function checkBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` first (make e2e and make test do)`);
  const built = fs.statSync(CLI).mtimeMs;
  const stale = fs.readdirSync(path.join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .some((f) => f.endsWith('.ts') && fs.statSync(path.join(REPO_ROOT, 'src', f)).mtimeMs > built);
  if (stale) console.warn(`WARNING: ${CLI} is older than src/: the e2e tests run the built controller; run \`make build\``);
}

let checked = false;

export async function startControllerProcess(cluster: TestCluster, options: ControllerProcessOptions = {}): Promise<ControllerProcess> {
  if (!checked) {
    checkBuilt();
    checked = true;
  }
  const args = [CLI, 'controller', '--kubeconfig', cluster.kubeconfigPath, '--namespace', cluster.namespace, '--port', '0', '--log-format', 'json', '--resync', `${options.resyncMs ?? 2000}ms`];
  const le = options.leaderElection;
  if (le) {
    args.push('--leader-elect', '--lease-namespace', cluster.namespace, '--identity', le.identity, ...(le.leaseName ? ['--lease-name', le.leaseName] : []),
      '--lease-duration', `${le.leaseDurationMs}ms`, '--renew-deadline', `${le.renewDeadlineMs}ms`, '--retry-period', `${le.retryPeriodMs}ms`);
  }
  // Tied: it leads a process group of its own and dies with this process, so a test that fails
  // or times out cannot leave it running (test/support/jest/ kills and reports stragglers).
  const tied = spawnTied(process.execPath, args, { env: { ...process.env, KUBECONFIG: '' }, output: { stdout: 'ignore', stderr: 'pipe' } });
  const echo = Boolean(process.env['TRAFFICSHIFT_TEST_LOGS']);
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: tied.child.stderr as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (echo) process.stderr.write(`[controller ${tied.pid}] ${line}\n`);
      if (output.length < 200) output.push(line);
      try {
        const entry = JSON.parse(line) as { message?: string; port?: number };
        if (entry.message === 'trafficshift controller starting' && typeof entry.port === 'number') resolve(`http://127.0.0.1:${entry.port}`);
      } catch {
        // not a log line of ours
      }
    });
    void tied.exited.then((code) => reject(new Error(`trafficshift controller exited with ${code} before it listened:\n${output.join('\n')}`)));
    // Node's start-up takes well under a second; 30 s holds on a 2-core machine under load.
    setTimeout(() => reject(new Error(`trafficshift controller did not listen within 30 s:\n${output.join('\n')}`)), 30_000).unref();
  }).catch(async (error: unknown) => {
    await tied.kill();
    throw error;
  });
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`)).ok, 30_000, `${url}/readyz`, 50);
  } catch (error) {
    await tied.kill();
    throw error;
  }

  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  return {
    url,
    pid: tied.pid,
    isLeader: () => metric('trafficshift_leader ').then((v) => v === 1, () => false),
    weightWrites: () => metric('trafficshift_weight_writes_total{'),
    stop: (opts = {}) => (opts.crash ? tied.kill() : tied.stop(15_000)),
  };
}
