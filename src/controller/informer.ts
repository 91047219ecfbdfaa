// List-and-watch into a cache. client-node's own informer stops for good on most errors, has no
// backoff (client-node #1933), no watchdog (#596, #958) and no resync, so this one owns the loop:
// relist on 410 and on any failure after a jittered backoff, rewatch from the last seen
// resourceVersion on a normal close, abort a watch that goes silent, and replay the cache on a
// resync so level-triggered reconciles catch what an event may have missed.
import { realTimers, type Timers } from './workQueue';

export interface ObjectMetaLike {
  name: string;
  namespace?: string;
  resourceVersion?: string;
}
export interface KubeObject {
  metadata: ObjectMetaLike;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

export interface ListAndWatchSource {
  readonly description: string;
  list(signal: AbortSignal): Promise<{ items: unknown[]; resourceVersion: string }>;
  /** Streams events until the server ends the stream (resolves) or it fails (rejects). */
  watch(resourceVersion: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

export type ChangeKind = 'added' | 'updated' | 'deleted' | 'resync';
export type ChangeHandler<T> = (key: string, object: T | undefined, kind: ChangeKind) => void;

export interface InformerOptions<T> {
  /** Turns a raw object into the cached form, or throws; objects that fail are skipped. */
  normalize?: (raw: unknown) => T;
  onChange: ChangeHandler<T>;
  onError?: (error: unknown, retryInMs: number) => void;
  resyncMs?: number;
  /** A watch with no event (bookmarks count) for this long is presumed dead and restarted. */
  idleTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  timers?: Timers;
}

export class ResourceExpired extends Error {
  constructor(readonly resourceVersion: string) {
    super(`resourceVersion ${resourceVersion} is too old; relisting`);
    this.name = 'ResourceExpired';
  }
}

export class WatchStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'WatchStatusError';
  }
}

export function objectKey(meta: ObjectMetaLike): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

function isKubeObject(raw: unknown): raw is KubeObject {
  if (typeof raw !== 'object' || raw === null) return false;
  const meta = (raw as { metadata?: unknown }).metadata;
  return typeof meta === 'object' && meta !== null && typeof (meta as { name?: unknown }).name === 'string';
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof WatchStatusError) return error.status;
  const e = error as { statusCode?: unknown; code?: unknown; status?: unknown };
  for (const v of [e?.statusCode, e?.status, e?.code]) if (typeof v === 'number') return v;
  return undefined;
}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly timers: Timers;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private resyncHandle: unknown;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private lastResourceVersion = '';

  constructor(
    private readonly source: ListAndWatchSource,
    private readonly options: InformerOptions<T>,
  ) {
    this.timers = options.timers ?? realTimers;
  }

  /** Starts the loop; resolves once the first list is in the cache. */
  async start(): Promise<void> {
    if (this.loop) return this.waitForSync();
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
    this.scheduleResync();
    return this.waitForSync();
  }

  /** Stops the loop. A start() still waiting for its first list resolves (without a sync). */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    if (this.resyncHandle !== undefined) this.timers.clearTimeout(this.resyncHandle);
    this.resyncHandle = undefined;
    await this.loop;
    this.loop = undefined;
  }

  get hasSynced(): boolean {
    return this.synced;
  }
  get resourceVersion(): string {
    return this.lastResourceVersion;
  }
  get(key: string): T | undefined {
    return this.cache.get(key);
  }
  list(): T[] {
    return [...this.cache.values()];
  }

  private waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private scheduleResync(): void {
    const every = this.options.resyncMs;
    if (!every || every <= 0) return;
    this.resyncHandle = this.timers.setTimeout(() => {
      if (this.abort.signal.aborted) return;
      for (const [key, obj] of this.cache) this.options.onChange(key, obj, 'resync');
      this.scheduleResync();
    }, every);
  }

  private normalize(raw: unknown): T | undefined {
    try {
      const value = this.options.normalize ? this.options.normalize(raw) : (raw as T);
      return isKubeObject(value) ? value : undefined;
    } catch (error) {
      this.options.onError?.(error, 0);
      return undefined;
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.relist(signal);
        failures = 0;
        await this.watchUntilBroken(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ResourceExpired) continue;
        failures++;
        const base = this.options.backoffBaseMs ?? 250;
        const max = this.options.backoffMaxMs ?? 30_000;
        const exp = Math.min(max, base * 2 ** (failures - 1));
        const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
        this.options.onError?.(error, delay);
        await this.sleep(delay, signal);
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.source.list(signal);
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = this.normalize(raw);
      if (!obj) continue;
      const key = objectKey(obj.metadata);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.options.onChange(key, obj, 'added');
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.options.onChange(key, obj, 'updated');
    }
    for (const key of [...this.cache.keys()]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.options.onChange(key, undefined, 'deleted');
      }
    }
    this.lastResourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** Watches from the last resourceVersion, again and again, until a watch fails. */
  private async watchUntilBroken(signal: AbortSignal): Promise<void> {
    let quickEmptyCloses = 0;
    while (!signal.aborted) {
      const startedAt = Date.now();
      const delivered = await this.watchOnce(signal);
      if (signal.aborted) return;
      // A server that closes at once, over and over, must not draw a tight loop of requests.
      if (!delivered && Date.now() - startedAt < 1000) {
        quickEmptyCloses++;
        if (quickEmptyCloses >= 3) throw new Error(`${this.source.description}: watch keeps closing at once`);
      } else quickEmptyCloses = 0;
    }
  }

  /** One watch stream. Resolves with whether any event arrived. */
  private async watchOnce(outer: AbortSignal): Promise<boolean> {
    const inner = new AbortController();
    const onAbort = (): void => inner.abort();
    outer.addEventListener('abort', onAbort, { once: true });
    const idleMs = this.options.idleTimeoutMs ?? 90_000;
    let idleHandle: unknown;
    let idleFired = false;
    const armIdle = (): void => {
      if (idleHandle !== undefined) this.timers.clearTimeout(idleHandle);
      idleHandle = this.timers.setTimeout(() => {
        idleFired = true;
        inner.abort();
      }, idleMs);
    };
    let delivered = false;
    let failure: unknown;
    armIdle();
    try {
      await this.source.watch(
        this.lastResourceVersion,
        (event) => {
          if (failure) return;
          delivered = true;
          armIdle();
          try {
            this.apply(event);
          } catch (error) {
            failure = error;
            inner.abort();
          }
        },
        inner.signal,
      );
    } catch (error) {
      if (!failure && !inner.signal.aborted) failure = error;
    } finally {
      if (idleHandle !== undefined) this.timers.clearTimeout(idleHandle);
      outer.removeEventListener('abort', onAbort);
    }
    if (failure) {
      if (statusOf(failure) === 410) throw new ResourceExpired(this.lastResourceVersion);
      throw failure;
    }
    if (idleFired) this.options.onError?.(new Error(`${this.source.description}: watch silent for ${idleMs} ms; restarting it`), 0);
    return delivered;
  }

  private apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; message?: string };
      const code = typeof status?.code === 'number' ? status.code : 500;
      if (code === 410) throw new ResourceExpired(this.lastResourceVersion);
      throw new WatchStatusError(code, `${this.source.description}: watch error ${code}: ${status?.message ?? 'unknown'}`);
    }
    const rv = (event.object as { metadata?: { resourceVersion?: unknown } })?.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (typeof rv === 'string') this.lastResourceVersion = rv;
      return;
    }
    const obj = this.normalize(event.object);
    if (!obj) return;
    const key = objectKey(obj.metadata);
    if (typeof rv === 'string') this.lastResourceVersion = rv;
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.options.onChange(key, obj, 'deleted');
      return;
    }
    const existed = this.cache.has(key);
    this.cache.set(key, obj);
    this.options.onChange(key, obj, existed ? 'updated' : 'added');
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const handle = this.timers.setTimeout(() => {
        signal.removeEventListener('abort', done);
        resolve();
      }, ms);
      const done = (): void => {
        this.timers.clearTimeout(handle);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
