// LocalKube: an in-process Kubernetes API server on loopback, over plain HTTP or (tls: true)
// HTTPS with a CA of its own. Clients reach it exactly as they reach a real cluster (client-node
// with a kubeconfig, kubectl), so what works here must work there. See README-like notes in
// index.ts for what is left out.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { randomBytes } from 'node:crypto';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import * as yaml from 'js-yaml';
import { Api, checkPatchType, FieldValidation, groupResource, Target } from './api';
import {
  allowAll, AllowRule, API_AUDIENCES, Authenticator, Authorizer, BoundObject, DecidingAuthorizer, forbidden, impersonate, ImpersonationHeaders,
  requestAttributes, RequestAttributes, rulesAuthorizer, ServiceAccountTokens, UserInfo,
} from './auth';
import { defaultCrdFiles, readCrdFile, resourceTypeFromCrd, validateCrd } from './crd';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, TypeRegistry, versionInfo } from './discovery';
import { errors, FieldError, StatusError } from './errors';
import { Faults, FaultResponse } from './faults';
import { decodeGo, DecodeError, GO_TYPES } from './gotypes';
import { kubeconfigYaml } from './kubeconfig';
import { openApiDocument } from './openapi';
import { decodeProtobuf, PROTOBUF } from './protobuf';
import { isJsonObject, JsonObject } from './patch';
import { bootstrapPolicy, rbacAuthorizer, rbacRulesFor, RBAC_GROUP, RulesReview } from './rbac';
import { apiVersionOf, builtinResources, resourceKey, ResourceType } from './resources';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import { HistoryExpired, KubeObject, Store, StoredEvent } from './store';
import { IncludeObject, toTable } from './table';
import { DEFAULT_SERVING_HOSTS, generateServingCertificates, ServingCertificates } from './tls';

export interface LocalKubeOptions {
  /** Loopback by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** CRD YAML files to serve. Default: the vendored route CRDs (third_party/crds) and manifests/crd.yaml. */
  crdFiles?: string[];
  /** CRD objects to serve, in addition to crdFiles. */
  crds?: unknown[];
  /** The token written into the kubeconfig (user `localkube-admin`, group system:masters). Random by default. */
  adminToken?: string;
  /** More bearer tokens and the users they authenticate as. */
  tokens?: Record<string, { username: string; uid?: string; groups?: string[] }>;
  /**
   * Serve HTTPS with a CA and a serving certificate (127.0.0.1, ::1, localhost and the
   * kubernetes.default names) generated at the first start and kept across restarts, as a real
   * server keeps its PKI. `url` is then https://, the kubeconfig carries the CA, and `caPem`
   * gives it to other clients. Default false: plain HTTP.
   */
  tls?: boolean;
  /**
   * Requests without credentials run as system:anonymous (groups system:unauthenticated), as
   * with kube-apiserver's --anonymous-auth=true. Default true: kubectl sends no token to an
   * http:// server. With false they get 401 (over TLS kubectl sends its token, so it works
   * without). A wrong token is always 401.
   */
  anonymous?: boolean;
  /**
   * 'RBAC': every request, non-resource paths included, is decided from the Role, ClusterRole,
   * RoleBinding and ClusterRoleBinding objects in the store (system:masters always allowed), as
   * kube-apiserver's --authorization-mode=RBAC; the bootstrap ClusterRoles (cluster-admin,
   * system:discovery, system:basic-user, system:public-info-viewer) and their bindings exist
   * from the start. Cannot be combined with `authorize` or `rules`. Unset: `authorize`, else
   * `rules`, else allow everything; these decide resource requests only.
   */
  authorization?: 'AlwaysAllow' | 'RBAC';
  /** Decides every resource request (and SubjectAccessReviews). Takes precedence over `rules`. Default: allow all. */
  authorize?: Authorizer;
  /** RBAC-like allow rules; system:masters is always allowed. Used when `authorize` is absent. */
  rules?: AllowRule[];
  /** Interval of BOOKMARK events on watches that allow them. Default 60 s (a real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** Events kept per resource for watch resumption (the watch cache window). Default 1000. */
  historyLimit?: number;
  /** Namespaces that exist at start. Default: default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  /** Clock for timestamps and Age columns. */
  now?: () => Date;
  /** Requests kept in `requests`. Default 5000. */
  requestLogLimit?: number;
}

/** A write the server accepted (dryRun excluded), as seen the moment it was stored: observers
 * run synchronously before the response is sent, so the store they read (`stored`) is exactly
 * the state that write produced, with nothing else interleaved. */
export interface WriteRecord {
  at: number;
  /** Who asked: the authenticated (or impersonated) user's name. */
  username: string;
  verb: 'create' | 'update' | 'patch' | 'delete';
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** The object as stored after the write (for a delete: as it was removed or marked). */
  object: KubeObject;
  /** The object before the write; absent for a create. */
  previous?: KubeObject;
}

export type WriteListener = (write: WriteRecord) => void;

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string;
  status: number;
  verb?: string;
  resource?: string;
}

/** alwaysAllowAuthorizer.RulesFor: every verb on everything. */
const ALL_RULES: RulesReview = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
};

