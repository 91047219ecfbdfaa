// FreshReads answers a read from the cache only at a version this replica confirmed (read from
// or written to the server); everything else goes to the server. The cache here is a Map the test
// fills by hand, so a copy can be made stale, or ahead, on purpose.
import { controllerKube } from '../../src/controller/controller';
import { FreshReads, objectCacheKey } from '../../src/controller/freshReads';
import { isConflict, type Kube, type KubeObject, type ResourceRef } from '../../src/kube';
import { startCluster, type TestCluster } from '../support/cluster';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster('fresh-reads');
});
afterAll(async () => {
  await cluster?.close();
});

const WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';

async function ingress(name: string): Promise<ResourceRef> {
  const ref = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: cluster.namespace, name };
  await cluster.kube.create(ref, {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, annotations: { [WEIGHT]: '0' } },
    spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'old', port: { number: 80 } } } }] } }] },
  });
  return ref;
}

const weightOf = (obj: KubeObject): string | undefined => (obj['metadata'] as { annotations?: Record<string, string> }).annotations?.[WEIGHT];
const versionOf = (obj: KubeObject): string => (obj['metadata'] as { resourceVersion: string }).resourceVersion;

function setup(): { reads: FreshReads; cache: Map<string, KubeObject> } {
  const cache = new Map<string, KubeObject>();
  const reads = new FreshReads(controllerKube(cluster.kubeConfig), (ref) => cache.get(objectCacheKey(ref)));
  return { reads, cache };
}

it('reads an object it never confirmed from the server, even when the cache holds it', async () => {
  const ref = await ingress('unconfirmed');
  const { reads, cache } = setup();
  const live = await cluster.kube.get(ref);
  // A copy from before this replica led: same name, an old weight, another version.
  cache.set(objectCacheKey(ref), { ...live, metadata: { ...(live['metadata'] as object), resourceVersion: '1', annotations: { [WEIGHT]: '30' } } });
  const read = await reads.get(ref);
  expect(weightOf(read)).toBe('0');
  expect(reads.counts).toEqual({ cache: 0, server: 1 });
});

it('answers from the cache once it holds the version last read, and from the server after someone else changed it', async () => {
  const ref = await ingress('confirmed');
  const { reads, cache } = setup();
  const first = await reads.get(ref);
  cache.set(objectCacheKey(ref), first);
  expect(await reads.get(ref)).toBe(first);
  expect(reads.counts).toEqual({ cache: 1, server: 1 });

  // Somebody else's write, and a watch that delivered it: a version never confirmed here.
  const edited = await cluster.kube.mergePatch(ref, { metadata: { annotations: { [WEIGHT]: '77' } } });
  cache.set(objectCacheKey(ref), edited);
  expect(weightOf(await reads.get(ref))).toBe('77');
  expect(reads.counts.server).toBe(2);
});

it('never answers from a cache that has not caught up with its own write', async () => {
  const ref = await ingress('behind');
  const { reads, cache } = setup();
  const before = await reads.get(ref);
  cache.set(objectCacheKey(ref), before);
  const written = await reads.mergePatch(ref, { metadata: { annotations: { [WEIGHT]: '40' } } });
  // The watch has not delivered the write yet: the cache still holds the version before it.
  const read = await reads.get(ref);
  expect(weightOf(read)).toBe('40');
  expect(versionOf(read)).toBe(versionOf(written));
  expect(reads.counts.server).toBe(2);
  // The echo arrives: recognised as this replica's own write, and read from the cache after.
  expect(reads.isEcho(objectCacheKey(ref), written)).toBe(true);
  expect(reads.isEcho(objectCacheKey(ref), before)).toBe(false);
  cache.set(objectCacheKey(ref), written);
  expect(await reads.get(ref)).toBe(written);
});

it('trusts nothing confirmed before a new term as leader', async () => {
  const ref = await ingress('new-term');
  const { reads, cache } = setup();
  cache.set(objectCacheKey(ref), await reads.get(ref));
  reads.reset();
  await reads.get(ref);
  expect(reads.counts).toEqual({ cache: 0, server: 2 });
});

it('forgets an object whose write failed, so the retry reads it from the server', async () => {
  const ref = await ingress('conflict');
  const { reads, cache } = setup();
  const seen = await reads.get(ref);
  cache.set(objectCacheKey(ref), seen);
  await cluster.kube.mergePatch(ref, { metadata: { annotations: { [WEIGHT]: '5' } } });
  // A precondition on the version read: the server answers 409.
  const failed = await reads.replace(ref, { ...seen, metadata: { ...(seen['metadata'] as object), annotations: { [WEIGHT]: '9' } } }).catch((e: unknown) => e);
  expect(isConflict(failed)).toBe(true);
  expect(weightOf(await reads.get(ref))).toBe('5');
  expect(reads.counts).toEqual({ cache: 0, server: 2 });
});

it('judges a watch event that arrives before its write\'s answer once the answer is in: its own version wakes nothing, another wakes once', async () => {
  // A client whose answers the test releases, so the watch event can come first.
  let answer: (obj: KubeObject) => void = () => undefined;
  const client = { mergePatch: () => new Promise<KubeObject>((resolve) => (answer = resolve)) } as unknown as Kube;
  const reads = new FreshReads(client, () => undefined);
  const ref = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: 'ns', name: 'in-flight' };
  const key = objectCacheKey(ref);
  const wakes: string[] = [];

  let writing = reads.mergePatch(ref, {});
  reads.unlessEcho(key, { metadata: { resourceVersion: '7' } }, () => wakes.push('7'));
  expect(wakes).toEqual([]);
  answer({ metadata: { resourceVersion: '7' } });
  await writing;
  expect(wakes).toEqual([]);

  writing = reads.mergePatch(ref, {});
  reads.unlessEcho(key, { metadata: { resourceVersion: '8' } }, () => wakes.push('8'));
  reads.unlessEcho(key, { metadata: { resourceVersion: '9' } }, () => wakes.push('9'));
  answer({ metadata: { resourceVersion: '9' } });
  await writing;
  // 8 came from somebody else before our write made 9: one wake, for the plans to look again.
  expect(wakes).toEqual(['8']);

  // No write under way: judged at once.
  reads.unlessEcho(key, { metadata: { resourceVersion: '9' } }, () => wakes.push('9 again'));
  reads.unlessEcho(key, { metadata: { resourceVersion: '10' } }, () => wakes.push('10'));
  expect(wakes).toEqual(['8', '10']);
});

it('knows a version it saw replaced is behind: the one a write of its own was made on, and the one a newer read replaced', async () => {
  const ref = await ingress('superseded');
  const { reads } = setup();
  const first = await reads.get(ref);
  expect(reads.isSuperseded(ref, first)).toBe(false);
  // A write on top of `first` (its version as the precondition), as a status PUT is.
  const written = await reads.replace(ref, { ...first, metadata: { ...(first['metadata'] as object), annotations: { [WEIGHT]: '10' } } });
  expect(reads.isSuperseded(ref, first)).toBe(true);
  expect(reads.isSuperseded(ref, written)).toBe(false);
  // Somebody else's write, then a read of it: what this replica wrote is behind it now.
  await cluster.kube.mergePatch(ref, { metadata: { annotations: { [WEIGHT]: '20' } } });
  const latest = await reads.get(ref);
  expect(reads.isSuperseded(ref, written)).toBe(true);
  expect(reads.isSuperseded(ref, latest)).toBe(false);
  reads.reset();
  expect(reads.isSuperseded(ref, first)).toBe(false);
});
