// What the e2e scenarios do to plans and targets, through the kubeconfig only, the way a person
// with kubectl would: create, merge-patch the spec, annotate, delete, hand-edit a target. Plus
// the waits they need, which poll the cluster with generous deadlines (CI has 2 cores).
import { E2E_KUBECONFIG, waitFor, type TestCluster } from './cluster';
import { SETTLE_MS } from './deadlines';
import { createObjects, REFS, targetFixture, type BackendOptions, WeightRecorder, weightOf, writtenObject, planObject } from './targets';
import { isNotFound, type KubeObject, type ResourceRef } from '../../src/kube';
import {
  REQUEST_ANNOTATIONS,
  type Condition,
  type MigrationPlanStatus,
  type Phase,
  type RequestKind,
  type Target,
} from '../../src/plan/schema';
import * as gatewayApi from '../../src/providers/gatewayApi';
import * as istio from '../../src/providers/istio';
import * as nginx from '../../src/providers/nginx';
import * as service from '../../src/providers/service';
import * as smi from '../../src/providers/smi';

/** Tests that inject faults or read the request log need the in-process server (`cluster.local`).
 * Decided when the file is collected: against a real cluster (TRAFFICSHIFT_E2E_KUBECONFIG) they
 * are registered as skipped, each with a line that says so and why. (An afterAll summary would
 * not print: jest runs no hooks in a file whose tests are all skipped.) */
export function inProcessOnly(): jest.It {
  if (!E2E_KUBECONFIG) return it;
  let skipped = 0;
  return ((name: string, fn?: jest.ProvidesCallback, timeout?: number) => {
    skipped++;
    // eslint-disable-next-line no-console
    console.log(`skipping in-process-only test #${skipped} "${name}": it needs fault injection or the request log of the in-process API server, and TRAFFICSHIFT_E2E_KUBECONFIG points at a real cluster`);
    it.skip(name, fn, timeout);
  }) as jest.It;
}

export function planRef(cluster: TestCluster, name?: string): ResourceRef {
  return name === undefined ? { ...REFS.plans, namespace: cluster.namespace } : { ...REFS.plans, namespace: cluster.namespace, name };
}

