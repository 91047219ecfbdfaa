import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { AllowedHosts } from '../../src/checks/outbound';
import { runCli } from '../../src/cli/program';
import type { CliContext } from '../../src/cli/context';
import { controllerCommand, leaseNamespace, runController, type ControllerFlags } from '../../src/cli/commands/controller';
import { runLocalkube } from '../../src/cli/commands/localkube';
import { Kube, loadKubeConfig } from '../../src/kube';
import type { Controller } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import { LocalKube } from '../../src/localkube';
import { kubeconfigYaml } from '../../src/localkube/kubeconfig';
import type { MigrationPlanStatus } from '../../src/plan/schema';
import { CheckServer } from '../support/checkServer';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { createObjects, planObject, REFS, targetFixture } from '../support/targets';

interface Captured { ctx: CliContext; stdout: () => string; stderr: () => string }

function captured(): Captured {
  let stdout = '';
  let stderr = '';
  return {
    ctx: {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      stdin: Readable.from(['']),
      setExitCode: () => undefined,
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

function flags(overrides: Partial<ControllerFlags>): ControllerFlags {
  return { port: 0, leaderElect: false, leaseName: 'trafficshift-controller', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000, logFormat: 'text', concurrency: 4, resync: 2000, ...overrides };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trafficshift-controller-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = captured();
  const code = await runCli(['node', 'trafficshift', ...args], c.ctx);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe('trafficshift controller flags', () => {
  it('--help documents every flag', async () => {
    const run = await cli(['controller', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--kubeconfig', '--context', '--port', '--namespace', '--leader-elect', '--lease-namespace', '--lease-name', '--log-format', '--concurrency', '--resync', '--allowed-hosts']) {
      expect(run.stdout).toContain(flag);
    }
  });

  it.each([
    [['--port', '70000']],
    [['--port', 'http']],
    [['--resync', '10']],
    [['--resync', '10ms']],
    [['--concurrency', '0']],
    [['--log-format', 'xml']],
    [['--leader-elect', 'yes']],
    [['--allowed-hosts', '']],
    [['--allowed-hosts', '10.0.0.0/33']],
    [['--allowed-hosts', 'http://prom:9090']],
    [['--allowed-hosts', 'prom.svc,,hooks.slack.com']],
  ])('refuses %j before doing anything', async (args) => {
    const run = await cli(['controller', ...args]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: /);
  });

  it('--allowed-hosts takes names, wildcards, IPs and CIDRs', () => {
    const command = controllerCommand(captured().ctx).exitOverride();
    command.parseOptions(['--allowed-hosts', 'prometheus.monitoring.svc, *.corp.example,10.0.0.0/8,fd00::/8']);
    const hosts = command.opts()['allowedHosts'] as AllowedHosts;
    expect(['prometheus.monitoring.svc', 'grafana.corp.example', '10.1.2.3', '[fd00::7]', 'evil.example', '169.254.169.254'].map((h) => hosts.allows(h))).toStrictEqual([true, true, true, true, false, false]);
  });

  it('without --allowed-hosts allows every host', () => {
    const command = controllerCommand(captured().ctx).exitOverride();
    command.parseOptions([]);
    expect(command.opts()['allowedHosts']).toBeUndefined();
  });
});

describe('leaseNamespace', () => {
  const kc = (namespace?: string): KubeConfig => {
    const k = new KubeConfig();
    k.loadFromString(kubeconfigYaml('http://127.0.0.1:1', 't', namespace));
    return k;
  };
  it.each([
    ['--lease-namespace wins', { leaseNamespace: 'ops' }, { POD_NAMESPACE: 'pod-ns' }, 'ctx-ns', 'ops'],
    ['then the pod\'s namespace', {}, { POD_NAMESPACE: 'pod-ns' }, 'ctx-ns', 'pod-ns'],
    ['then the context\'s namespace', {}, {}, 'ctx-ns', 'ctx-ns'],
  ])('%s', (_what, flag, env, contextNamespace, expected) => {
    expect(leaseNamespace(flag, kc(contextNamespace), env)).toBe(expected);
  });
  it('else default', () => {
    const k = new KubeConfig();
    k.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    expect(leaseNamespace({}, k, {})).toBe('default');
  });
});

describe('trafficshift controller refuses to start', () => {
  const never = new AbortController().signal;

  it('without a kubeconfig anywhere, exit 1 saying where it looked', async () => {
    const c = captured();
    const code = await runController(flags({}), c.ctx, never, { log: silentLogger(), sources: { env: {}, home: dir, fsRoot: dir } });
    expect(code).toBe(1);
    expect(c.stderr()).toMatch(/^error: no kubeconfig found/);
  });

  it('when the API server does not answer, exit 1 naming it', async () => {
    const stopped = new LocalKube();
    await stopped.start();
    const url = stopped.url;
    await stopped.stop();
    const file = path.join(dir, 'unreachable.kubeconfig');
    writeFileSync(file, kubeconfigYaml(url, 'token'));
    const c = captured();
    const code = await runController(flags({ kubeconfig: file }), c.ctx, never, { log: silentLogger() });
    expect(code).toBe(1);
    expect(c.stderr()).toContain(`cannot reach the Kubernetes API server at ${url}`);
  });

  it('when the cluster lacks the MigrationPlan CRD, exit 1 saying how to install it', async () => {
    const bare = new LocalKube({ crdFiles: [] });
    await bare.start();
    try {
      const file = path.join(dir, 'bare.kubeconfig');
      bare.writeKubeconfig(file);
      const c = captured();
      const code = await runController(flags({ kubeconfig: file }), c.ctx, never, { log: silentLogger() });
      expect(code).toBe(1);
      expect(c.stderr()).toContain('install the CRD first');
    } finally {
      await bare.stop();
    }
  });

  it('when the port is taken, exit 1', async () => {
    const local = new LocalKube();
    await local.start();
    try {
      const file = path.join(dir, 'port.kubeconfig');
      local.writeKubeconfig(file);
      const c = captured();
      const code = await runController(flags({ kubeconfig: file, port: Number(new URL(local.url).port) }), c.ctx, never, { log: silentLogger() });
      expect(code).toBe(1);
      expect(c.stderr()).toContain('already in use');
    } finally {
      await local.stop();
    }
  });
});

describe('trafficshift controller against a cluster', () => {
  let cluster: TestCluster;
  let checks: CheckServer;
  let checkUrl: string;

  beforeAll(async () => {
    cluster = await startCluster('cli-controller');
    checks = new CheckServer();
    checks.value = 0.01;
    checkUrl = await checks.start();
  });
  afterAll(async () => {
    await checks.stop();
    await cluster.close();
  });

  it('serves probes and metrics, moves a plan, and on stop releases its lease and closes the server', async () => {
    const stop = new AbortController();
    const c = captured();
    let url = '';
    let controller: Controller | undefined;
    const lease = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: cluster.namespace, name: 'cli-test-lease' };
    const exit = runController(
      flags({ kubeconfig: cluster.kubeconfigPath, namespace: cluster.namespace, leaderElect: true, leaseNamespace: cluster.namespace, leaseName: 'cli-test-lease' }),
      c.ctx,
      stop.signal,
      { log: silentLogger(), onListening: (u) => (url = u), onReady: (ctl) => (controller = ctl) },
    );
    try {
      await waitFor(() => url !== '', 10_000, 'the HTTP server to listen');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, '/readyz to answer 200');
      await waitFor(() => controller?.isLeader === true, 10_000, 'the controller to lead');
      const held = await cluster.kube.get(lease);
      expect((held['spec'] as { holderIdentity: string }).holderIdentity).toBe(controller?.identity);

      const { target, objects } = targetFixture('nginx', 'cli-checkout');
      await createObjects(cluster, objects);
      await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, planObject('cli-checkout', {
        targets: [target],
        steps: [{ weight: 50 }, { weight: 100 }],
        analysis: { interval: '1s', checks: [{ name: 'smoke', webhook: { url: checkUrl }, max: 0.05 }] },
      }));
      await waitFor(async () => {
        const plan = await cluster.kube.get({ ...REFS.plans, namespace: cluster.namespace, name: 'cli-checkout' });
        return (plan['status'] as MigrationPlanStatus | undefined)?.phase === 'Succeeded';
      }, 20_000, 'the plan to succeed');

      const labels = `namespace="${cluster.namespace}",plan="cli-checkout"`;
      await waitFor(async () => (await (await fetch(`${url}/metrics`)).text()).includes(`trafficshift_plan_phase{${labels},phase="Succeeded"} 1`), 10_000, 'the phase metric');
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toContain(`trafficshift_check_value{${labels},check="smoke"} 0.01`);
      expect(text).toMatch(new RegExp(`trafficshift_check_duration_seconds_count\\{${labels},check="smoke",result="Pass"\\} [1-9]`));

      // Deleted, the plan leaves no series behind: not its phase, check durations or weight writes.
      await cluster.kube.delete({ ...REFS.plans, namespace: cluster.namespace, name: 'cli-checkout' });
      await waitFor(async () => !(await (await fetch(`${url}/metrics`)).text()).includes('plan="cli-checkout"'), 10_000, 'the deleted plan\'s series to go');
    } finally {
      stop.abort();
    }
    expect(await exit).toBe(0);
    if (cluster.local) {
      // One watch of plans in the process, the controller's: the metrics read its cache.
      const local = cluster.local;
      await waitFor(() => local.openWatchCount === 0, 10_000, 'every watch to close');
      expect(local.requests.filter((r) => r.verb === 'watch' && r.resource === 'migrationplans')).toHaveLength(1);
    }
    const released = await cluster.kube.get(lease);
    expect((released['spec'] as { holderIdentity: string }).holderIdentity).toBe('');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 60_000);

  it('with --allowed-hosts, a check on another host is an Error in status and is never called; the notifier gets the same policy', async () => {
    const stop = new AbortController();
    const allowedHosts = AllowedHosts.parse('checks.example.com');
    let ready = false;
    const exit = runController(flags({ kubeconfig: cluster.kubeconfigPath, namespace: cluster.namespace, allowedHosts }), captured().ctx, stop.signal, {
      log: silentLogger(),
      onReady: () => (ready = true),
    });
    const callsBefore = checks.calls;
    try {
      await waitFor(() => ready, 10_000, 'the controller to be ready');
      const { target, objects } = targetFixture('nginx', 'cli-fenced');
      await createObjects(cluster, objects);
      await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, planObject('cli-fenced', {
        targets: [target],
        steps: [{ weight: 50 }, { weight: 100 }],
        analysis: { interval: '1s', checks: [{ name: 'smoke', webhook: { url: checkUrl }, max: 0.05 }] },
        // The Controller's own notifier gets the same policy: this goes to the same refused host.
        notifications: [{ url: checkUrl, events: ['Started'] }],
      }));
      let check: NonNullable<MigrationPlanStatus['checks']>[number] | undefined;
      await waitFor(async () => {
        const plan = await cluster.kube.get({ ...REFS.plans, namespace: cluster.namespace, name: 'cli-fenced' });
        check = (plan['status'] as MigrationPlanStatus | undefined)?.checks?.[0];
        return check !== undefined;
      }, 20_000, 'the first check round in status');
      expect(check).toMatchObject({
        name: 'smoke',
        result: 'Error',
        message: `webhook ${checkUrl} is not called: host "127.0.0.1" is not in the controller's --allowed-hosts; the operator must add it to call it`,
      });
      expect(checks.calls).toBe(callsBefore);
    } finally {
      stop.abort();
    }
    expect(await exit).toBe(0);
    // Neither the check nor the Started notification reached the refused host.
    expect(checks.calls).toBe(callsBefore);
  }, 60_000);
});

describe('trafficshift localkube', () => {
  it('serves an API server with the MigrationPlan CRD, writes a kubeconfig that reaches it, and stops on the signal', async () => {
    const file = path.join(dir, 'localkube.kubeconfig');
    const stop = new AbortController();
    const c = captured();
    const exit = runLocalkube({ port: 0, kubeconfigOut: file }, c.ctx, stop.signal);
    let kube: Kube | undefined;
    try {
      await waitFor(() => c.stdout().includes('kubeconfig written'), 10_000, 'localkube to start');
      kube = new Kube(loadKubeConfig({ kubeconfig: file }));
      const plans = await kube.list({ group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace: 'default' });
      expect(plans.items).toStrictEqual([]);
    } finally {
      stop.abort();
    }
    expect(await exit).toBe(0);
    await expect(kube.list({ group: '', version: 'v1', plural: 'namespaces' })).rejects.toMatchObject({ status: 0 });
  });
});
