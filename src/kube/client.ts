// The one way trafficshift talks to the API server. Every method names its verb, and every call
// names its resource through a ResourceRef, so the RBAC a caller needs reads straight off the
// call site: `kube.mergePatch(INGRESSES.named(ns, name), ...)` needs `patch` on ingresses.
//
// Requests go through client-node's own plumbing (RequestContext, KubeConfig auth, node-fetch),
// the same path the generated APIs take, but with a path built here so that the core group
// (/api/v1) and named groups (/apis/<group>/<version>) work alike, bodies stay plain JSON (the
// typed models drop fields they do not know), and every patch carries its real content type.
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { z } from 'zod';
import { KubeError, toKubeError } from './errors';

/** Which resource a call is about. `group: ''` is the core group (/api/v1). */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A Kubernetes object as the server sent it: plain JSON, nothing dropped. Parse the fields
 * you need with zod. */
export type KubeObject = { [key: string]: unknown };

export interface KubeList {
  readonly items: KubeObject[];
  /** Opaque: compare for equality only, never order. */
  readonly resourceVersion: string;
}

/** RFC 6902. `path` is a JSON pointer; escape `~` as `~0` and `/` as `~1` (see jsonPointer). */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export interface WriteOptions {
  subresource?: 'status';
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface KubeOptions {
  /** Recorded in managedFields, so `kubectl get -o yaml --show-managed-fields` says who wrote. */
  fieldManager?: string;
  /** Per-request deadline. client-node has none, and a hung call must not hold up a rollback. */
  requestTimeoutMs?: number;
  /** Told of every request once it is answered or has failed (for /metrics). */
  observer?: KubeRequestObserver;
}

/** One finished request: `code` is the HTTP status, or `error` when no answer came (refused,
 * reset, TLS), or `timeout` past the client's deadline. */
export interface KubeRequestDone {
  verb: string;
  /** The resource's plural, with its group when it has one: `ingresses.networking.k8s.io`. */
  resource: string;
  code: string;
  durationSeconds: number;
}

export interface KubeRequestObserver {
  requestDone(request: KubeRequestDone): void;
}

const JsonObject = z.record(z.string(), z.unknown());
const ListBody = z.looseObject({
  items: z.array(JsonObject).nullable().optional(),
  metadata: z.looseObject({ resourceVersion: z.string().optional() }).optional(),
});

/** Escapes one JSON-pointer segment (RFC 6901): annotation keys contain `/`. */
export function jsonPointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The URL path of a resource, a collection or a subresource. */
export function resourcePath(ref: ResourceRef, subresource?: string): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace !== undefined ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const name = ref.name !== undefined ? `/${encodeURIComponent(ref.name)}` : '';
  const sub = subresource !== undefined ? `/${subresource}` : '';
  return `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** `group/version plural ns/name`, for messages. */
export function describeRef(ref: ResourceRef): string {
  const gv = ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
  const id = [ref.namespace, ref.name].filter((p) => p !== undefined).join('/');
  return `${ref.plural}.${gv}${id ? ` ${id}` : ''}`;
}

type Body = { contentType: string; json: unknown };

/** The calls that read and write one named object: what a traffic provider and a reconcile need.
 * Kube is one; the controller's FreshReads (controller/freshReads.ts) is another, which answers
 * reads from its watch caches when it knows them to be current. */
export type ObjectClient = Pick<Kube, 'get' | 'replace' | 'mergePatch' | 'jsonPatch'>;

export class Kube {
  private readonly fieldManager: string;
  private readonly requestTimeoutMs: number;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly agents = new KeepAliveAgents();
  private readonly observer: KubeRequestObserver | undefined;

  constructor(readonly kubeConfig: KubeConfig, options: KubeOptions = {}) {
    this.fieldManager = options.fieldManager ?? 'trafficshift';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.observer = options.observer;
  }

  /** verb get */
  async get(ref: ResourceRef): Promise<KubeObject> {
    return this.object(await this.request(HttpMethod.GET, requireName(ref, 'get')));
  }

  /** verb list */
  async list(ref: ResourceRef, options: ListOptions = {}): Promise<KubeList> {
    const query: Record<string, string> = {};
    if (options.labelSelector) query['labelSelector'] = options.labelSelector;
    if (options.fieldSelector) query['fieldSelector'] = options.fieldSelector;
    const raw = await this.request(HttpMethod.GET, collection(ref), { query });
    const parsed = ListBody.safeParse(raw);
    if (!parsed.success) throw badResponse(`GET ${resourcePath(collection(ref))}`, 'a list', raw);
    return { items: parsed.data.items ?? [], resourceVersion: parsed.data.metadata?.resourceVersion ?? '' };
  }

  /** verb create. `ref.name` is ignored: the body's metadata.name names the object. With a
   * subresource it is a create on that subresource of the named object (e.g. a TokenRequest:
   * `serviceaccounts/token`). */
  async create(ref: ResourceRef, body: KubeObject, options: { subresource?: string } = {}): Promise<KubeObject> {
    const target = options.subresource === undefined ? collection(ref) : requireName(ref, 'create');
    return this.object(
      await this.request(HttpMethod.POST, target, {
        subresource: options.subresource,
        body: { contentType: 'application/json', json: body },
        query: { fieldManager: this.fieldManager },
      }),
    );
  }

  /** verb update (PUT). Carry metadata.resourceVersion in the body for optimistic concurrency:
   * the server answers 409 Conflict when the object changed since it was read. */
  async replace(ref: ResourceRef, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.object(
      await this.request(HttpMethod.PUT, requireName(ref, 'replace'), {
        subresource: options.subresource,
        body: { contentType: 'application/json', json: body },
        query: { fieldManager: this.fieldManager },
      }),
    );
  }

  /** verb delete. A 404 is a KubeError like any other; the caller decides whether gone is fine. */
  async delete(ref: ResourceRef): Promise<void> {
    await this.request(HttpMethod.DELETE, requireName(ref, 'delete'));
  }

  /** verb patch, RFC 7386 JSON merge patch: objects merge, `null` deletes a key, lists are
   * replaced whole. */
  async mergePatch(ref: ResourceRef, patch: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.object(
      await this.request(HttpMethod.PATCH, requireName(ref, 'mergePatch'), {
        subresource: options.subresource,
        body: { contentType: PatchStrategy.MergePatch, json: patch },
        query: { fieldManager: this.fieldManager },
      }),
    );
  }

  /** verb patch, RFC 6902 JSON patch: ops apply in order and all-or-nothing; a failing `test`
   * op makes the server answer 422 and change nothing. */
  async jsonPatch(ref: ResourceRef, ops: readonly JsonPatchOp[], options: WriteOptions = {}): Promise<KubeObject> {
    return this.object(
      await this.request(HttpMethod.PATCH, requireName(ref, 'jsonPatch'), {
        subresource: options.subresource,
        body: { contentType: PatchStrategy.JsonPatch, json: ops },
        query: { fieldManager: this.fieldManager },
      }),
    );
  }

  /** Closes the kept-alive connections; for a process that is done with this client. */
  close(): void {
    this.agents.close();
  }

  private object(raw: unknown): KubeObject {
    const parsed = JsonObject.safeParse(raw);
    if (!parsed.success) throw badResponse('response', 'an object', raw);
    return parsed.data;
  }

  private async request(
    method: HttpMethod,
    ref: ResourceRef,
    opts: { subresource?: string | undefined; body?: Body; query?: Record<string, string> } = {},
  ): Promise<unknown> {
    try {
      return await this.requestOnce(method, ref, opts);
    } catch (error) {
      // A kept-alive connection the server closed as the request went out: a read is sent again
      // at once, as client-go does for GETs. A write is not (it may have been applied).
      if (method !== HttpMethod.GET || !isConnectionReset(error)) throw error;
      return this.requestOnce(method, ref, opts);
    }
  }

  private async requestOnce(
    method: HttpMethod,
    ref: ResourceRef,
    opts: { subresource?: string | undefined; body?: Body; query?: Record<string, string> },
  ): Promise<unknown> {
    if (this.observer === undefined) return (await this.exchange(method, ref, opts)).body;
    const started = performance.now();
    let code = 'error';
    try {
      const answer = await this.exchange(method, ref, opts);
      code = String(answer.status);
      return answer.body;
    } catch (error) {
      if (error instanceof KubeError) code = error.status > 0 ? String(error.status) : error.reason === 'Timeout' ? 'timeout' : 'error';
      throw error;
    } finally {
      const resource = (ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`) + (opts.subresource !== undefined ? `/${opts.subresource}` : '');
      this.observer.requestDone({ verb: verbOf(method, ref), resource, code, durationSeconds: (performance.now() - started) / 1000 });
    }
  }

  private async exchange(
    method: HttpMethod,
    ref: ResourceRef,
    opts: { subresource?: string | undefined; body?: Body; query?: Record<string, string> },
  ): Promise<{ status: number; body: unknown }> {
    const path = resourcePath(ref, opts.subresource);
    const what = `${method} ${path}`;
    // A deadline cleared when the answer is in: AbortSignal.timeout cannot be cleared, and left a
    // live timer behind every request for the whole deadline (thousands at a few hundred plans).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.requestTimeoutMs);
    const timeout = deadline.signal;
    let status: number;
    let text: string;
    let headers: Record<string, string>;
    try {
      const cluster = this.kubeConfig.getCurrentCluster();
      if (!cluster) throw new KubeError(0, 'ClientError', `kubeconfig context "${this.kubeConfig.getCurrentContext()}" names no cluster`);
      const ctx = new ServerConfiguration(cluster.server.replace(/\/+$/, ''), {}).makeRequestContext(path, method);
      for (const [key, value] of Object.entries(opts.query ?? {})) ctx.setQueryParam(key, value);
      ctx.setHeaderParam('Accept', 'application/json');
      if (opts.body) {
        ctx.setHeaderParam('Content-Type', opts.body.contentType);
        ctx.setBody(JSON.stringify(opts.body.json));
      }
      ctx.setSignal(timeout);
      await this.kubeConfig.applySecurityAuthentication(ctx);
      const agent = this.agents.reuse(ctx.getAgent());
      if (agent !== undefined) ctx.setAgent(agent);
      const response = await this.http.send(ctx).toPromise();
      status = response.httpStatusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (err) {
      if (timeout.aborted) {
        throw new KubeError(0, 'Timeout', `${what}: no answer within ${this.requestTimeoutMs}ms`, { cause: err });
      }
      throw toKubeError(err, what);
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status > 299) {
      // The same shape the generated APIs throw, so toKubeError has one path for both.
      throw toKubeError(new ApiException(status, 'request failed', text, headers), what);
    }
    if (text.trim() === '') return { status, body: {} };
    try {
      return { status, body: JSON.parse(text) as unknown };
    } catch (err) {
      throw new KubeError(0, 'ClientError', `${what}: ${status} answer is not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
  }
}

/** The Kubernetes verb of a request, as RBAC and the API server's own metrics name it. */
function verbOf(method: HttpMethod, ref: ResourceRef): string {
  switch (method) {
    case HttpMethod.GET: return ref.name === undefined ? 'list' : 'get';
    case HttpMethod.POST: return 'create';
    case HttpMethod.PUT: return 'update';
    case HttpMethod.PATCH: return 'patch';
    case HttpMethod.DELETE: return 'delete';
    default: return String(method).toLowerCase();
  }
}

function isConnectionReset(error: unknown): boolean {
  const cause = error instanceof KubeError ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  return code === 'ECONNRESET' || code === 'EPIPE' || (typeof cause?.message === 'string' && cause.message.includes('socket hang up'));
}

function requireName(ref: ResourceRef, verb: string): ResourceRef {
  if (ref.name === undefined || ref.name === '') {
    throw new KubeError(0, 'ClientError', `${verb} needs a name: ${describeRef(ref)}`);
  }
  return ref;
}

function collection(ref: ResourceRef): ResourceRef {
  const { name: _name, ...rest } = ref;
  return rest;
}

function badResponse(what: string, expected: string, raw: unknown): KubeError {
  return new KubeError(0, 'ClientError', `${what}: expected ${expected}, got ${JSON.stringify(raw)?.slice(0, 200)}`);
}

/** How long a kept-alive connection may sit idle before this side closes it. */
const IDLE_CLOSE_MS = 30_000;

/** The agent options that decide which server a connection may be reused for. */
const CONNECTION_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/**
 * client-node builds a new agent, without keep-alive, for every request, so each call paid a new
 * TCP connection and, over TLS, a full handshake: a rollback of three targets paid it for every
 * read and write. This keeps one keep-alive agent per set of connection options instead. The
 * options are read from client-node's fresh agent each time, so a rotated certificate or CA file
 * gets a new agent (and the old one's connections close). Proxy agents are passed through.
 */
class KeepAliveAgents {
  private current: { fingerprint: string; agent: http.Agent } | undefined;

  reuse<A extends http.Agent | https.Agent | undefined>(fresh: A): A | http.Agent {
    if (fresh === undefined || (fresh.constructor !== https.Agent && fresh.constructor !== http.Agent)) return fresh;
    const isHttps = fresh.constructor === https.Agent;
    const options = (fresh as http.Agent & { options?: Record<string, unknown> }).options ?? {};
    const fingerprint = fingerprintOf(isHttps, options);
    if (this.current?.fingerprint !== fingerprint) {
      this.current?.agent.destroy();
      const picked: Record<string, unknown> = {};
      for (const key of CONNECTION_OPTIONS) if (options[key] !== undefined) picked[key] = options[key];
      // An idle connection is closed after IDLE_CLOSE_MS, well before kube-apiserver's own 90 s, so
      // a request never goes out on a connection the server is closing at that moment (ECONNRESET).
      const settings = { ...picked, keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: IDLE_CLOSE_MS };
      this.current = { fingerprint, agent: isHttps ? new https.Agent(settings) : new http.Agent(settings) };
    }
    return this.current.agent;
  }

  close(): void {
    this.current?.agent.destroy();
    this.current = undefined;
  }
}

function fingerprintOf(isHttps: boolean, options: Record<string, unknown>): string {
  const hash = createHash('sha256').update(isHttps ? 'https' : 'http');
  for (const key of CONNECTION_OPTIONS) {
    const value = options[key];
    hash.update(`\0${key}=`);
    if (value === undefined) continue;
    if (Buffer.isBuffer(value)) hash.update(value);
    else hash.update(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return hash.digest('hex');
}
