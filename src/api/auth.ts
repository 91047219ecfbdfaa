// Who may call the REST API, decided by the cluster: a bearer token is checked with the
// Kubernetes TokenReview API, and what its user may do with SubjectAccessReview (verb `list` or
// `get` to read plans, `patch` to steer one), so cluster RBAC decides here exactly as it does for
// `kubectl patch mp`. kube-apiserver's delegating authenticator and authorizer work the same way.
//
// Both answers are cached briefly, so a rollback pays the two extra round trips only on its
// caller's first request: TokenReviews keyed by a keyed SHA-256 hash of the token (the token
// itself is never kept), SubjectAccessReviews by the user and the request's attributes. As in
// kube-apiserver's webhook authenticator cache, a yes is kept longer than a no, the caches are
// bounded with least-recently-used eviction, and concurrent identical questions share one call.
// An API server that does not answer never lets a request through: that is a 503.
//
// `--auth=none` (a laptop) checks nothing and says so: a warning at start-up and on every request.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'winston';
import { z } from 'zod';
import { toKubeError, type Kube, type ResourceRef } from '../kube';
import { GROUP, PLURAL, VERSION } from '../plan/schema';
import { HttpError } from './errors';

export const AUTH_MODES = ['kubernetes', 'none'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** The user a TokenReview names. */
export interface Caller {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request does to plans, as a SubjectAccessReview's resourceAttributes. `namespace` ''
 * is every namespace (a list across the cluster); `name` only for one plan. */
export interface Access {
  verb: 'get' | 'list' | 'patch';
  namespace: string;
  name?: string;
}

export interface ApiAuth {
  readonly mode: AuthMode;
  /** Middleware for /api/v1: the caller with a valid bearer token goes on (kept in res.locals),
   * anyone else gets 401; 503 when the token cannot be checked. */
  readonly authenticate: RequestHandler;
  /** Whether `caller` may do `access`. Rejects with a 503 HttpError when that cannot be decided. */
  allowed(caller: Caller | undefined, access: Access): Promise<boolean>;
}

export interface CacheSettings {
  /** How long a yes is kept (an authenticated token, an allowed access). */
  allowedTtlMs: number;
  /** How long a no is kept (a token the API server refused, a denied access). */
  deniedTtlMs: number;
  /** Entries kept, least recently used evicted first. */
  maxEntries: number;
}

/** kube-apiserver's delegating authenticator and authorizer keep answers 10 s; a no is kept
 * shorter, so a RoleBinding just created works within seconds. */
export const TOKEN_CACHE: CacheSettings = { allowedTtlMs: 10_000, deniedTtlMs: 3_000, maxEntries: 1000 };
export const ACCESS_CACHE: CacheSettings = { allowedTtlMs: 10_000, deniedTtlMs: 3_000, maxEntries: 1000 };

/** A bounded map whose entries expire; reading an entry makes it the most recently used. */
export class ExpiringLru<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** An ExpiringLru in front of a review: concurrent questions with the same key share one call,
 * and its answer is kept for the TTL its kind (allowed or denied) gets. A failed call is kept
 * for no time at all. */
class ReviewCache<V> {
  private readonly answers: ExpiringLru<V>;
  private readonly inFlight = new Map<string, Promise<V>>();

  constructor(private readonly settings: CacheSettings, private readonly now: () => number, private readonly isAllowed: (value: V) => boolean) {
    this.answers = new ExpiringLru<V>(settings.maxEntries);
  }

  answer(key: string, ask: () => Promise<V>): Promise<V> {
    const cached = this.answers.get(key, this.now());
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = ask().then((value) => {
        this.answers.set(key, value, this.now() + (this.isAllowed(value) ? this.settings.allowedTtlMs : this.settings.deniedTtlMs));
        return value;
      });
      this.inFlight.set(key, pending);
      const forget = (): void => {
        this.inFlight.delete(key);
      };
      void pending.then(forget, forget);
    }
    return pending;
  }
}

const TOKEN_REVIEWS: ResourceRef = { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews' };
const ACCESS_REVIEWS: ResourceRef = { group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews' };

const TokenReviewAnswer = z.looseObject({
  status: z
    .looseObject({
      authenticated: z.boolean().optional(),
      user: z
        .looseObject({
          username: z.string().optional(),
          uid: z.string().optional(),
          groups: z.array(z.string()).nullish(),
          extra: z.record(z.string(), z.array(z.string())).nullish(),
        })
        .optional(),
      error: z.string().optional(),
    })
    .optional(),
});

const AccessReviewAnswer = z.looseObject({
  status: z.looseObject({ allowed: z.boolean(), denied: z.boolean().optional(), reason: z.string().optional(), evaluationError: z.string().optional() }).optional(),
});

/** `Authorization: Bearer <token>`; undefined when the header is missing or not that. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer +([^\s]+) *$/i.exec(header);
  return m?.[1];
}

const CALLER = 'trafficshiftCaller';

/** The caller the authenticate middleware let through; undefined with --auth=none. */
export function callerOf(res: Response): Caller | undefined {
  return res.locals[CALLER] as Caller | undefined;
}

function describeAccess(access: Access): string {
  const what = `${PLURAL}.${GROUP}${access.name !== undefined ? ` "${access.name}"` : ''}`;
  return `${access.verb} ${what} ${access.namespace === '' ? 'at the cluster scope' : `in the namespace "${access.namespace}"`}`;
}

/**
 * 403 unless the caller may do `access`. Asked before the plan is looked up, and worded from the
 * request alone, so the answer is the same for a plan that exists and one that does not.
 */
export async function authorize(auth: ApiAuth, res: Response, access: Access): Promise<void> {
  const caller = callerOf(res);
  if (await auth.allowed(caller, access)) return;
  throw new HttpError(403, `User "${caller?.username ?? 'unknown'}" cannot ${describeAccess(access)}`);
}

const UNAUTHENTICATED_MISSING = 'this API needs a bearer token: Authorization: Bearer <token> (a ServiceAccount token, or `kubectl create token`)';
const UNAUTHENTICATED_INVALID = 'the bearer token was not accepted by the cluster (unknown, expired or revoked)';

function unavailable(what: string, error: unknown, log: Logger | undefined): HttpError {
  const e = toKubeError(error);
  log?.error(`cannot ${what}: refusing the request`, {
    status: e.status,
    reason: e.reason,
    error: e.message,
    ...(e.status === 403 ? { hint: 'the controller\'s ServiceAccount needs create on tokenreviews and subjectaccessreviews' } : {}),
  });
  return new HttpError(503, `cannot ${what} right now: the Kubernetes API server did not answer; try again`, { reason: 'ServiceUnavailable' }, { cause: error });
}

export interface KubernetesAuthOptions {
  log?: Logger;
  now?: () => number;
  tokens?: CacheSettings;
  access?: CacheSettings;
}

/** TokenReview and SubjectAccessReview through the controller's own client. */
export function kubernetesAuth(kube: Kube, options: KubernetesAuthOptions = {}): ApiAuth {
  const now = options.now ?? Date.now;
  const log = options.log;
  const tokenSettings = options.tokens ?? TOKEN_CACHE;
  const accessSettings = options.access ?? ACCESS_CACHE;
  const tokens = new ReviewCache<Caller | null>(tokenSettings, now, (caller) => caller !== null);
  const decisions = new ReviewCache<boolean>(accessSettings, now, (yes) => yes);
  // A keyed hash: the cache holds nothing from which a token could be guessed back.
  const hashKey = randomBytes(32);

  async function review(token: string): Promise<Caller | null> {
    let answer: unknown;
    try {
      answer = await kube.create(TOKEN_REVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    } catch (error) {
      throw unavailable('check the bearer token (TokenReview)', error, log);
    }
    const status = TokenReviewAnswer.safeParse(answer).data?.status;
    const user = status?.user;
    if (status?.authenticated !== true || !user?.username) return null;
    return {
      username: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups ?? [],
      ...(user.extra && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
    };
  }

  function callerFor(token: string): Promise<Caller | null> {
    return tokens.answer(createHmac('sha256', hashKey).update(token).digest('hex'), () => review(token));
  }

  async function decide(caller: Caller, access: Access): Promise<boolean> {
    let answer: unknown;
    try {
      answer = await kube.create(ACCESS_REVIEWS, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: caller.username,
          ...(caller.uid ? { uid: caller.uid } : {}),
          groups: caller.groups,
          ...(caller.extra ? { extra: caller.extra } : {}),
          resourceAttributes: { group: GROUP, version: VERSION, resource: PLURAL, verb: access.verb, namespace: access.namespace, ...(access.name !== undefined ? { name: access.name } : {}) },
        },
      });
    } catch (error) {
      throw unavailable('check the caller\'s permissions (SubjectAccessReview)', error, log);
    }
    const status = AccessReviewAnswer.safeParse(answer).data?.status;
    if (status?.evaluationError) log?.warn('SubjectAccessReview had an evaluation error', { user: caller.username, error: status.evaluationError });
    return status?.allowed === true && status.denied !== true;
  }

  async function allowed(caller: Caller | undefined, access: Access): Promise<boolean> {
    if (caller === undefined) return false;
    const key = createHash('sha256').update(JSON.stringify([caller.username, caller.uid ?? '', caller.groups, caller.extra ?? {}, access.verb, access.namespace, access.name ?? ''])).digest('hex');
    return decisions.answer(key, () => decide(caller, access));
  }

  const authenticate: RequestHandler = async (req: Request, res: Response, next) => {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) throw new HttpError(401, UNAUTHENTICATED_MISSING);
    const caller = await callerFor(token);
    if (caller === null) throw new HttpError(401, UNAUTHENTICATED_INVALID);
    res.locals[CALLER] = caller;
    next();
  };

  return { mode: 'kubernetes', authenticate, allowed };
}

/** `--auth=none`: every request goes through, each with a warning. */
export function noAuth(log?: Logger): ApiAuth {
  return {
    mode: 'none',
    authenticate: (req, _res, next) => {
      log?.warn('--auth=none: answering a REST request without checking who sent it', { method: req.method, path: req.originalUrl.split('?')[0] });
      next();
    },
    allowed: () => Promise.resolve(true),
  };
}

/** The warning the controller logs at start-up with --auth=none. */
export const NO_AUTH_WARNING =
  '--auth=none: the REST API checks no token and no permission; anyone who can reach its port can pause, promote and roll back every plan. Use it on a laptop only.';