const ADMIN: UserInfo = { username: 'localkube-admin', groups: ['system:masters', 'system:authenticated'] };
const MAX_BODY = 3 * 1024 * 1024;

interface OpenWatch {
  socket: Socket;
  /** Stops delivering events and timers. */
  release(): void;
  /** Sends an ERROR event with a 410 Expired Status and ends the stream, as kube-apiserver does
   * when a watcher has fallen out of its window; the client must list again. */
  expire(): void;
  /** release() and end the stream cleanly (the final chunk). */
  close(): void;
}

type Format = { kind: 'json' } | { kind: 'table'; include: IncludeObject } | { kind: 'partial' };

export class LocalKube {
  readonly faults = new Faults();
  readonly requests: RequestRecord[] = [];
  private readonly options: LocalKubeOptions;
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<OpenWatch>();
  private store?: Store;
  private api?: Api;
  private registry = new TypeRegistry();
  private authenticator?: Authenticator;
  private authorizer: DecidingAuthorizer = decideWith(allowAll);
  /** RBAC decides non-resource requests (/api, /version...) too; the legacy authorizers never saw them. */
  private authorizesNonResource = false;
  /** What SelfSubjectRulesReviews answer. The AlwaysAllow authorizer lists everything; a custom one cannot say. */
  private rulesFor: (user: UserInfo, namespace: string) => RulesReview = () => ALL_RULES;
  private serviceAccountTokens?: ServiceAccountTokens;
  private certificates?: ServingCertificates;
  private adminToken = '';
  private baseUrl = '';
  private readonly pendingCrds: unknown[] = [];
  private readonly writeListeners = new Set<WriteListener>();

  constructor(options: LocalKubeOptions = {}) {
    this.options = options;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('LocalKube is not started: call start() first');
    return this.baseUrl;
  }

  get token(): string {
    return this.adminToken;
  }

