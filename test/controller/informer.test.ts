import { Informer, type ListAndWatchSource, type WatchEvent, type KubeObject, type ChangeKind } from '../../src/controller/informer';

type Obj = KubeObject & { spec?: { n: number } };
const obj = (name: string, rv: string, n = 0): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: { n } });

/** A source driven by the test: each watch() call takes the next script entry. */
class ScriptedSource implements ListAndWatchSource {
  readonly description = 'test objects';
  lists: Array<{ items: Obj[]; resourceVersion: string } | Error> = [];
  watches: Array<(emit: (e: WatchEvent) => void, signal: AbortSignal) => Promise<void>> = [];
  listCalls = 0;
  watchFrom: string[] = [];
  async list(): Promise<{ items: unknown[]; resourceVersion: string }> {
    this.listCalls++;
    const next = this.lists.length > 1 ? this.lists.shift() : this.lists[0];
    if (!next) throw new Error('no list scripted');
    if (next instanceof Error) throw next;
    return next;
  }
  async watch(rv: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.watchFrom.push(rv);
    const step = this.watches.shift();
    if (!step) return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
    return step(onEvent, signal);
  }
}

function recorder(): { events: Array<[string, ChangeKind, number | undefined]>; onChange: (k: string, o: Obj | undefined, kind: ChangeKind) => void } {
  const events: Array<[string, ChangeKind, number | undefined]> = [];
  return { events, onChange: (k, o, kind) => events.push([k, kind, o?.spec?.n]) };
}

async function until(pred: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Informer', () => {
  it('fills the cache from the list, then applies watch events from the list resourceVersion', async () => {
    const src = new ScriptedSource();
    src.lists = [{ items: [obj('a', '1')], resourceVersion: '5' }];
    src.watches = [async (emit) => {
      emit({ type: 'MODIFIED', object: obj('a', '6', 1) });
      emit({ type: 'ADDED', object: obj('b', '7', 2) });
      emit({ type: 'DELETED', object: obj('a', '8', 1) });
      emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } });
    }];
    const rec = recorder();
    const inf = new Informer<Obj>(src, { onChange: rec.onChange });
    await inf.start();
    await until(() => src.watchFrom.length >= 2);
    expect(src.watchFrom).toEqual(['5', '9']);
    expect(rec.events).toEqual([['ns/a', 'added', 0], ['ns/a', 'updated', 1], ['ns/b', 'added', 2], ['ns/a', 'deleted', 1]]);
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['b']);
    expect(src.listCalls).toBe(1);
    await inf.stop();
  });

  it('relists on 410 Gone and reports objects deleted while it was away', async () => {
    const src = new ScriptedSource();
    src.lists = [
      { items: [obj('a', '1'), obj('b', '2')], resourceVersion: '2' },
      { items: [obj('b', '2')], resourceVersion: '40' },
    ];
    src.watches = [async (emit) => emit({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } })];
    const rec = recorder();
    const inf = new Informer<Obj>(src, { onChange: rec.onChange });
    await inf.start();
    await until(() => src.watchFrom.length >= 2);
    expect(src.listCalls).toBe(2);
    expect(src.watchFrom).toEqual(['2', '40']);
    expect(rec.events).toContainEqual(['ns/a', 'deleted', undefined]);
    expect(inf.get('ns/b')).toBeDefined();
    await inf.stop();
  });

  it('keeps going after list and watch failures, with backoff, instead of stopping for good', async () => {
    const src = new ScriptedSource();
    src.lists = [new Error('connect ECONNREFUSED'), { items: [obj('a', '1')], resourceVersion: '3' }];
    src.watches = [async () => { throw Object.assign(new Error('Internal Server Error'), { statusCode: 500 }); }];
    const errors: unknown[] = [];
    const rec = recorder();
    const inf = new Informer<Obj>(src, { onChange: rec.onChange, onError: (e) => errors.push(e), backoffBaseMs: 5, backoffMaxMs: 10 });
    await inf.start();
    await until(() => src.listCalls >= 3 && src.watchFrom.length >= 2);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(inf.get('ns/a')).toBeDefined();
    await inf.stop();
  });

  it('restarts a watch that goes silent', async () => {
    const src = new ScriptedSource();
    src.lists = [{ items: [], resourceVersion: '1' }];
    const errors: string[] = [];
    const inf = new Informer<Obj>(src, { onChange: () => {}, idleTimeoutMs: 30, onError: (e) => errors.push(String(e)) });
    await inf.start();
    await until(() => src.watchFrom.length >= 2);
    expect(errors.some((e) => e.includes('silent'))).toBe(true);
    await inf.stop();
  });

  it('does not loop hot on a server that closes every watch at once', async () => {
    const src = new ScriptedSource();
    src.lists = [{ items: [], resourceVersion: '1' }];
    src.watches = Array.from({ length: 50 }, () => async () => {});
    const errors: unknown[] = [];
    const inf = new Informer<Obj>(src, { onChange: () => {}, onError: (e) => errors.push(e), backoffBaseMs: 200 });
    await inf.start();
    await until(() => errors.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    // three quick closes, then a backoff of at least 100 ms: far from one request per tick
    expect(src.watchFrom.length).toBeLessThanOrEqual(4);
    await inf.stop();
  });

  it('replays every cached object on resync', async () => {
    const src = new ScriptedSource();
    src.lists = [{ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '2' }];
    const rec = recorder();
    const inf = new Informer<Obj>(src, { onChange: rec.onChange, resyncMs: 20 });
    await inf.start();
    await until(() => rec.events.filter((e) => e[1] === 'resync').length >= 2);
    expect(rec.events.filter((e) => e[1] === 'resync').map((e) => e[0]).slice(0, 2).sort()).toEqual(['ns/a', 'ns/b']);
    await inf.stop();
  });

  it('skips objects its normalizer rejects, and keeps the rest', async () => {
    const src = new ScriptedSource();
    src.lists = [{ items: [obj('good', '1', 1), obj('bad', '2', -1)], resourceVersion: '2' }];
    const errors: unknown[] = [];
    const inf = new Informer<Obj>(src, {
      onChange: () => {},
      onError: (e) => errors.push(e),
      normalize: (raw) => {
        const o = raw as Obj;
        if ((o.spec?.n ?? 0) < 0) throw new Error('negative');
        return o;
      },
    });
    await inf.start();
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['good']);
    expect(errors).toHaveLength(1);
    await inf.stop();
  });
});

describe('Informer stop', () => {
  it('releases a start() still waiting for its first list', async () => {
    const src = new ScriptedSource();
    src.lists = [new Error('ECONNREFUSED')];
    const inf = new Informer<Obj>(src, { onChange: () => {}, backoffBaseMs: 10_000 });
    const started = inf.start();
    await until(() => src.listCalls >= 1);
    await inf.stop();
    await expect(started).resolves.toBeUndefined();
    expect(inf.hasSynced).toBe(false);
  });
});
