// Who may steer what, decided by cluster RBAC on every path. ServiceAccounts with and without a
// RoleBinding get tokens from the TokenRequest API, then call the controller's REST API (which
// asks the API server: TokenReview, then SubjectAccessReview), and run the CLI with a kubeconfig
// of their own (the API server itself decides). The in-process server here serves TLS with RBAC
// and no anonymous access, as a cluster does; against a real cluster the file runs unchanged.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeconfigForToken, planRules, serviceAccountToken } from '../support/accounts';
import type { TestCluster } from '../support/cluster';
import { REPO_ROOT } from '../support/cluster';
import { SETTLE_MS } from '../support/deadlines';
import { useE2eRun } from '../support/e2e';
import { createPlan, liveWeight, planStatus, waitForPhase, waitForWeight } from '../support/plans';
import { CLI } from '../support/controllerProcess';

const run = promisify(execFile);
const e2e = useE2eRun('access', { cluster: { secured: true } });

/** Tokens of three ServiceAccounts: one that may steer plans, one that may read them, one with no binding. */
const tokens: Record<'steerer' | 'viewer' | 'nobody', string> = { steerer: '', viewer: '', nobody: '' };
let tmp = '';

const kubeconfigFor = (cluster: TestCluster, label: string, token: string): string => kubeconfigForToken(cluster, tmp, label, token);