export async function createPlan(cluster: TestCluster, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Promise<void> {
  const body = planObject(name, spec);
  if (annotations) (body['metadata'] as Record<string, unknown>)['annotations'] = annotations;
  await cluster.kube.create(planRef(cluster), body);
}

export async function planStatus(cluster: TestCluster, name: string): Promise<MigrationPlanStatus | undefined> {
  const obj = await cluster.kube.get(planRef(cluster, name));
  return obj['status'] as MigrationPlanStatus | undefined;
}

export function condition(status: MigrationPlanStatus | undefined, type: Condition['type']): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Waits until the plan's status satisfies `ok`; the timeout message shows the last status seen. */
export async function waitForStatus(
  cluster: TestCluster,
  name: string,
  ok: (status: MigrationPlanStatus | undefined) => boolean,
  what: string,
  timeoutMs = SETTLE_MS,
): Promise<MigrationPlanStatus> {
  let last: MigrationPlanStatus | undefined;
  try {
    await waitFor(async () => ok((last = await planStatus(cluster, name))), timeoutMs, `plan ${name}: ${what}`);
  } catch (error) {
    const brief = last && { phase: last.phase, currentStep: last.currentStep, canaryWeight: last.canaryWeight, conditions: last.conditions, history: last.history?.slice(-5) };
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(brief)}`);
  }
  return last as MigrationPlanStatus;
}

export function waitForPhase(cluster: TestCluster, name: string, phase: Phase, timeoutMs = SETTLE_MS): Promise<MigrationPlanStatus> {
  return waitForStatus(cluster, name, (s) => s?.phase === phase, `phase ${phase}`, timeoutMs);
}

/** `kubectl patch mp NAME --type merge -p '{"spec": ...}'`. */
export async function patchSpec(cluster: TestCluster, name: string, spec: Record<string, unknown>): Promise<void> {
  await cluster.kube.mergePatch(planRef(cluster, name), { spec });
}

/** `kubectl annotate mp NAME trafficshift.io/<kind>=<value> --overwrite`. */
export async function request(cluster: TestCluster, name: string, kind: RequestKind, value: string): Promise<void> {
  await cluster.kube.mergePatch(planRef(cluster, name), { metadata: { annotations: { [REQUEST_ANNOTATIONS[kind]]: value } } });
}

export async function deletePlan(cluster: TestCluster, name: string): Promise<void> {
  await cluster.kube.delete(planRef(cluster, name));
}

export async function planExists(cluster: TestCluster, name: string): Promise<boolean> {
  try {
    await cluster.kube.get(planRef(cluster, name));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Strips our finalizer from every plan left in the namespace, so deleting the namespace does
 * not hang on a real cluster once the controller is gone. */
/** A target of `provider` named `base`, its objects created, and a recorder watching it. */
export async function makeTarget(cluster: TestCluster, provider: Target['provider'], base: string, backends: BackendOptions = {}): Promise<{ target: Target; recorder: WeightRecorder }> {
  const { target, objects } = targetFixture(provider, base, backends);
  await createObjects(cluster, objects);
  const recorder = new WeightRecorder(cluster, target);
  await recorder.start();
  return { target, recorder };
}

/** The canary weight the target's live object holds now (undefined when it cannot be read). */
export async function liveWeight(cluster: TestCluster, target: Target): Promise<number | undefined> {
  const { ref, name } = writtenObject(target);
  const obj = await cluster.kube.get({ ...ref, namespace: cluster.namespace, name });
  return weightOf(target, cluster.namespace, obj);
}

export async function waitForWeight(cluster: TestCluster, target: Target, weight: number, timeoutMs = SETTLE_MS): Promise<void> {
  let last: number | undefined;
  await waitFor(async () => (last = await liveWeight(cluster, target)) === weight, timeoutMs, `${target.provider} target at canary ${weight} (last ${String(last)})`);
}

/** What a person does with kubectl edit: sets the target's weights, with the same fields the
 * provider writes, under the e2e field manager. */
export async function setWeightByHand(cluster: TestCluster, target: Target, weight: number): Promise<void> {
  const { ref, name } = writtenObject(target);
  const at = { ...ref, namespace: cluster.namespace, name };
  const obj = await cluster.kube.get(at);
  const ns = cluster.namespace;
  const fail = (message: string): never => {
    throw new Error(`cannot hand-edit ${name}: ${message}`);
  };
  switch (target.provider) {
    case 'nginx': {
      const plan = nginx.buildPatch(obj, target.nginx ?? fail('no nginx block'), ns, weight);
      await cluster.kube.mergePatch(at, plan.ok ? plan.patch : fail(plan.message));
      return;
    }
    case 'service': {
      const plan = service.buildPatch(obj, target.service ?? fail('no service block'), ns, weight);
      await cluster.kube.mergePatch(at, (plan.ok ? plan.patch : fail(plan.message)) as KubeObject);
      return;
    }
    case 'gatewayAPI': {
      const plan = gatewayApi.buildPatch(obj, target.gatewayAPI ?? fail('no gatewayAPI block'), ns, weight);
      await cluster.kube.jsonPatch(at, plan.ok ? plan.patch : fail(plan.message));
      return;
    }
    case 'istio': {
      const plan = istio.buildPatch(obj, target.istio ?? fail('no istio block'), ns, weight);
      await cluster.kube.jsonPatch(at, plan.ok ? plan.patch : fail(plan.message));
      return;
    }
    case 'smi': {
      const plan = smi.buildPatch(obj, target.smi ?? fail('no smi block'), ns, weight);
      await cluster.kube.jsonPatch(at, plan.ok ? plan.patch : fail(plan.message));
      return;
    }
  }
}

/** Lets time pass while something is expected NOT to happen (a weight that must not move). This
 * is an observation window, never a wait for something to be done: those use waitFor. */
export function observeFor(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A webhook check against the CheckServer, with a 1s interval (the minimum). */
export function webhookAnalysis(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { interval: '1s', checks: [{ name: 'smoke', webhook: { url, timeout: '2s' }, max: 0.05, ...extra }] };
}

/**
 * Proof that the controller has finished a whole reconcile of the plan that began after this
 * call: a promote request is recorded in status.handledRequests by the next reconcile, and a
 * second one only after the first reconcile is over (one key never runs twice at once; a
 * reconcile writes status before targets). Only for plans where promote does nothing
 * (Succeeded, RolledBack, Failed, Pending): elsewhere it waives a pause.
 */
export async function reconciledSince(cluster: TestCluster, name: string, tag: string): Promise<MigrationPlanStatus> {
  let status: MigrationPlanStatus | undefined;
  for (const round of ['a', 'b']) {
    const value = `${tag}-${round}`;
    await request(cluster, name, 'promote', value);
    status = await waitForStatus(cluster, name, (s) => s?.handledRequests?.promote === value, `promote request "${value}" handled`);
  }
  return status as MigrationPlanStatus;
}
