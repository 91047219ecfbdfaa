// Object storage with one global resourceVersion counter (like etcd's revision), a bounded
// event history for watch resumption, and synchronous fan-out to open watches. Stored objects
// are never mutated: every write stores a fresh object, so readers can serialize them as is.
import { JsonObject } from './patch';

export type KubeObject = JsonObject & { metadata: JsonObject };

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: EventType;
  resource: string;
  rv: number;
  object: KubeObject;
  /** The object before this event (MODIFIED, DELETED): watches with selectors need it. */
  previous?: KubeObject;
}

export type EventListener = (event: StoredEvent) => void;

export function metaOf(obj: KubeObject): { name: string; namespace: string } {
  return { name: String(obj.metadata.name ?? ''), namespace: String(obj.metadata.namespace ?? '') };
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class HistoryExpired extends Error {
  constructor(readonly requested: number, readonly oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.name = 'HistoryExpired';
  }
}

export class Store {
  private revision: number;
  /** The last compaction: no resource replays events from before it. */
  private compactedAt: number;
  private readonly buckets = new Map<string, Map<string, KubeObject>>();
  /**
   * Recent events per resource, like the apiserver's per-type watch cache: a busy resource
   * (Leases, Events) does not push another's history out of the window.
   */
  private readonly histories = new Map<string, { events: StoredEvent[]; retainedAfter: number }>();
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly historyLimit: number, initialRevision: number) {
    this.revision = initialRevision;
    this.compactedAt = initialRevision;
  }

  currentRevision(): number {
    return this.revision;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    return this.buckets.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of a resource, in one namespace or all, sorted by namespace then name (etcd key order). */
  list(resource: string, namespace?: string): KubeObject[] {
    const bucket = this.buckets.get(resource);
    if (!bucket) return [];
    return [...bucket.entries()]
      .filter(([key]) => namespace === undefined || key.startsWith(`${namespace}/`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => obj);
  }

  /** Stores `obj` (a fresh object) under a new revision and tells the watches. */
  write(resource: string, obj: KubeObject, previous: KubeObject | undefined): KubeObject {
    const rv = ++this.revision;
    const stored: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    const { namespace, name } = metaOf(stored);
    let bucket = this.buckets.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(resource, bucket);
    }
    bucket.set(objectKey(namespace, name), stored);
    this.record({ type: previous ? 'MODIFIED' : 'ADDED', resource, rv, object: stored, ...(previous ? { previous } : {}) });
    return stored;
  }

  /** Removes an object; the DELETED event carries the deletion's revision, as the watch cache does. */
  remove(resource: string, obj: KubeObject): KubeObject {
    const rv = ++this.revision;
    const { namespace, name } = metaOf(obj);
    this.buckets.get(resource)?.delete(objectKey(namespace, name));
    const gone: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    this.record({ type: 'DELETED', resource, rv, object: gone, previous: obj });
    return gone;
  }

  dropResource(resource: string): void {
    this.buckets.delete(resource);
  }

  /** Events of `resource` after revision `since`, or HistoryExpired if some were forgotten. */
  eventsSince(resource: string, since: number): StoredEvent[] {
    const history = this.histories.get(resource);
    const retainedAfter = Math.max(this.compactedAt, history?.retainedAfter ?? 0);
    if (since < retainedAfter) throw new HistoryExpired(since, retainedAfter + 1);
    return (history?.events ?? []).filter((e) => e.rv > since);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets all history, as an etcd compaction does: any resume from an earlier revision is 410. */
  compact(): void {
    this.revision++;
    this.histories.clear();
    this.compactedAt = this.revision;
  }

  private record(event: StoredEvent): void {
    let history = this.histories.get(event.resource);
    if (!history) {
      history = { events: [], retainedAfter: 0 };
      this.histories.set(event.resource, history);
    }
    history.events.push(event);
    if (history.events.length > this.historyLimit) {
      const dropped = history.events.shift();
      if (dropped) history.retainedAfter = dropped.rv;
    }
    for (const listener of this.listeners) listener(event);
  }
}