async function call(method: 'GET' | 'POST', urlPath: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${e2e.controller.url}${urlPath}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const planPath = (name: string): string => `/api/v1/namespaces/${e2e.cluster.namespace}/plans/${name}`;

interface Route {
  name: string;
  method: 'GET' | 'POST';
  path: (plan: string) => string;
  body?: unknown;
  /** Reading, not steering: a viewer may. */
  read: boolean;
}

const ROUTES: Route[] = [
  { name: 'list', method: 'GET', path: () => `/api/v1/plans?namespace=${e2e.cluster.namespace}`, read: true },
  { name: 'detail', method: 'GET', path: (p) => planPath(p), read: true },
  { name: 'pause', method: 'POST', path: (p) => `${planPath(p)}/pause`, read: false },
  { name: 'resume', method: 'POST', path: (p) => `${planPath(p)}/resume`, read: false },
  { name: 'promote', method: 'POST', path: (p) => `${planPath(p)}/promote`, read: false },
  { name: 'rollback', method: 'POST', path: (p) => `${planPath(p)}/rollback`, body: { reason: 'access test' }, read: false },
  { name: 'retry', method: 'POST', path: (p) => `${planPath(p)}/retry`, read: false },
];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-access-'));
  tokens.steerer = await serviceAccountToken(e2e.cluster, 'steerer', [
    ...planRules('steer'),
    // For the CLI's live read of each target's weight.
    { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['get'] },
    { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get'] },
  ]);
  tokens.viewer = await serviceAccountToken(e2e.cluster, 'viewer', planRules('read'));
  tokens.nobody = await serviceAccountToken(e2e.cluster, 'nobody');
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the REST API asks the cluster who may do what', () => {
  const PLAN = 'guarded';
  beforeAll(async () => {
    const { target } = await e2e.target('gatewayAPI', PLAN);
    await createPlan(e2e.cluster, PLAN, { targets: [target], steps: [{ weight: 20, pause: {} }, { weight: 100 }] });
    await waitForPhase(e2e.cluster, PLAN, 'WaitingForPromotion');
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))('%s: 401 without a token and with a token the cluster does not know', async (_name, route) => {
    for (const token of [undefined, 'not-a-token']) {
      const res = await call(route.method, route.path(PLAN), token, route.body);
      expect([route.name, res.status, res.body['reason']]).toEqual([route.name, 401, 'Unauthorized']);
      expect(res.body['error']).toEqual(expect.any(String));
    }
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))('%s: 403 for a ServiceAccount with no binding, the same for a plan that does not exist', async (_name, route) => {
    const existing = await call(route.method, route.path(PLAN), tokens.nobody, route.body);
    const missing = await call(route.method, route.path('no-such-plan'), tokens.nobody, route.body);
    expect([route.name, existing.status, existing.body['reason']]).toEqual([route.name, 403, 'Forbidden']);
    if (route.name !== 'list') expect(missing).toEqual({ status: 403, body: { ...existing.body, error: (existing.body['error'] as string).replace(PLAN, 'no-such-plan') } });
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))('%s: a ServiceAccount bound to get and list reads, and may not steer', async (_name, route) => {
    const res = await call(route.method, route.path(PLAN), tokens.viewer, route.body);
    expect([route.name, res.status]).toEqual([route.name, route.read ? 200 : 403]);
  });

  it('a 404 for an unknown plan only for a caller who may read it', async () => {
    const res = await call('GET', planPath('no-such-plan'), tokens.viewer);
    expect([res.status, res.body['reason']]).toEqual([404, 'NotFound']);
  });

  it('a ServiceAccount bound to patch steers: pause lands in spec.paused, a second pause writes nothing, resume, promote', async () => {
    const paused = await call('POST', `${planPath(PLAN)}/pause`, tokens.steerer);
    expect(paused.status).toBe(200);
    const spec = (await e2e.cluster.kube.get({ group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace: e2e.cluster.namespace, name: PLAN }))['spec'] as { paused?: boolean };
    expect(spec.paused).toBe(true);
    await waitForPhase(e2e.cluster, PLAN, 'Paused');
    // Asked again: the state it already has, so 200 and nothing written.
    const again = await call('POST', `${planPath(PLAN)}/pause`, tokens.steerer);
    expect([again.status, again.body['changed']]).toEqual([200, false]);

    expect((await call('POST', `${planPath(PLAN)}/resume`, tokens.steerer)).status).toBe(200);
    await waitForPhase(e2e.cluster, PLAN, 'WaitingForPromotion');
    expect((await call('POST', `${planPath(PLAN)}/promote`, tokens.steerer)).status).toBe(200);
    await waitForPhase(e2e.cluster, PLAN, 'Succeeded');

    const listed = await call('GET', `/api/v1/plans?namespace=${e2e.cluster.namespace}`, tokens.steerer);
    expect(listed.status).toBe(200);
    expect((listed.body['items'] as Array<{ name: string }>).map((p) => p.name)).toContain(PLAN);
  });

  it('rollback?wait answers once every target holds 0, with recoverySeconds; retry starts the plan again', async () => {
    const name = 'guarded-rollback';
    const { target } = await e2e.target('istio', name);
    await createPlan(e2e.cluster, name, { targets: [target], steps: [{ weight: 30, pause: {} }, { weight: 100 }] });
    await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');
    const res = await call('POST', `${planPath(name)}/rollback?wait=60s`, tokens.steerer, { reason: 'p99 doubled' });
    expect(res.status).toBe(200);
    expect(res.body['rollback']).toEqual(expect.objectContaining({ recoverySeconds: expect.any(Number) }));
    expect(await liveWeight(e2e.cluster, target)).toBe(0);
    expect((await planStatus(e2e.cluster, name))?.phase).toBe('RolledBack');

    expect((await call('POST', `${planPath(name)}/retry`, tokens.steerer)).status).toBe(200);
    await waitForWeight(e2e.cluster, target, 30);
  });
});

