// A rollback decided on the watch caches' copies of the targets (no GET each) must never trust
// them for the result: a cache a moment behind, that says a target already holds 0 while it holds
// 40, still ends with that target written to 0, and the plan is RolledBack only on the weights the
// server answered the writes with.
import { createAnalysisRunner, createHookRunner } from '../../src/checks';
import { controllerKube } from '../../src/controller/controller';
import { silentLogger } from '../../src/controller/logger';
import { reconcilePlan, type ReconcileDeps } from '../../src/controller/reconcile';
import type { KubeObject, ResourceRef } from '../../src/kube';
import { createProvider } from '../../src/providers';
import { REQUEST_ANNOTATIONS } from '../../src/plan/schema';
import { startCluster, type TestCluster } from '../support/cluster';
import { createPlan, liveWeight, planRef, planStatus, setWeightByHand } from '../support/plans';
import { createObjects, targetFixture } from '../support/targets';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster('cached-rollback');
});
afterAll(async () => {
  await cluster?.close();
});

function deps(cached: (ref: ResourceRef) => KubeObject | undefined): ReconcileDeps {
  const kube = controllerKube(cluster.kubeConfig);
  return {
    kube,
    providerFor: (namespace, target) => createProvider(kube, namespace, target),
    analysis: createAnalysisRunner({ secrets: { read: () => Promise.reject(new Error('no secrets here')) } }),
    hooks: createHookRunner(),
    events: { record: () => Promise.resolve() },
    notifier: { send: () => undefined },
    log: silentLogger(),
    now: Date.now,
    cachedTarget: cached,
  };
}

it('writes 0 to every target, one the stale cache says is at 0 included, and is RolledBack on what the server answered', async () => {
  const a = targetFixture('nginx', 'stale-a');
  const b = targetFixture('nginx', 'stale-b');
  await createObjects(cluster, [...a.objects, ...b.objects]);
  for (const t of [a.target, b.target]) await setWeightByHand(cluster, t, 40);
  await createPlan(cluster, 'stale', { targets: [a.target, b.target], steps: [{ weight: 40, pause: {} }, { weight: 100 }] });
  // The plan holds its first step at 40, as the controller would have left it.
  await cluster.kube.replace({ ...planRef(cluster, 'stale') }, {
    ...(await cluster.kube.get(planRef(cluster, 'stale'))),
    status: { phase: 'WaitingForPromotion', currentStep: 0, canaryWeight: 40, stepStartedAt: new Date().toISOString() },
  }, { subresource: 'status' });
  await cluster.kube.mergePatch(planRef(cluster, 'stale'), { metadata: { annotations: { [REQUEST_ANNOTATIONS.rollback]: 'stale cache test' } } });

  // The cache's copies: every object, but b's canary a moment behind, already at 0.
  const copies = new Map<string, KubeObject>();
  for (const { ref, body } of [...a.objects, ...b.objects]) {
    const name = (body['metadata'] as { name: string }).name;
    const live = await cluster.kube.get({ ...ref, namespace: cluster.namespace, name });
    copies.set(name, name === 'stale-b-canary' ? { ...live, metadata: { ...(live['metadata'] as object), annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' } } } : live);
  }
  const lookups: string[] = [];
  const result = await reconcilePlan(deps((ref) => {
    lookups.push(ref.name ?? '');
    return copies.get(ref.name ?? '');
  }), { namespace: cluster.namespace, name: 'stale' }, new AbortController().signal);

  expect(result.gone).toBeUndefined();
  expect(lookups).toEqual(expect.arrayContaining(['stale-a-canary', 'stale-b-canary']));
  expect(await liveWeight(cluster, a.target)).toBe(0);
  expect(await liveWeight(cluster, b.target)).toBe(0);
  expect((await planStatus(cluster, 'stale'))?.phase).toBe('RolledBack');
});

it('reads the targets when the cache lacks one', async () => {
  const c = targetFixture('nginx', 'uncached');
  await createObjects(cluster, c.objects);
  await setWeightByHand(cluster, c.target, 30);
  await createPlan(cluster, 'uncached', { targets: [c.target], steps: [{ weight: 30, pause: {} }, { weight: 100 }] });
  await cluster.kube.replace(planRef(cluster, 'uncached'), {
    ...(await cluster.kube.get(planRef(cluster, 'uncached'))),
    status: { phase: 'WaitingForPromotion', currentStep: 0, canaryWeight: 30, stepStartedAt: new Date().toISOString() },
  }, { subresource: 'status' });
  await cluster.kube.mergePatch(planRef(cluster, 'uncached'), { metadata: { annotations: { [REQUEST_ANNOTATIONS.rollback]: 'nothing cached' } } });
  await reconcilePlan(deps(() => undefined), { namespace: cluster.namespace, name: 'uncached' }, new AbortController().signal);
  expect(await liveWeight(cluster, c.target)).toBe(0);
  expect((await planStatus(cluster, 'uncached'))?.phase).toBe('RolledBack');
});
