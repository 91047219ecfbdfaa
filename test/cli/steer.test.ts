// The steering commands against a real (in-process) API server, with the plan's status written
// by the test in the controller's place, so every phase is set up at once: list, status, pause,
// resume, promote and retry, each with its no-write path, and the ways they fail.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { Kube, loadKubeConfig } from '../../src/kube';
import { LocalKube } from '../../src/localkube';
import { kubeconfigYaml } from '../../src/localkube/kubeconfig';
import { REQUEST_ANNOTATIONS } from '../../src/plan/schema';
import type { PlanView } from '../../src/steering/view';
import { extraNamespace, startCluster, type TestCluster } from '../support/cluster';
import { setWeightByHand } from '../support/plans';
import { createObjects, planObject, REFS, targetFixture } from '../support/targets';
import { annotations, at, cli, expectOneLine, getPlanObject, makePlan, resourceVersion, setStatus, statusFor } from './cliSupport';

let cluster: TestCluster;
let other: TestCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startCluster('cli-steer');
  other = await extraNamespace(cluster, 'cli-steer-other');
  dir = mkdtempSync(path.join(tmpdir(), 'trafficshift-cli-steer-'));
});
afterAll(async () => {
  await other?.close();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('list', () => {
  beforeAll(async () => {
    await makePlan(cluster, 'alpha', { labels: { team: 'shop' }, status: statusFor('Progressing', { currentStep: 1, canaryWeight: 50 }) });
    await makePlan(cluster, 'beta', { labels: { team: 'search' } });
    await makePlan(other, 'gamma', { status: statusFor('Succeeded', { currentStep: 3, canaryWeight: 100 }) });
  });

  it('prints a kubectl-like table of the namespace: phase, step, weight, age, message', async () => {
    const run = await cli(['list', ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{3,}/)).toStrictEqual(['NAME', 'PHASE', 'STEP', 'WEIGHT', 'AGE', 'MESSAGE']);
    expect(rows.map((r) => r.split(/\s{3,}/).slice(0, 4))).toStrictEqual([
      ['alpha', 'Progressing', '2/4', '50%'],
      ['beta', 'Pending', '0/4', '0%'],
    ]);
    expect(rows[0]).toMatch(/\s\d+s\s+plan is Progressing$/);
  });

  it("without -n: the kubeconfig context's namespace", async () => {
    const file = path.join(dir, 'context-namespace.kubeconfig');
    const text = readFileSync(cluster.kubeconfigPath, 'utf8');
    expect(text).toMatch(/namespace: \S+/);
    writeFileSync(file, text.replace(/namespace: \S+/, `namespace: ${cluster.namespace}`));
    const run = await cli(['list', '--kubeconfig', file]);
    expect(run.stdout.trimEnd().split('\n').slice(1).map((r) => r.split(/\s+/)[0])).toStrictEqual(['alpha', 'beta']);
  });

  it('passes -l to the API server as a label selector', async () => {
    const run = await cli(['list', ...at(cluster), '-l', 'team=shop']);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').slice(1).map((r) => r.split(/\s+/)[0])).toStrictEqual(['alpha']);
    const selected = cluster.local?.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/namespaces/${cluster.namespace}/migrationplans`) && r.query['labelSelector'] === 'team=shop');
    if (cluster.local) expect(selected?.length).toBeGreaterThan(0);
  });

  it('-A lists every namespace with a NAMESPACE column', async () => {
    const run = await cli(['list', '--kubeconfig', cluster.kubeconfigPath, '-A']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s{3,}/)[0]).toBe('NAMESPACE');
    const ours = lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3)).filter(([ns]) => ns === cluster.namespace || ns === other.namespace);
    expect(ours).toStrictEqual([
      [cluster.namespace, 'alpha', 'Progressing'],
      [cluster.namespace, 'beta', 'Pending'],
      [other.namespace, 'gamma', 'Succeeded'],
    ].sort((a, b) => (a[0] as string).localeCompare(b[0] as string)));
  });

  it('-o json and -o yaml print the plans\' views for scripts', async () => {
    const json = await cli(['list', ...at(cluster), '-o', 'json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { items: PlanView[] };
    expect(parsed.items.map((v) => [v.name, v.phase, v.step.number, v.step.count, v.canaryWeight])).toStrictEqual([
      ['alpha', 'Progressing', 2, 4, 50],
      ['beta', 'Pending', 0, 4, 0],
    ]);
    expect(parsed.items[0]).toMatchObject({ namespace: cluster.namespace, targets: [{ provider: 'nginx', weight: 50 }], pendingRequests: {}, events: expect.any(Array) });
    const asYaml = await cli(['list', ...at(other), '-o', 'yaml']);
    expect((yaml.load(asYaml.stdout) as { items: PlanView[] }).items.map((v) => v.name)).toStrictEqual(['gamma']);
  });

  it('says so on stderr when the namespace has none, and exits 0', async () => {
    const run = await cli(['list', ...at(cluster, 'kube-public')]);
    expect(run).toStrictEqual({ code: 0, stdout: '', stderr: 'No resources found in kube-public namespace.\n' });
  });
});

describe('status', () => {
  const name = 'shown';
  beforeAll(async () => {
    // Two targets: an nginx one at 50 (as the status says), and an HTTPRoute that does not exist.
    const nginx = targetFixture('nginx', `${name}-ing`);
    await createObjects(cluster, nginx.objects);
    await setWeightByHand(cluster, nginx.target, 50);
    const missing = targetFixture('gatewayAPI', `${name}-route`).target;
    await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, planObject(name, {
      targets: [nginx.target, missing],
      steps: [{ weight: 25 }, { weight: 50 }, { weight: 75 }, { weight: 100 }],
      analysis: { interval: '10s', checks: [{ name: 'error-rate', webhook: { url: 'http://checks.example/err' }, max: 0.05 }] },
    }));
    const at0 = new Date().toISOString();
    await setStatus(cluster, name, statusFor('Progressing', {
      currentStep: 1,
      canaryWeight: 50,
      checks: [{ name: 'error-rate', severity: 'critical', value: 0.0123456, threshold: '<= 0.05', result: 'Pass', consecutiveFailures: 0, at: at0 }],
      lastRound: { at: at0, verdict: 'Pass' },
      history: [
        { at: at0, event: 'Started', weight: 25, message: 'step 1/4: canary 25%' },
        { at: at0, event: 'StepAdvanced', weight: 50, message: 'step 2/4: canary 50%' },
      ],
    }));
    await cluster.kube.mergePatch({ ...REFS.plans, namespace: cluster.namespace, name }, { metadata: { annotations: { [REQUEST_ANNOTATIONS.promote]: 'go' } } });
  });

  it('shows phase, progress bar, live target weights (and why one cannot be read), checks, requests and events', async () => {
    const run = await cli(['status', name, ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const out = run.stdout;
    expect(out).toContain(`Name:        ${cluster.namespace}/${name}\n`);
    expect(out).toContain('Phase:       Progressing\n');
    expect(out).toContain('Progress:    [#####.....] step 2/4  canary 50%\n');
    expect(out).toMatch(new RegExp(`  nginx Ingress ${cluster.namespace}/${name}-ing-canary\\s+50%\\n`));
    expect(out).toMatch(new RegExp(`  gatewayAPI HTTPRoute ${cluster.namespace}/${name}-route\\s+\\?\\s+\\S.*\\n`));
    expect(out).toMatch(/ {2}NAME\s+VALUE\s+THRESHOLD\s+RESULT\s+FAILURES\s+AGE/);
    expect(out).toMatch(/ {2}error-rate\s+0\.01235\s+<= 0\.05\s+Pass\s+0\s+\d+s/);
    expect(out).toContain('Requests:    promote pending ("go")\n');
    expect(out).toMatch(/ {2}\d+s\s+StepAdvanced\s+50%\s+step 2\/4: canary 50%\n/);
  });

  it('-o json prints the view with the live weights', async () => {
    const run = await cli(['status', name, ...at(cluster), '-o', 'json']);
    expect(run.code).toBe(0);
    const view = JSON.parse(run.stdout) as PlanView;
    expect(view).toMatchObject({
      namespace: cluster.namespace,
      name,
      phase: 'Progressing',
      step: { number: 2, count: 4 },
      canaryWeight: 50,
      checks: [{ name: 'error-rate', value: 0.0123456, threshold: '<= 0.05', result: 'Pass' }],
      pendingRequests: { promote: 'go' },
    });
    expect(view.targets).toEqual([
      { target: `nginx Ingress ${cluster.namespace}/${name}-ing-canary`, provider: 'nginx', weight: 50 },
      { target: `gatewayAPI HTTPRoute ${cluster.namespace}/${name}-route`, provider: 'gatewayAPI', weight: null, problem: expect.any(String) },
    ]);
    expect(view.events.map((e) => e.event)).toStrictEqual(['Started', 'StepAdvanced']);
  });

  it('an unknown plan: kubectl\'s NotFound line, exit 1', async () => {
    const run = await cli(['status', 'nope', ...at(cluster)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`Error from server (NotFound): migrationplans.trafficshift.io "nope" not found in namespace "${cluster.namespace}"\n`);
  });
});

describe('pause and resume', () => {
  const name = 'pausable';
  beforeAll(() => makePlan(cluster, name, { status: statusFor('Progressing') }));

  it('pause sets spec.paused; a second pause says so and writes nothing', async () => {
    const run = await cli(['pause', name, ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`${cluster.namespace}/${name} paused`);
    expect(((await getPlanObject(cluster, name))['spec'] as { paused?: boolean }).paused).toBe(true);

    const rv = await resourceVersion(cluster, name);
    const again = await cli(['pause', name, ...at(cluster)]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('is already paused');
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });

  it('resume clears it; a second resume writes nothing', async () => {
    const run = await cli(['resume', name, ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`${cluster.namespace}/${name} resumed`);
    expect(((await getPlanObject(cluster, name))['spec'] as { paused?: boolean }).paused).toBe(false);

    const rv = await resourceVersion(cluster, name);
    const again = await cli(['resume', name, ...at(cluster)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is already not paused');
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });

  it('writes as field manager trafficshift-cli (in-process only: the request log)', async () => {
    if (!cluster.local) return;
    const patches = cluster.local.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/migrationplans/${name}`));
    expect(patches.length).toBeGreaterThan(0);
    expect(new Set(patches.map((p) => p.query['fieldManager']))).toStrictEqual(new Set(['trafficshift-cli']));
  });
});