describe('the Alertmanager webhook rolls back only plans its caller may patch', () => {
  const alertFor = (plan: string): Record<string, unknown> => ({
    version: '4',
    status: 'firing',
    receiver: 'trafficshift',
    alerts: [{ status: 'firing', labels: { alertname: 'CanaryBroken', migration: plan }, startsAt: new Date().toISOString() }],
  });

  it('401 without a token; 200 that skips the plan for a caller who may not patch it; a rollback for one who may', async () => {
    const name = 'alerted';
    const { target } = await e2e.target('gatewayAPI', name);
    await createPlan(e2e.cluster, name, { targets: [target], steps: [{ weight: 25, pause: {} }, { weight: 100 }], rollback: { alertmanager: { matchLabels: { migration: name } } } });
    await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');

    const anonymous = await call('POST', '/api/v1/alerts', undefined, alertFor(name));
    expect([anonymous.status, anonymous.body['reason']]).toEqual([401, 'Unauthorized']);

    for (const who of ['nobody', 'viewer'] as const) {
      const skipped = await call('POST', '/api/v1/alerts', tokens[who], alertFor(name));
      expect([who, skipped.status]).toEqual([who, 200]);
      expect(skipped.body['rolledBack']).toEqual([]);
      expect(skipped.body['skipped']).toEqual([expect.objectContaining({ namespace: e2e.cluster.namespace, name, reason: 'Forbidden' })]);
    }
    expect((await planStatus(e2e.cluster, name))?.phase).toBe('WaitingForPromotion');
    expect(await liveWeight(e2e.cluster, target)).toBe(25);

    const allowed = await call('POST', '/api/v1/alerts', tokens.steerer, alertFor(name));
    expect(allowed.status).toBe(200);
    expect(allowed.body['rolledBack']).toEqual([expect.objectContaining({ namespace: e2e.cluster.namespace, name })]);
    await waitForPhase(e2e.cluster, name, 'RolledBack');
    await waitForWeight(e2e.cluster, target, 0);
  });
});

describe('the CLI talks to the cluster with the user\'s own credentials', () => {
  const cli = (kubeconfig: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    run(process.execPath, [CLI, ...args, '--kubeconfig', kubeconfig], { env: { ...process.env, KUBECONFIG: '' }, timeout: SETTLE_MS }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
    );

  it('one command rolls back a 3-target plan: exit 0 once every target holds 0, with the reason and the recovery time', async () => {
    const name = 'three-routes';
    const made = [await e2e.target('gatewayAPI', `${name}-a`), await e2e.target('istio', `${name}-b`), await e2e.target('nginx', `${name}-c`)];
    await createPlan(e2e.cluster, name, { targets: made.map((m) => m.target), steps: [{ weight: 40, pause: {} }, { weight: 100 }] });
    await waitForPhase(e2e.cluster, name, 'WaitingForPromotion');
    for (const { target } of made) expect(await liveWeight(e2e.cluster, target)).toBe(40);

    const steerer = kubeconfigFor(e2e.cluster, 'steerer', tokens.steerer);
    const result = await cli(steerer, 'rollback', name, '--reason', 'checkout errors after deploy', '--timeout', '60s');
    expect(result).toEqual(expect.objectContaining({ code: 0 }));
    expect(result.stdout).toContain('checkout errors after deploy');
    expect(result.stdout).toMatch(/\d+(\.\d+)?\s*s/);
    for (const { target } of made) expect(await liveWeight(e2e.cluster, target)).toBe(0);
    expect((await planStatus(e2e.cluster, name))?.phase).toBe('RolledBack');
  });

  it('a user without a binding gets one line and a non-zero exit, from every steering command', async () => {
    const nobody = kubeconfigFor(e2e.cluster, 'nobody', tokens.nobody);
    for (const args of [['list'], ['status', 'guarded'], ['pause', 'guarded'], ['resume', 'guarded'], ['promote', 'guarded'], ['rollback', 'guarded', '--no-wait'], ['retry', 'guarded']]) {
      const result = await cli(nobody, ...args);
      expect([args.join(' '), result.code === 0]).toEqual([args.join(' '), false]);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/forbidden|cannot/i);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('runs as a kubectl plugin: kubectl trafficshift list', async () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, 'dist/cli/main.js'), path.join(bin, 'kubectl-trafficshift'));
    fs.chmodSync(path.join(REPO_ROOT, 'dist/cli/main.js'), 0o755);
    const viewer = kubeconfigFor(e2e.cluster, 'viewer', tokens.viewer);
    const { stdout } = await run('kubectl', ['trafficshift', 'list', '--kubeconfig', viewer], { env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, KUBECONFIG: '' }, timeout: SETTLE_MS });
    expect(stdout).toContain('guarded');
  });
});