  /** The PEM of the CA that signed the serving certificate (tls: true), for clients to trust. */
  get caPem(): string {
    if (!this.options.tls) throw new Error('LocalKube serves plain HTTP: construct it with { tls: true } for a CA');
    if (!this.certificates) throw new Error('LocalKube is not started: call start() first');
    return this.certificates.caPem;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('LocalKube already started');
    const now = this.options.now ?? (() => new Date());
    const store = new Store(this.options.historyLimit ?? 1000, 1000 + Math.floor(Math.random() * 1000));
    this.store = store;
    // A restart starts from an empty cluster: no CRD types served from a previous run.
    this.registry = new TypeRegistry();
    for (const type of builtinResources()) this.registry.add(type);
    const api = new Api(store, {
      now,
      validateCrd: (crd) => validateCrd(crd),
      crdChanged: (crd, removed) => this.crdChanged(crd, removed),
      namespacedResources: () => this.registry.all().filter((t) => t.namespaced && !t.virtual).map((t) => resourceKey(t.group, t.plural)),
    });
    this.api = api;
    this.adminToken = this.options.adminToken ?? randomBytes(24).toString('hex');
    const tokens = new Map<string, UserInfo>([[this.adminToken, ADMIN]]);
    for (const [token, user] of Object.entries(this.options.tokens ?? {})) {
      tokens.set(token, { username: user.username, groups: [...(user.groups ?? []), 'system:authenticated'], ...(user.uid ? { uid: user.uid } : {}) });
    }
    this.serviceAccountTokens = new ServiceAccountTokens((resource, namespace, name) => {
      const uid = store.get(resourceKey('', resource), namespace, name)?.metadata.uid;
      return typeof uid === 'string' ? uid : undefined;
    }, now);
    this.authenticator = new Authenticator(tokens, this.options.anonymous ?? true, this.serviceAccountTokens);
    const rbac = this.options.authorization === 'RBAC';
    if (this.options.authorization !== undefined && (this.options.authorize || this.options.rules)) {
      throw new Error(`LocalKube: authorization: '${this.options.authorization}' cannot be combined with authorize or rules`);
    }
    this.authorizer = rbac ? rbacAuthorizer(store) : decideWith(this.options.authorize ?? (this.options.rules ? rulesAuthorizer(this.options.rules) : allowAll));
    this.authorizesNonResource = rbac;
    const everything = !rbac && !this.options.authorize && !this.options.rules;
    this.rulesFor = rbac ? (user, namespace) => rbacRulesFor(store, user, namespace) : () => (everything ? ALL_RULES : { resourceRules: [], nonResourceRules: [], incomplete: true });

    const nsType = this.registry.find('', 'v1', 'namespaces') as ResourceType;
    for (const name of this.options.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      api.create({ type: nsType, version: 'v1', namespace: '', name: '', subresource: '' }, { metadata: { name } }, { dryRun: false, fieldValidation: 'Strict' });
    }
    const files = this.options.crdFiles ?? defaultCrdFiles();
    for (const file of files) for (const crd of readCrdFile(file)) this.registerCrd(crd);
    for (const crd of [...(this.options.crds ?? []), ...this.pendingCrds.splice(0)]) this.registerCrd(crd);
    if (rbac) {
      const policy = bootstrapPolicy();
      for (const [plural, objects] of [['clusterroles', policy.clusterRoles], ['clusterrolebindings', policy.clusterRoleBindings]] as const) {
        const type = this.registry.find(RBAC_GROUP, 'v1', plural) as ResourceType;
        for (const obj of objects) api.create({ type, version: 'v1', namespace: '', name: '', subresource: '' }, obj, { dryRun: false, fieldValidation: 'Strict' });
      }
    }

    const host = this.options.host ?? '127.0.0.1';
    if (this.options.tls && !this.certificates) {
      this.certificates = await generateServingCertificates(isIP(host) && !DEFAULT_SERVING_HOSTS.includes(host) ? [...DEFAULT_SERVING_HOSTS, host] : DEFAULT_SERVING_HOSTS);
    }
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.sendError(res, errors.internal(String(e)));
        else res.destroy();
      });
    };
    const certificates = this.certificates;
    // Both kinds of server emit 'connection' with the raw TCP socket, which stop() destroys.
    const server = this.options.tls && certificates ? https.createServer({ key: certificates.keyPem, cert: certificates.certPem }, handler) : http.createServer(handler);
    // kube-apiserver keeps an idle connection 90 s (its http.Server IdleTimeout); Node's default
    // of 5 s would close connections under keep-alive clients that, like client-go, expect longer.
    server.keepAliveTimeout = 90_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://${bound}:${address.port}`;
  }

  /** Closes every watch and connection, then the listener. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const w of [...this.watches]) w.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.baseUrl = '';
  }

  /** A kubeconfig for this server: the admin's token unless another (a ServiceAccount's) is given. */
  kubeconfigYaml(namespace = 'default', token = this.adminToken): string {
    return kubeconfigYaml(this.url, token, namespace, {
      ...(this.options.tls ? { caPem: this.caPem } : {}),
      ...(token === this.adminToken ? {} : { user: 'localkube-user' }),
    });
  }

  writeKubeconfig(file: string, namespace = 'default', token = this.adminToken): void {
    fs.writeFileSync(file, this.kubeconfigYaml(namespace, token), { mode: 0o600 });
  }

  /**
   * Serves a CRD as if it were created through the API (refused with a 422 StatusError when
   * not structural). Before start() it is queued. An existing CRD of that name is replaced.
   */
  registerCrd(crd: unknown): KubeObject | undefined {
    if (!this.api) {
      this.pendingCrds.push(crd);
      return undefined;
    }
    if (!isJsonObject(crd)) throw errors.badRequest('a CRD must be an object');
    const type = this.registry.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions') as ResourceType;
    const name = isJsonObject(crd.metadata) ? String(crd.metadata.name ?? '') : '';
    const target: Target = { type, version: 'v1', namespace: '', name, subresource: '' };
    const body = { ...crd, metadata: { ...(isJsonObject(crd.metadata) ? crd.metadata : {}) } } as JsonObject;
    delete body.status;
    delete (body.metadata as JsonObject).resourceVersion;
    const existing = this.store?.get(resourceKey(type.group, type.plural), '', name);
    if (existing) {
      return this.api.update(target, { ...body, metadata: { ...(body.metadata as JsonObject), resourceVersion: existing.metadata.resourceVersion ?? null } }, { dryRun: false, fieldValidation: 'Ignore' }).object;
    }
    return this.api.create(target, body, { dryRun: false, fieldValidation: 'Ignore' }).object;
  }

  /** Closes every open watch abruptly (socket destroyed, no final chunk), as a dropped connection does. */
  dropWatches(): void {
    for (const w of [...this.watches]) {
      w.release();
      w.socket.destroy();
    }
  }

  /** Forgets watch history: resuming a watch from any earlier resourceVersion then gets 410 Expired. */
  compactHistory(): void {
    this.requireStore().compact();
  }

  /**
   * Ends every open watch with an ERROR event carrying a 410 Expired Status, and forgets the
   * history so that resuming from the last resourceVersion seen is refused with 410 as well: what
   * a watcher meets after an etcd compaction. Returns how many watches it ended.
   */
  expireWatches(): number {
    this.requireStore().compact();
    const open = [...this.watches];
    for (const w of open) w.expire();
    return open.length;
  }

  /** Tells `listener` of every write the server accepts from now on. Returns the unsubscribe. */
  onWrite(listener: WriteListener): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  /** An object as the store holds it now, read without a request (observers check invariants
   * against it at the instant of a write). `group` is '' for the core group. */
  stored(group: string, plural: string, namespace: string, name: string): KubeObject | undefined {
    return this.requireStore().get(resourceKey(group, plural), namespace, name);
  }

  /** How many watch streams are open now. */
  get openWatchCount(): number {
    return this.watches.size;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  // ---------------------------------------------------------------------------------------

  private requireStore(): Store {
    if (!this.store) throw new Error('LocalKube is not started: call start() first');
    return this.store;
  }

  private crdChanged(crd: KubeObject, removed: boolean): void {
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    const group = String(spec.group);
    const plural = String(names.plural);
    if (removed) {
      const store = this.requireStore();
      const key = resourceKey(group, plural);
      for (const obj of store.list(key)) store.remove(key, obj);
      store.dropResource(key);
      this.registry.remove(group, plural);
      return;
    }
    this.registry.add(resourceTypeFromCrd(crd));
  }

  private record(req: http.IncomingMessage, url: URL, status: number, attrs?: RequestAttributes): void {
    const entry: RequestRecord = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      contentType: String(req.headers['content-type'] ?? ''),
      status,
      ...(attrs ? { verb: attrs.verb, resource: attrs.resource } : {}),
    };
    this.requests.push(entry);
    const limit = this.options.requestLogLimit ?? 5000;
    if (this.requests.length > limit) this.requests.splice(0, this.requests.length - limit);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let attrs: RequestAttributes | undefined;
    res.on('finish', () => this.record(req, url, res.statusCode, attrs));
    res.on('close', () => {
      if (!res.writableFinished) this.record(req, url, res.headersSent ? res.statusCode : 0, attrs);
    });
    const segments = url.pathname.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    try {
      const user = impersonate((this.authenticator as Authenticator).authenticate(req.headers.authorization), impersonationHeaders(req), this.authorizer);
      // Authorization comes before routing, as in kube-apiserver's handler chain: a user who may
      // not ask gets 403 even for a resource that does not exist.
      const info = requestAttributes(segments, method, url.searchParams, url.pathname);
      if (info.path === undefined || this.authorizesNonResource) {
        const decision = this.authorizer(user, info);
        if (!decision.allowed) throw forbidden(user, info, decision.reason);
      }
      if (['version', 'healthz', 'livez', 'readyz'].includes(segments[0] ?? '') && method === 'GET') {
        if (segments[0] === 'version') return this.sendJson(res, 200, versionInfo());
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      const route = this.route(segments, method, url.searchParams);
      if (route.kind === 'document') {
        if (method !== 'GET') throw errors.methodNotAllowed();
        return this.sendJson(res, 200, route.body, route.contentType);
      }
      const { target, verb } = route;
      attrs = {
        verb,
        group: target.type.group,
        resource: target.type.plural,
        subresource: target.subresource,
        namespace: target.namespace,
        name: target.name,
      };
      const fault = this.faults.take({ verb, resource: target.type.plural, subresource: target.subresource, namespace: target.namespace, name: target.name });
      if (fault !== undefined) {
        const proceed = await this.applyFault(fault, req, res, groupResource(target.type), target.name);
        if (!proceed) return;
      }
      await this.dispatch(req, res, url.searchParams, target, verb, user);
    } catch (e) {
      if (e instanceof StatusError) return this.sendError(res, e);
      throw e;
    }
  }

  /** Applies a fault; returns true when the request should then be served normally. */
  private async applyFault(fault: FaultResponse, req: http.IncomingMessage, res: http.ServerResponse, gr: { group: string; resource: string }, name: string): Promise<boolean> {
    if (fault === 'dropConnection') {
      req.socket.destroy();
      return false;
    }
    if ('delayMs' in fault) {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return !req.socket.destroyed;
    }
    this.sendError(res, faultError(fault.status, fault.message, gr, name));
    return false;
  }

  private route(
    segments: string[],
    method: string,
    query: URLSearchParams,
  ): { kind: 'document'; body: unknown; contentType?: string } | { kind: 'resource'; target: Target; verb: string } {
    const [root, ...rest] = segments;
    if (root === 'openapi') {
      const doc = openApiDocument(rest, this.registry);
      if (!doc) throw errors.pathNotFound();
      return { kind: 'document', body: doc };
    }
    let group: string;
    let version: string;
    let tail: string[];
    if (root === 'api') {
      if (rest.length === 0) return { kind: 'document', body: apiVersions(this.baseUrl.replace(/^https?:\/\//, '')) };
      if (rest[0] !== 'v1') throw errors.pathNotFound();
      group = '';
      version = 'v1';
      tail = rest.slice(1);
    } else if (root === 'apis') {
      if (rest.length === 0) return { kind: 'document', body: apiGroupList(this.registry) };
      if (rest.length === 1) {
        const doc = apiGroup(this.registry, rest[0] as string);
        if (!doc) throw errors.pathNotFound();
        return { kind: 'document', body: doc };
      }
      group = rest[0] as string;
      version = rest[1] as string;
      tail = rest.slice(2);
    } else {
      throw errors.pathNotFound();
    }
    if (tail.length === 0) {
      const doc = apiResourceList(this.registry, group, version);
      if (!doc) throw errors.pathNotFound();
      return { kind: 'document', body: doc };
    }
    let namespace = '';
    let plural: string;
    let name = '';
    let subresource = '';
    const nsSubresource = tail.length === 3 && (tail[2] === 'status' || tail[2] === 'finalize');
    if (tail[0] === 'namespaces' && tail.length >= 3 && !nsSubresource) {
      if (tail.length > 5) throw errors.pathNotFound();
      namespace = tail[1] as string;
      plural = tail[2] as string;
      name = tail[3] ?? '';
      subresource = tail[4] ?? '';
    } else {
      if (tail.length > 3) throw errors.pathNotFound();
      plural = tail[0] as string;
      name = tail[1] ?? '';
      subresource = tail[2] ?? '';
    }
    const type = this.registry.find(group, version, plural);
    if (!type) throw errors.pathNotFound();
    if (namespace && !type.namespaced) throw errors.pathNotFound();
    const extra = type.subresources?.find((sub) => sub.name === subresource);
    if (subresource && !(subresource === 'status' && type.statusSubresource) && !extra) throw errors.pathNotFound();
    const target: Target = { type, version, namespace, name, subresource };
    const watch = query.get('watch') === 'true' || query.get('watch') === '1';
    let verb: string;
    if (name && !subresource && method === 'GET' && watch) {
      // The old single-object watch (GET {name}?watch=true): a watch filtered to that name.
      verb = 'watch';
    } else if (name && extra) {
      const verbs: Record<string, string> = { POST: 'create', GET: 'get', PUT: 'update', PATCH: 'patch' };
      verb = verbs[method] ?? '';
      if (!extra.verbs.includes(verb)) throw errors.methodNotAllowed();
      return { kind: 'resource', target, verb };
    } else if (name) {
      const verbs: Record<string, string> = subresource
        ? { GET: 'get', PUT: 'update', PATCH: 'patch' }
        : { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
      verb = verbs[method] ?? '';
    } else {
      const verbs: Record<string, string> = { GET: watch ? 'watch' : 'list', POST: 'create', DELETE: 'deletecollection' };
      verb = verbs[method] ?? '';
      // The all-namespaces path of a namespaced resource only lists and watches.
      if (type.namespaced && !namespace && verb !== 'list' && verb !== 'watch') verb = '';
    }
    if (!verb || !type.verbs.includes(verb === 'update' && subresource ? 'update' : verb)) {
      if (!(subresource && (verb === 'get' || verb === 'update' || verb === 'patch'))) throw errors.methodNotAllowed();
    }
    return { kind: 'resource', target, verb };
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams, t: Target, verb: string, user: UserInfo): Promise<void> {
    const api = this.api as Api;
    const negotiated = negotiate(req.headers.accept);
    const format: Format = negotiated.kind === 'table' ? { kind: 'table', include: includeObjectOf(query) } : negotiated;
    const dryRun = parseDryRun(query);
    const fieldValidation = parseFieldValidation(query);
    switch (verb) {
      case 'get':
        return this.sendObject(res, 200, t, api.get(t), format);
      case 'list': {
        const { items, resourceVersion, continueToken } = api.list(t, query);
        const listMeta: Record<string, unknown> = { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) };
        if (format.kind === 'table') {
          return this.sendJson(res, 200, toTable(t.type, t.version, items, listMeta, format.include, this.now()));
        }
        if (format.kind === 'partial') {
          return this.sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: items.map(partial) });
        }
        return this.sendJson(res, 200, { kind: t.type.listKind, apiVersion: apiVersionOf(t.type.group, t.version), metadata: listMeta, items });
      }
      case 'watch':
        return this.serveWatch(req, res, t, query, format);
      case 'create': {
        const body = await readBody(req);
        if (t.type.virtual) return this.sendJson(res, 201, this.review(t.type, parseBody(req, body), user));
        if (t.subresource === 'token') return this.tokenRequest(res, t, parseBody(req, body), fieldValidation);
        const result = api.create(t, parseBody(req, body), { dryRun, fieldValidation });
        if (!dryRun) this.wrote('create', t, user, undefined, result.object);
        return this.sendObject(res, result.code, t, result.object, format, result.warnings);
      }
      case 'update': {
        const body = await readBody(req);
        const before = this.storedAt(t);
        const result = api.update(t, parseBody(req, body), { dryRun, fieldValidation });
        if (!dryRun) this.wrote('update', t, user, before, result.object);
        return this.sendObject(res, result.code, t, result.object, format, result.warnings);
      }
      case 'patch': {
        const body = await readBody(req);
        const contentType = mediaType(req.headers['content-type']);
        checkPatchType(t.type, contentType);
        const before = this.storedAt(t);
        const result = api.patch(t, body, contentType, { dryRun, fieldValidation });
        if (!dryRun) this.wrote('patch', t, user, before, result.object);
        return this.sendObject(res, result.code, t, result.object, format, result.warnings);
      }
      case 'delete': {
        const body = await readBody(req);
        const options = body.length > 0 ? parseBody(req, body) : undefined;
        const before = this.storedAt(t);
        const result = api.delete(t, options, { dryRun });
        if (!dryRun && before) this.wrote('delete', t, user, before, result.object.kind === 'Status' ? before : result.object);
        if (result.object.kind === 'Status') return this.sendJson(res, result.code, result.object);
        return this.sendObject(res, result.code, t, result.object, format);
      }
      case 'deletecollection': {
        const deleted = api.deleteCollection(t, query, { dryRun });
        return this.sendJson(res, 200, { kind: t.type.listKind, apiVersion: apiVersionOf(t.type.group, t.version), metadata: { resourceVersion: String(this.requireStore().currentRevision()) }, items: deleted.filter((o) => o.kind !== 'Status') });
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  private storedAt(t: Target): KubeObject | undefined {
    return t.name ? this.requireStore().get(resourceKey(t.type.group, t.type.plural), t.namespace, t.name) : undefined;
  }

  private wrote(verb: WriteRecord['verb'], t: Target, user: UserInfo, previous: KubeObject | undefined, object: KubeObject): void {
    if (this.writeListeners.size === 0) return;
    const meta = object.metadata;
    const record: WriteRecord = {
      at: Date.now(),
      username: user.username,
      verb,
      group: t.type.group,
      resource: t.type.plural,
      subresource: t.subresource,
      namespace: t.namespace || String(meta.namespace ?? ''),
      name: t.name || String(meta.name ?? ''),
      object,
      ...(previous ? { previous } : {}),
    };
    for (const listener of this.writeListeners) listener(record);
  }

  private now(): number {
    return (this.options.now ?? (() => new Date()))().getTime();
  }

  private review(type: ResourceType, body: unknown, requester: UserInfo): JsonObject {
    const spec = isJsonObject(body) && isJsonObject(body.spec) ? body.spec : {};
    const apiVersion = apiVersionOf(type.group, type.versions[0] ?? 'v1');
    const answer = (status: JsonObject, withSpec = true): JsonObject => ({ kind: type.kind, apiVersion, metadata: { creationTimestamp: null }, ...(withSpec ? { spec } : {}), status });
    if (type.kind === 'TokenReview') {
      if (typeof spec.token !== 'string' || spec.token === '') throw errors.badRequest('token is required for TokenReview in authentication.k8s.io');
      const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : API_AUDIENCES;
      const result = (this.authenticator as Authenticator).review(spec.token, audiences);
      // authenticated and audiences are omitempty: a failed review has neither.
      return answer('user' in result ? { authenticated: true, user: userInfoJson(result.user), audiences: result.audiences } : { user: {}, error: result.error });
    }
    if (type.kind === 'SelfSubjectReview') return answer({ userInfo: userInfoJson(requester) }, false);
    if (type.kind === 'SelfSubjectRulesReview') {
      const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
      if (!namespace) throw errors.badRequest('no namespace on request');
      return answer(this.rulesFor(requester, namespace) as unknown as JsonObject);
    }
    const ra = isJsonObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    const na = isJsonObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
    let subject = requester;
    if (type.kind === 'SubjectAccessReview') {
      const username = typeof spec.user === 'string' ? spec.user : '';
      const groups = Array.isArray(spec.groups) ? spec.groups.map(String) : [];
      if (!username && groups.length === 0) {
        throw errors.invalid('SubjectAccessReview', 'authorization.k8s.io', '', [{ reason: 'FieldValueInvalid', field: 'spec.user', value: '', detail: 'at least one of user or group must be specified' }]);
      }
      subject = { username, groups, ...(typeof spec.uid === 'string' && spec.uid ? { uid: spec.uid } : {}) };
    } else if (!ra === !na) {
      throw errors.invalid(type.kind, type.group, '', [{ reason: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
    }
    const attrs: RequestAttributes = ra
      ? { verb: String(ra.verb ?? ''), group: String(ra.group ?? ''), resource: String(ra.resource ?? ''), subresource: String(ra.subresource ?? ''), namespace: String(ra.namespace ?? ''), name: String(ra.name ?? '') }
      : { verb: String(na?.verb ?? ''), group: '', resource: '', subresource: '', namespace: '', name: '', path: String(na?.path ?? '') };
    const decision = this.authorizer(subject, attrs);
    // denied and reason are omitempty, as in SubjectAccessReviewStatus.
    return answer({ allowed: decision.allowed, ...(decision.denied ? { denied: true } : {}), ...(decision.reason ? { reason: decision.reason } : {}) });
  }

  /**
   * POST serviceaccounts/NAME/token: a TokenRequest answered as kube-apiserver's TokenREST does
   * (name and namespace checks, 404 for a missing ServiceAccount, then defaults and validation,
   * the token and its expiry in status).
   */
  private tokenRequest(res: http.ServerResponse, t: Target, body: unknown, fieldValidation: FieldValidation): void {
    const store = this.requireStore();
    const kind = 'TokenRequest';
    const group = 'authentication.k8s.io';
    const apiVersion = `${group}/v1`;
    const cannot = (why: string): StatusError => errors.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${why}`);
    if (!isJsonObject(body)) throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    const request = structuredClone(body);
    if (request.kind !== undefined && request.kind !== kind) throw cannot(`no kind "${String(request.kind)}" is registered for version "${String(request.apiVersion ?? apiVersion)}" in scheme`);
    let unknown: string[];
    try {
      unknown = decodeGo(request, GO_TYPES[kind] as NonNullable<(typeof GO_TYPES)[string]>);
    } catch (e) {
      if (e instanceof DecodeError) throw cannot(e.message);
      throw e;
    }
    if (unknown.length > 0 && fieldValidation === 'Strict') throw cannot(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
    if (unknown.length > 0 && fieldValidation === 'Warn') res.setHeader('Warning', unknown.map((u) => `299 - ${JSON.stringify(`unknown field "${u}"`)}`));
    const meta = isJsonObject(request.metadata) ? request.metadata : {};
    if (meta.name && meta.name !== t.name) {
      throw errors.invalid(kind, group, t.name, [{ reason: 'FieldValueInvalid', field: 'metadata.name', value: meta.name, detail: 'must match the service account name if specified' }]);
    }
    if (meta.namespace && meta.namespace !== t.namespace) {
      throw errors.invalid(kind, group, t.name, [{ reason: 'FieldValueInvalid', field: 'metadata.namespace', value: meta.namespace, detail: 'must match the service account namespace if specified' }]);
    }
    const account = store.get(resourceKey('', 'serviceaccounts'), t.namespace, t.name);
    if (!account) throw errors.notFound({ group: '', resource: 'serviceaccounts' }, t.name);
    const spec = isJsonObject(request.spec) ? request.spec : {};
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : API_AUDIENCES;
    // SetDefaults_TokenRequestSpec: an hour.
    const expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
    const invalid: FieldError[] = [];
    if (expirationSeconds < 600) invalid.push({ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail: 'may not specify a duration less than 10 minutes' });
    if (expirationSeconds > 2 ** 32) invalid.push({ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail: 'may not specify a duration larger than 2^32 seconds' });
    if (invalid.length > 0) throw errors.invalid(kind, group, '', invalid);
    const boundRef = isJsonObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
    const bound = boundRef ? this.boundObject(boundRef, t.namespace) : undefined;
    const now = new Date(this.now());
    const token = (this.serviceAccountTokens as ServiceAccountTokens).issue(
      { namespace: t.namespace, name: t.name, uid: String(account.metadata.uid) }, audiences, expirationSeconds, now, bound,
    );
    const seconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const issuedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
    this.sendJson(res, 201, {
      kind,
      apiVersion,
      metadata: { ...meta, name: t.name, namespace: t.namespace, creationTimestamp: seconds(issuedAt) },
      spec: { audiences, expirationSeconds, boundObjectRef: boundRef ?? null },
      status: { token, expirationTimestamp: seconds(new Date(issuedAt.getTime() + expirationSeconds * 1000)) },
    });
  }

  /** A TokenRequest's boundObjectRef. No Pods are served here, so a Pod is never found. */
  private boundObject(ref: JsonObject, namespace: string): BoundObject {
    const name = String(ref.name ?? '');
    const apiVersion = String(ref.apiVersion ?? '');
    const kind = String(ref.kind ?? '');
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
    if (group === '' && kind === 'Pod') throw errors.notFound({ group: '', resource: 'pods' }, name);
    if (group !== '' || kind !== 'Secret') {
      const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.lastIndexOf('/') + 1) : apiVersion;
      throw errors.badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
    }
    const secret = this.requireStore().get(resourceKey('', 'secrets'), namespace, name);
    if (!secret) throw errors.notFound({ group: '', resource: 'secrets' }, name);
    const uid = String(secret.metadata.uid);
    if (typeof ref.uid === 'string' && ref.uid !== '' && ref.uid !== uid) {
      throw errors.conflict({ group: '', resource: 'Secret' }, name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    return { kind: 'Secret', name, uid };
  }

  private serveWatch(req: http.IncomingMessage, res: http.ServerResponse, t: Target, query: URLSearchParams, format: Format): void {
    const store = this.requireStore();
    const key = resourceKey(t.type.group, t.type.plural);
    const labelSelector = parseLabelSelector(query.get('labelSelector'));
    const fieldSelector = parseFieldSelector(query.get('fieldSelector'), t.type.kind, t.version, t.type.fieldLabels);
    const rvParam = query.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw errors.badRequest(`invalid resource version: strconv.ParseUint: parsing ${JSON.stringify(rvParam)}: invalid syntax`);
    const inScope = (obj: KubeObject): boolean =>
      (!t.namespace || obj.metadata.namespace === t.namespace) && (!t.name || obj.metadata.name === t.name);
    const matches = (obj: KubeObject | undefined): boolean => obj !== undefined && inScope(obj) && labelSelector(obj.metadata.labels as Record<string, string> | undefined) && fieldSelector(obj);
    const api = this.api as Api;
    const render = (obj: KubeObject): unknown => {
      const presented = api.present(t.type, t.version, obj);
      if (format.kind === 'table') {
        // Every event carries the column definitions; kubectl prints the header once.
        return toTable(t.type, t.version, [presented], { resourceVersion: presented.metadata.resourceVersion }, format.include, this.now());
      }
      if (format.kind === 'partial') return partial(presented);
      return presented;
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    // Send the headers now: client-go blocks until it has them, even on a quiet watch.
    res.flushHeaders();
    const write = (type: string, object: unknown): void => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const deliver = (event: StoredEvent): void => {
      if (event.resource !== key) return;
      const now = matches(event.object);
      const before = event.type === 'ADDED' ? false : matches(event.previous);
      if (event.type === 'DELETED') {
        if (before || now) write('DELETED', render(event.object));
      } else if (now && before) write('MODIFIED', render(event.object));
      else if (now) write('ADDED', render(event.object));
      else if (before) write('DELETED', render(event.object));
    };

    let timers: NodeJS.Timeout[] = [];
    let unsubscribe = (): void => {};
    const watch: OpenWatch = {
      socket: req.socket,
      release: () => {
        timers.forEach(clearTimeout);
        timers.forEach(clearInterval);
        timers = [];
        unsubscribe();
        this.watches.delete(watch);
      },
      close: () => {
        watch.release();
        if (!res.writableEnded) res.end();
      },
      expire: () => {
        watch.release();
        write('ERROR', errors.expired(`too old resource version: ${rvParam || '0'} (${store.currentRevision()})`).toStatus());
        if (!res.writableEnded) res.end();
      },
    };
    if (rvParam === '' || rvParam === '0') {
      for (const obj of store.list(key, t.namespace || undefined)) if (matches(obj)) write('ADDED', render(obj));
    } else {
      let replay: StoredEvent[];
      try {
        replay = store.eventsSince(key, Number(rvParam));
      } catch (e) {
        if (!(e instanceof HistoryExpired)) throw e;
        write('ERROR', errors.expired(`too old resource version: ${rvParam} (${e.oldest})`).toStatus());
        res.end();
        return;
      }
      replay.forEach(deliver);
    }
    unsubscribe = store.subscribe(deliver);
    this.watches.add(watch);
    res.on('close', () => watch.close());
    if (query.get('allowWatchBookmarks') === 'true') {
      const interval = this.options.bookmarkIntervalMs ?? 60_000;
      timers.push(setInterval(() => {
        write('BOOKMARK', { kind: t.type.kind, apiVersion: apiVersionOf(t.type.group, t.version), metadata: { resourceVersion: String(store.currentRevision()) } });
      }, interval));
    }
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
    if (timeoutSeconds > 0) timers.push(setTimeout(() => watch.close(), timeoutSeconds * 1000));
  }

  private sendObject(res: http.ServerResponse, code: number, t: Target, obj: KubeObject, format: Format, warnings: string[] = []): void {
    if (warnings.length > 0) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
    if (format.kind === 'table') {
      return this.sendJson(res, code, toTable(t.type, t.version, [obj], { resourceVersion: obj.metadata.resourceVersion }, format.include, this.now()));
    }
    if (format.kind === 'partial') return this.sendJson(res, code, partial(obj));
    this.sendJson(res, code, obj);
  }

  private sendJson(res: http.ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: http.ServerResponse, e: StatusError): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.sendJson(res, e.code, e.toStatus());
  }
}

function impersonationHeaders(req: http.IncomingMessage): ImpersonationHeaders {
  // headersDistinct: several Impersonate-Group headers are several groups, not one joined by ", ".
  return Object.fromEntries(Object.entries(req.headersDistinct).filter(([name]) => name.startsWith('impersonate-')));
}

/** A legacy yes/no authorizer as a deciding one: no reasons, never an explicit deny. */
function decideWith(authorize: Authorizer): DecidingAuthorizer {
  return (user, attrs) => ({ allowed: authorize(user, attrs) });
}

/** authentication/v1 UserInfo: uid and extra are omitempty. */
function userInfoJson(user: UserInfo): JsonObject {
  return { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
}

function partial(obj: KubeObject): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

const FAULT_REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict',
  410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

function faultError(status: number, message: string | undefined, gr: { group: string; resource: string }, name: string): StatusError {
  if (status === 409 && !message) return errors.staleResourceVersion(gr, name);
  if (status === 404 && !message) return errors.notFound(gr, name);
  if (status === 500 && !message) return errors.internal('injected fault');
  return new StatusError(status, FAULT_REASONS[status] ?? 'Unknown', message ?? `injected fault (${status})`, { name, group: gr.group, kind: gr.resource });
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Picks the response form from the Accept header, in the client's order of preference. */
function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw errors.badRequest(`includeObject: Unsupported value: ${JSON.stringify(v)}: supported values: "Metadata", "None", "Object"`);
}

function negotiate(accept: string | undefined): Format {
  if (!accept) return { kind: 'json' };
  const offered = accept.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const param of params) {
      const [k, v] = param.split('=');
      if (k && v !== undefined) p[k.toLowerCase()] = v;
    }
    return { type: (type ?? '').toLowerCase(), p };
  });
  for (const o of offered) {
    if (o.type !== 'application/json' && o.type !== '*/*' && o.type !== 'application/*') continue;
    if (!o.p.as) return { kind: 'json' };
    if (o.p.g === 'meta.k8s.io' && (o.p.v === 'v1' || o.p.v === 'v1beta1')) {
      if (o.p.as === 'Table') return { kind: 'table', include: 'Metadata' };
      if (o.p.as === 'PartialObjectMetadata' || o.p.as === 'PartialObjectMetadataList') return { kind: 'partial' };
    }
  }
  throw errors.notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

function parseDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  if (values.length === 0) return false;
  for (const v of values) {
    if (v !== 'All') throw errors.badRequest(`Invalid dry run value: dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  }
  return true;
}

function parseFieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw errors.badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(v)}: supported values: "Ignore", "Strict", "Warn"`);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new StatusError(413, 'RequestEntityTooLarge', 'the request is too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function parseBody(req: http.IncomingMessage, body: Buffer): unknown {
  const type = mediaType(req.headers['content-type']) || 'application/json';
  const text = body.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw errors.badRequest(`Object 'Kind' is missing in '${text.slice(0, 200)}': ${(e as Error).message}`);
    }
  }
  if (type === PROTOBUF) return decodeProtobuf(body);
  if (type === 'application/yaml') {
    try {
      return yaml.load(text, { schema: yaml.JSON_SCHEMA });
    } catch (e) {
      throw errors.badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  throw errors.unsupportedMediaType(['application/json', 'application/yaml', PROTOBUF]);
}
