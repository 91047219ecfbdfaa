// Watches through client-node's Watch class: events, bookmarks, resumption and 410.
import * as k8s from '@kubernetes/client-node';
import { Harness, mergePatch, MP, plan, startHarness } from './support';

interface Seen {
  type: string;
  object: Record<string, any>;
}

/** Opens a watch and collects its events; `until` resolves once the predicate holds. */
async function openWatch(h: Harness, path: string, query: Record<string, string | boolean | number>) {
  const events: Seen[] = [];
  let waiters: Array<() => void> = [];
  let closedWith: unknown = 'open';
  const done = new Promise<unknown>((resolve) => {
    void new k8s.Watch(h.kc)
      .watch(path, query, (type, object) => {
        events.push({ type, object });
        waiters.forEach((w) => w());
      }, (err) => {
        closedWith = err ?? null;
        resolve(err ?? null);
        waiters.forEach((w) => w());
      })
      .then((controller) => {
        abort = () => controller.abort();
      });
  });
  let abort = (): void => {};
  const until = async (predicate: (events: Seen[]) => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!predicate(events)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(events.map((e) => e.type))}`);
      if (closedWith !== 'open') throw new Error(`watch closed (${String(closedWith)}) before ${what}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
      waiters = [];
    }
  };
  return { events, until, done, stop: () => abort() };
}

const path = '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans';

describe('watch', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ bookmarkIntervalMs: 50 });
  });
  afterEach(async () => {
    await h.stop();
  });

  it('streams ADDED, MODIFIED and DELETED with full objects', async () => {
    const w = await openWatch(h, path, {});
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('a') });
    await h.custom.patchNamespacedCustomObjectStatus({ ...MP, namespace: 'shop', name: 'a', body: { status: { canaryWeight: 10 } } }, mergePatch);
    await h.custom.deleteNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'a' });
    await w.until((e) => e.length >= 3, 'three events');
    w.stop();
    expect(w.events.map((e) => e.type)).toStrictEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(w.events[1]?.object.status).toStrictEqual({ canaryWeight: 10 });
    expect(w.events[2]?.object.metadata.name).toBe('a');
  });

  it('replays events after a resourceVersion and starts with synthetic ADDEDs without one', async () => {
    const first = (await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('one') })) as Record<string, any>;
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('two') });
    const resumed = await openWatch(h, path, { resourceVersion: first.metadata.resourceVersion });
    await resumed.until((e) => e.length >= 1, 'the replayed event');
    const fresh = await openWatch(h, path, {});
    await fresh.until((e) => e.length >= 2, 'the initial state');
    resumed.stop();
    fresh.stop();
    expect(resumed.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toStrictEqual(['ADDED:two']);
    expect(fresh.events.map((e) => `${e.type}:${e.object.metadata.name}`).sort()).toStrictEqual(['ADDED:one', 'ADDED:two']);
  });

  it('sends BOOKMARK events carrying only a resourceVersion when allowed', async () => {
    const w = await openWatch(h, path, { allowWatchBookmarks: true });
    await w.until((e) => e.some((x) => x.type === 'BOOKMARK'), 'a bookmark');
    w.stop();
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK');
    expect(Object.keys(bookmark?.object.metadata ?? {})).toStrictEqual(['resourceVersion']);
  });

  it('answers a resume from a compacted resourceVersion with an ERROR event carrying 410 Expired', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('old') })) as Record<string, any>;
    h.server.compactHistory();
    const w = await openWatch(h, path, { resourceVersion: created.metadata.resourceVersion });
    await w.until((e) => e.length >= 1, 'the error');
    expect(w.events[0]?.type).toBe('ERROR');
    expect(w.events[0]?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(w.events[0]?.object.message).toMatch(/^too old resource version: /);
  });

  it('filters by label selector and turns an object that stops matching into DELETED', async () => {
    const w = await openWatch(h, path, { labelSelector: 'team=a' });
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: { ...plan('l'), metadata: { name: 'l', labels: { team: 'a' } } } });
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: { ...plan('m'), metadata: { name: 'm', labels: { team: 'b' } } } });
    await h.custom.patchNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'l', body: { metadata: { labels: { team: 'b' } } } }, mergePatch);
    await w.until((e) => e.length >= 2, 'two events');
    w.stop();
    expect(w.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toStrictEqual(['ADDED:l', 'DELETED:l']);
  });

  it('watches one object by name (GET {name}?watch=true)', async () => {
    const w = await openWatch(h, `${path}/only`, {});
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('other') });
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('only') });
    await w.until((e) => e.length >= 1, 'an event');
    w.stop();
    expect(w.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toStrictEqual(['ADDED:only']);
  });

  it('closes the stream after timeoutSeconds', async () => {
    const w = await openWatch(h, path, { timeoutSeconds: 1 });
    await expect(w.done).resolves.toBeNull();
  });

  it('expireWatches() ends open watches with an ERROR event carrying 410 Expired, and a resume from before is refused the same way', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('before-expiry') })) as Record<string, any>;
    const w = await openWatch(h, path, { resourceVersion: created.metadata.resourceVersion });
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('seen') });
    await w.until((e) => e.length >= 1, 'an event');
    expect(h.server.expireWatches()).toBe(1);
    await w.until((e) => e.some((x) => x.type === 'ERROR'), 'the error');
    expect(w.events.at(-1)?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    await w.done;
    expect(h.server.openWatchCount).toBe(0);
    const resumed = await openWatch(h, path, { resourceVersion: w.events[0]?.object.metadata.resourceVersion });
    await resumed.until((e) => e.length >= 1, 'the error');
    expect(resumed.events[0]?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('dropWatches() ends open watches with an error', async () => {
    const w = await openWatch(h, path, {});
    await h.custom.createNamespacedCustomObject({ ...MP, namespace: 'shop', body: plan('before-drop') });
    await w.until((e) => e.length >= 1, 'an event');
    h.server.dropWatches();
    const err = await w.done;
    expect(err).toBeInstanceOf(Error);
    expect(h.server.openWatchCount).toBe(0);
  });
});
