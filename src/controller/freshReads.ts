// Reads a reconcile takes from the controller's watch caches instead of the API server, when the
// cache is known to be current. A cached object is used only at a resourceVersion this replica
// confirmed during its present term as leader: one it read from the server, or one the server
// answered a write of ours with. Anything else is read from the server:
// - an object not confirmed since this replica began to lead. A new leader's first look at a
//   target the old leader wrote just before it died goes to the server, so it never finds the
//   target short of its status and writes a step twice;
// - a cache that has not yet caught up with our own write (it holds an older version);
// - an object someone else changed (it holds a version we never confirmed).
// resourceVersions are opaque and compared for equality only, as the API asks.
//
// The same record tells an echo (the watch delivering the version we wrote or read) from a change
// made by somebody else, so the controller need not reconcile a plan again for its own writes. The
// watch often delivers a write before its answer arrives on the other connection; such an event
// waits for that answer before it is judged.
import type { Kube, KubeObject, ObjectClient, ResourceRef, JsonPatchOp, WriteOptions } from '../kube';

/** `plural.group/namespace/name`: the key the controller's caches and indexes share. */
export function objectCacheKey(ref: ResourceRef): string {
  return `${ref.plural}.${ref.group}/${ref.namespace ?? ''}/${ref.name ?? ''}`;
}

function versionOf(obj: object | undefined): string | undefined {
  const rv = (obj as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/** How many confirmed versions are kept; beyond it the oldest are dropped (and read again). */
const CONFIRMED_LIMIT = 200_000;
const SUPERSEDED_KEPT = 4;

export class FreshReads implements ObjectClient {
  private readonly confirmed = new Map<string, string>();
  /** Versions known to be older than the confirmed one: those it replaced. Opaque versions cannot
   * be ordered, but a version this replica saw replaced is known to be behind. */
  private readonly superseded = new Map<string, string[]>();
  private served = { cache: 0, server: 0 };
  /** Writes under way, per object, and the watch events that arrived meanwhile. */
  private readonly writing = new Map<string, { count: number; held: Array<{ version: string | undefined; wake: () => void }> }>();

  constructor(
    private readonly kube: Kube,
    /** The object as the watch of its kind holds it, if that watch holds it. */
    private readonly cached: (ref: ResourceRef) => KubeObject | undefined,
  ) {}

  /** A new term as leader: nothing read or written before it is trusted. */
  reset(): void {
    this.confirmed.clear();
    this.superseded.clear();
  }

  /** Whether `obj` is a version this replica has seen replaced by a newer one. */
  isSuperseded(ref: ResourceRef, obj: KubeObject): boolean {
    const version = versionOf(obj);
    return version !== undefined && (this.superseded.get(objectCacheKey(ref))?.includes(version) ?? false);
  }

  /** Whether `obj` is the version this replica last read or wrote: its own write, echoed. */
  isEcho(key: string, obj: object | undefined): boolean {
    const version = versionOf(obj);
    return version !== undefined && this.confirmed.get(key) === version;
  }

  /** Calls `wake` unless `obj` is this replica's own write or read, echoed by the watch. While a
   * write to the object awaits its answer, the event waits for it; every event is judged. */
  unlessEcho(key: string, obj: object | undefined, wake: () => void): void {
    const pending = this.writing.get(key);
    if (pending !== undefined) pending.held.push({ version: versionOf(obj), wake });
    else if (!this.isEcho(key, obj)) wake();
  }

  /** The object went away: read it from the server next time, and keep nothing of it. */
  forget(key: string): void {
    this.confirmed.delete(key);
    this.superseded.delete(key);
  }

  /** Records a version the server answered with (e.g. a write made through another client). */
  confirm(ref: ResourceRef, obj: KubeObject): void {
    const version = versionOf(obj);
    const key = objectCacheKey(ref);
    if (version === undefined) {
      this.confirmed.delete(key);
      return;
    }
    const before = this.confirmed.get(key);
    if (before !== undefined && before !== version) this.supersede(key, before);
    this.confirmed.delete(key);
    this.confirmed.set(key, version);
    if (this.confirmed.size > CONFIRMED_LIMIT) this.forget(this.confirmed.keys().next().value as string);
  }

  /** Reads answered from the cache and from the server (the tests read it). */
  get counts(): { cache: number; server: number } {
    return { ...this.served };
  }

  async get(ref: ResourceRef): Promise<KubeObject> {
    const key = objectCacheKey(ref);
    const known = this.confirmed.get(key);
    if (known !== undefined) {
      const cached = this.cached(ref);
      if (versionOf(cached) === known) {
        this.served.cache++;
        return cached as KubeObject;
      }
    }
    this.served.server++;
    return this.answered(ref, () => this.kube.get(ref));
  }

  replace(ref: ResourceRef, body: KubeObject, options?: WriteOptions): Promise<KubeObject> {
    return this.answered(ref, () => this.kube.replace(ref, body, options), versionOf(body));
  }

  mergePatch(ref: ResourceRef, patch: KubeObject, options?: WriteOptions): Promise<KubeObject> {
    return this.answered(ref, () => this.kube.mergePatch(ref, patch, options), versionOf(patch));
  }

  jsonPatch(ref: ResourceRef, ops: readonly JsonPatchOp[], options?: WriteOptions): Promise<KubeObject> {
    return this.answered(ref, () => this.kube.jsonPatch(ref, ops, options));
  }

  private supersede(key: string, version: string): void {
    const older = this.superseded.get(key) ?? [];
    if (older.includes(version)) return;
    older.push(version);
    // A few are enough: what matters is the version a steering write answered a moment ago.
    if (older.length > SUPERSEDED_KEPT) older.shift();
    this.superseded.set(key, older);
  }

  private async answered(ref: ResourceRef, call: () => Promise<KubeObject>, precondition?: unknown): Promise<KubeObject> {
    const key = objectCacheKey(ref);
    let pending = this.writing.get(key);
    if (pending === undefined) this.writing.set(key, (pending = { count: 0, held: [] }));
    pending.count++;
    try {
      const obj = await call();
      // The write was made on top of its precondition, so that version is behind the answer.
      if (typeof precondition === 'string' && precondition !== '' && precondition !== versionOf(obj)) this.supersede(key, precondition);
      this.confirm(ref, obj);
      return obj;
    } catch (error) {
      // A 409, a 404, a timeout after the server may have applied it: the cache proves nothing.
      // What was seen replaced stays behind.
      this.confirmed.delete(key);
      throw error;
    } finally {
      if (--pending.count === 0) {
        this.writing.delete(key);
        const known = this.confirmed.get(key);
        // One wake is enough: it reconciles from the latest version.
        pending.held.find((event) => event.version === undefined || event.version !== known)?.wake();
      }
    }
  }
}
