// What the steering-command tests share: running the CLI in-process with captured streams, a
// terminal-like stream, and plans whose status a test writes itself (the controller's part),
// so each phase can be set up at once and exactly.
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/program';
import type { KubeObject } from '../../src/kube';
import type { Condition, MigrationPlanStatus, Phase } from '../../src/plan/schema';
import { waitFor, type TestCluster } from '../support/cluster';
import { CATCH_UP_MS } from '../support/deadlines';
import { createObjects, planObject, REFS, targetFixture } from '../support/targets';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CapturedStream {
  write(text: string): boolean;
  text(): string;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export function capture(tty?: { columns: number; rows: number }): CapturedStream {
  let text = '';
  return {
    write: (t: string) => {
      text += t;
      return true;
    },
    text: () => text,
    ...(tty ? { isTTY: true, columns: tty.columns, rows: tty.rows } : {}),
  };
}

/** Runs `trafficshift ARGS` in-process. `stdout` lets a test watch the output as it comes. */
export async function cli(args: string[], options: { stdout?: CapturedStream; invokedAs?: string } = {}): Promise<Run> {
  const stdout = options.stdout ?? capture();
  const stderr = capture();
  const code = await runCli(['node', options.invokedAs ?? '/usr/local/bin/trafficshift', ...args], { stdout, stderr, stdin: Readable.from(['']) });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The flags that point a command at the test cluster's namespace. */
export function at(cluster: TestCluster, namespace = cluster.namespace): string[] {
  return ['--kubeconfig', cluster.kubeconfigPath, '-n', namespace];
}

export function planAt(cluster: TestCluster, name: string, namespace = cluster.namespace) {
  return { ...REFS.plans, namespace, name };
}

export async function getPlanObject(cluster: TestCluster, name: string, namespace = cluster.namespace): Promise<KubeObject> {
  return cluster.kube.get(planAt(cluster, name, namespace));
}

export async function resourceVersion(cluster: TestCluster, name: string, namespace = cluster.namespace): Promise<string> {
  return ((await getPlanObject(cluster, name, namespace))['metadata'] as { resourceVersion: string }).resourceVersion;
}

export async function annotations(cluster: TestCluster, name: string): Promise<Record<string, string>> {
  return ((await getPlanObject(cluster, name))['metadata'] as { annotations?: Record<string, string> }).annotations ?? {};
}

const T0 = '2026-01-01T00:00:00Z';

function conditions(phase: Phase): Condition[] {
  return [
    { type: 'Ready', status: phase === 'Succeeded' ? 'True' : 'False', reason: phase, message: `plan is ${phase}`, lastTransitionTime: T0 },
    { type: 'Progressing', status: phase === 'Progressing' ? 'True' : 'False', reason: phase, message: `plan is ${phase}`, lastTransitionTime: T0 },
    { type: 'Stalled', status: 'False', reason: phase, message: `plan is ${phase}`, lastTransitionTime: T0 },
  ];
}

/** A status as the controller would write it for `phase` (at step `currentStep`, 0-based). */
export function statusFor(phase: Phase, extra: Partial<MigrationPlanStatus> = {}): MigrationPlanStatus {
  const now = new Date().toISOString();
  return {
    phase,
    observedGeneration: 1,
    currentStep: 0,
    canaryWeight: phase === 'RolledBack' || phase === 'Pending' ? 0 : 25,
    conditions: conditions(phase),
    history: [{ at: now, event: phase, weight: 0, message: `now ${phase}` }],
    ...(phase === 'RolledBack' || phase === 'RollingBack'
      ? { rollback: { reason: 'errors seen', triggeredAt: now, ...(phase === 'RolledBack' ? { completedAt: now, recoverySeconds: 0.4 } : {}) } }
      : {}),
    ...extra,
  };
}

/** Writes the plan's status, as the controller does (the status subresource). */
export async function setStatus(cluster: TestCluster, name: string, status: MigrationPlanStatus, namespace = cluster.namespace): Promise<void> {
  const ref = planAt(cluster, name, namespace);
  const current = await cluster.kube.get(ref);
  await cluster.kube.replace(ref, { ...current, status }, { subresource: 'status' });
}

/** A plan over one nginx target (its Ingresses created, canary at 0) with four steps. */
export async function makePlan(
  cluster: TestCluster,
  name: string,
  options: { status?: MigrationPlanStatus; labels?: Record<string, string>; namespace?: string; spec?: Record<string, unknown> } = {},
): Promise<void> {
  const namespace = options.namespace ?? cluster.namespace;
  const { target, objects } = targetFixture('nginx', `${name}-ing`);
  await createObjects({ ...cluster, namespace }, objects);
  const body = planObject(name, { targets: [target], steps: [{ weight: 25, pause: {} }, { weight: 50 }, { weight: 75 }, { weight: 100 }], ...options.spec });
  if (options.labels) (body['metadata'] as Record<string, unknown>)['labels'] = options.labels;
  await cluster.kube.create({ ...REFS.plans, namespace }, body);
  if (options.status) await setStatus(cluster, name, options.status, namespace);
}

/** Resolves once a command's watch of the plan has listed it (in-process: the server's request
 * log; against a real cluster, after a grace second). The watch resumes from that list, so a
 * change after it reaches the command; one before could fall between its first read and its
 * watch. (A watch is logged only when it ends; the list before it, at once.) */
export async function watchStarted(cluster: TestCluster, name: string): Promise<void> {
  const local = cluster.local;
  if (!local) {
    await new Promise((r) => setTimeout(r, 1_000));
    return;
  }
  await waitFor(
    () => local.requests.some((r) => r.method === 'GET' && r.query['watch'] === undefined && r.path.endsWith(`/namespaces/${cluster.namespace}/migrationplans`) && r.query['fieldSelector'] === `metadata.name=${name}`),
    CATCH_UP_MS,
    `a watch of plan ${name}`,
  );
}

/** No stack trace: no `    at ` frame lines, and the message is one line. */
export function expectOneLine(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text.trimEnd().split('\n')).toHaveLength(1);
}