describe('promote', () => {
  it('writes the promote annotation while the plan can take it; a pending one is not written again', async () => {
    const name = 'gate';
    await makePlan(cluster, name, { status: statusFor('WaitingForPromotion') });
    const run = await cli(['promote', name, ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`${cluster.namespace}/${name} promoted at step 1/4, canary 25%`);
    expect((await annotations(cluster, name))[REQUEST_ANNOTATIONS.promote]).toMatch(/^promoted at /);

    const rv = await resourceVersion(cluster, name);
    const again = await cli(['promote', name, ...at(cluster)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('a promote is already pending');
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });

  it.each(['Pending', 'RollingBack', 'RolledBack', 'Succeeded', 'Failed'] as const)('refuses a %s plan with one line, exit 1, nothing written', async (phase) => {
    const name = `nopromote-${phase.toLowerCase()}`;
    await makePlan(cluster, name, { status: statusFor(phase) });
    const rv = await resourceVersion(cluster, name);
    const run = await cli(['promote', name, ...at(cluster)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: cannot promote ${cluster.namespace}/${name}: it is ${phase}; promote works while it is Progressing, Holding, WaitingForPromotion, Paused\n`);
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });
});

describe('retry', () => {
  it('writes the retry annotation for a RolledBack plan; a pending retry is not written again', async () => {
    const name = 'again';
    await makePlan(cluster, name, { status: statusFor('RolledBack') });
    const run = await cli(['retry', name, ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('retried');
    expect((await annotations(cluster, name))[REQUEST_ANNOTATIONS.retry]).toMatch(/^retried at /);
    const rv = await resourceVersion(cluster, name);
    const again = await cli(['retry', name, ...at(cluster)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('a retry is already pending');
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });

  it('retries a Failed plan', async () => {
    await makePlan(cluster, 'failed', { status: statusFor('Failed') });
    expect((await cli(['retry', 'failed', ...at(cluster)])).code).toBe(0);
    expect((await annotations(cluster, 'failed'))[REQUEST_ANNOTATIONS.retry]).toBeDefined();
  });

  it.each(['Pending', 'Progressing', 'Paused'] as const)('says a %s plan is already running: exit 0, nothing written', async (phase) => {
    const name = `running-${phase.toLowerCase()}`;
    await makePlan(cluster, name, { status: statusFor(phase) });
    const rv = await resourceVersion(cluster, name);
    const run = await cli(['retry', name, ...at(cluster)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`is already running (phase ${phase})`);
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });

  it.each([
    ['RollingBack', 'it is rolling back'],
    ['Succeeded', 'it Succeeded, which is final'],
  ] as const)('refuses a %s plan: exit 1, nothing written', async (phase, why) => {
    const name = `noretry-${phase.toLowerCase()}`;
    await makePlan(cluster, name, { status: statusFor(phase) });
    const rv = await resourceVersion(cluster, name);
    const run = await cli(['retry', name, ...at(cluster)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: cannot retry ${cluster.namespace}/${name}: ${why}`);
    expectOneLine(run.stderr);
    expect(await resourceVersion(cluster, name)).toBe(rv);
  });
});

describe('failures: one line, non-zero, no stack trace', () => {
  it.each([
    ['an unknown flag', ['list', '--bogus']],
    ['a bad -o', ['list', '-o', 'xml']],
    ['wait without --for', ['wait', 'x']],
    ['wait --for a state that does not exist', ['wait', 'x', '--for', 'Sideways']],
    ['a bad --timeout', ['rollback', 'x', '--timeout', 'soon']],
    ['a missing NAME', ['status']],
  ])('%s', async (_what, args) => {
    const run = await cli([...args, '--kubeconfig', cluster.kubeconfigPath]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /);
    expectOneLine(run.stderr);
  });

  it('a kubeconfig that does not exist', async () => {
    const run = await cli(['list', '--kubeconfig', path.join(dir, 'nope.kubeconfig')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: kubeconfig .*nope\.kubeconfig \(from --kubeconfig\) does not exist\n$/);
  });

  it('a context the kubeconfig lacks', async () => {
    const run = await cli(['list', '--kubeconfig', cluster.kubeconfigPath, '--context', 'prod']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: context "prod" is not in the kubeconfig/);
    expectOneLine(run.stderr);
  });

  it('a kubeconfig that is not YAML', async () => {
    const file = path.join(dir, 'broken.kubeconfig');
    writeFileSync(file, 'clusters: [\n');
    const run = await cli(['pause', 'x', '--kubeconfig', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: kubeconfig .* could not be read/);
    expectOneLine(run.stderr);
  });

  it('a cluster that does not answer', async () => {
    const stopped = new LocalKube();
    await stopped.start();
    const url = stopped.url;
    await stopped.stop();
    const file = path.join(dir, 'unreachable.kubeconfig');
    writeFileSync(file, kubeconfigYaml(url, 'token'));
    const run = await cli(['rollback', 'x', '--kubeconfig', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: cannot reach the Kubernetes API server at ${url} (ECONNREFUSED): is the cluster up, and is this the right kubeconfig and context?\n`);
  });
});

describe('RBAC decides (in-process server with tokens and rules)', () => {
  let local: LocalKube;
  const kubeconfig = (token: string, user: string): string => {
    const file = path.join(dir, `${user}.kubeconfig`);
    writeFileSync(file, kubeconfigYaml(local.url, token, 'shop', { user }));
    return file;
  };

  beforeAll(async () => {
    local = new LocalKube({
      namespaces: ['default', 'shop'],
      tokens: { 'viewer-token': { username: 'viewer' }, 'nobody-token': { username: 'nobody' } },
      rules: [{ users: ['viewer'], verbs: ['get', 'list', 'watch'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'] }],
    });
    await local.start();
    const admin = path.join(dir, 'admin.kubeconfig');
    local.writeKubeconfig(admin, 'shop');
    const kube = new Kube(loadKubeConfig({ kubeconfig: admin }));
    await kube.create({ ...REFS.plans, namespace: 'shop' }, planObject('checkout', { targets: [targetFixture('nginx', 'checkout').target], steps: [{ weight: 100 }] }));
    kube.close();
  });
  afterAll(() => local?.stop());

  it('a user who may read but not patch: pause is refused with one line naming the verb and resource, exit 1', async () => {
    const file = kubeconfig('viewer-token', 'viewer');
    expect((await cli(['list', '--kubeconfig', file])).code).toBe(0);
    const run = await cli(['pause', 'checkout', '--kubeconfig', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error from server \(Forbidden\): .*cannot patch .*"migrationplans".*\n$/);
    expect(run.stderr).toContain('"viewer"');
    expectOneLine(run.stderr);
  });

  it('a user with no rights: list is refused naming list and migrationplans', async () => {
    const run = await cli(['list', '--kubeconfig', kubeconfig('nobody-token', 'nobody')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error from server \(Forbidden\): .*cannot list .*"migrationplans"/);
    expectOneLine(run.stderr);
  });

  it('a token the server does not know: 401 in one line', async () => {
    const run = await cli(['status', 'checkout', '--kubeconfig', kubeconfig('wrong-token', 'stranger')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: the Kubernetes API server at ${local.url} did not accept the credentials of kubeconfig user "stranger" (401 Unauthorized)\n`);
  });
});
