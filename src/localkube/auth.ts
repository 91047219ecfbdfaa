// Bearer-token authentication (static tokens and ServiceAccount tokens from the TokenRequest
// API) and the authorizer interface, with the wording of the real 401 and 403 answers. The same
// decisions back TokenReview and SubjectAccessReview, so a component that delegates auth to the
// API server (trafficshift's REST API) sees what it would in a cluster.
import { createHash, generateKeyPairSync, KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { errors, StatusError } from './errors';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The request attributes an authorizer decides on (kube-apiserver's authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /**
   * Set only for a non-resource request (/api, /version, /healthz...): its URL path. The verb is
   * then the lower-cased HTTP method, as kube-apiserver's RequestInfo has it.
   */
  path?: string;
}

export type Authorizer = (user: UserInfo, attrs: RequestAttributes) => boolean;

/** What an authorizer answers (authorizer.Decision plus its reason). */
export interface Decision {
  allowed: boolean;
  /** An explicit deny (a webhook can give one; RBAC never does: it has no opinion instead). */
  denied?: boolean;
  reason?: string;
}

export type DecidingAuthorizer = (user: UserInfo, attrs: RequestAttributes) => Decision;

/** An RBAC-like allow rule; every listed dimension must match, `*` matches anything. */
export interface AllowRule {
  users?: string[];
  groups?: string[];
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  namespaces?: string[];
}

function matches(list: string[] | undefined, value: string): boolean {
  return list === undefined || list.includes('*') || list.includes(value);
}

/** system:masters may do anything, as in a real cluster; everyone else needs a matching rule. */
export function rulesAuthorizer(rules: AllowRule[]): Authorizer {
  return (user, attrs) => {
    if (user.groups.includes('system:masters')) return true;
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return rules.some(
      (r) =>
        (r.users === undefined && r.groups === undefined
          ? true
          : (r.users ?? []).some((u) => u === '*' || u === user.username) || (r.groups ?? []).some((g) => g === '*' || user.groups.includes(g))) &&
        matches(r.verbs, attrs.verb) &&
        matches(r.apiGroups, attrs.group) &&
        (matches(r.resources, resource) || matches(r.resources, attrs.resource) && !attrs.subresource) &&
        (attrs.namespace === '' || matches(r.namespaces, attrs.namespace)),
    );
  };
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export const allowAll: Authorizer = () => true;

/**
 * The API server's own audience and its service-account issuer, as kind and kubeadm configure
 * them (--service-account-issuer, from which --api-audiences defaults).
 */
export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES = [API_AUDIENCE];

const CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';
const LEEWAY_SECONDS = 60;

/** A token authenticator's answer: who, for which of the asked audiences; or why not. */
export type TokenResult = { user: UserInfo; audiences: string[] } | { error: string };

/** Go's %q of a []string: `["a" "b"]`. */
function goQuotedList(values: string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

interface TokenClaims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  jti: string;
  sub: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string }; secret?: { name: string; uid: string } };
}

/** A TokenRequest's boundObjectRef, resolved: the token dies with it. */
export interface BoundObject {
  kind: 'Secret';
  name: string;
  uid: string;
}

/**
 * ServiceAccount tokens as the TokenRequest API issues them: JWTs signed by the server's
 * service-account key (ES256 here; kube-apiserver takes an RSA or ECDSA key), with the claims a
 * real token carries. Verification is what kube-apiserver's service-account authenticator does:
 * issuer, signature, audience, expiry, and then that the ServiceAccount still exists with the
 * uid in the token, so deleting the account revokes every token issued for it.
 */
export class ServiceAccountTokens {
  private key?: { privateKey: KeyObject; publicKey: KeyObject; kid: string };

  constructor(
    /** The uid of a stored ServiceAccount or Secret, or undefined when there is none. */
    private readonly lookup: (resource: 'serviceaccounts' | 'secrets', namespace: string, name: string) => string | undefined,
    private readonly now: () => Date,
    readonly issuer = API_AUDIENCE,
  ) {}

  issue(account: { namespace: string; name: string; uid: string }, audiences: string[], expirationSeconds: number, issuedAt = this.now(), bound?: BoundObject): string {
    const key = this.signingKey();
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const claims: TokenClaims = {
      aud: audiences,
      exp: iat + expirationSeconds,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: account.namespace,
        ...(bound ? { secret: { name: bound.name, uid: bound.uid } } : {}),
        serviceaccount: { name: account.name, uid: account.uid },
      },
      nbf: iat,
      sub: serviceAccountUsername(account.namespace, account.name),
    };
    const signingInput = `${base64url(JSON.stringify({ alg: 'ES256', kid: key.kid }))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${base64url(signature)}`;
  }

  /** undefined when the token is not one of ours (another authenticator may know it). */
  authenticate(token: string, audiences: string[]): TokenResult | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || !this.key) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    let claims: TokenClaims;
    try {
      const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
      if (h.alg !== 'ES256' || claims.iss !== this.issuer) return undefined;
    } catch {
      return undefined;
    }
    const valid = verify('sha256', Buffer.from(`${header}.${payload}`), { key: this.key.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    if (!valid) return { error: 'invalid bearer token' };
    const tokenAudiences = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
    const granted = audiences.filter((a) => tokenAudiences.includes(a));
    if (granted.length === 0) return { error: `token audiences ${goQuotedList(tokenAudiences)} is invalid for the target audiences ${goQuotedList(audiences)}` };
    // go-jose's Claims.Validate, which kube-apiserver calls, allows a minute of clock skew each way.
    const now = this.now().getTime() / 1000;
    if (now - LEEWAY_SECONDS > claims.exp) return { error: 'service account token has expired' };
    if (now + LEEWAY_SECONDS < claims.nbf) return { error: 'service account token is not valid yet' };
    const ref = claims['kubernetes.io'];
    const namespace = String(ref?.namespace ?? '');
    const name = String(ref?.serviceaccount?.name ?? '');
    const uid = this.lookup('serviceaccounts', namespace, name);
    if (uid === undefined) return { error: `serviceaccounts "${name}" not found` };
    if (uid !== ref.serviceaccount.uid) return { error: `service account UID (${uid}) does not match claim (${ref.serviceaccount.uid})` };
    if (ref.secret) {
      const secretUid = this.lookup('secrets', namespace, ref.secret.name);
      if (secretUid === undefined) return { error: 'service account token has been invalidated' };
      if (secretUid !== ref.secret.uid) return { error: `secret UID (${secretUid}) does not match service account secret ref claim (${ref.secret.uid})` };
    }
    return {
      user: {
        username: serviceAccountUsername(namespace, name),
        uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
        extra: { [CREDENTIAL_ID]: [`JTI=${claims.jti}`] },
      },
      audiences: granted,
    };
  }

  private signingKey(): { privateKey: KeyObject; publicKey: KeyObject; kid: string } {
    if (!this.key) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      // kube-apiserver's key id: the base64url SHA-256 of the public key's DER encoding.
      const der = publicKey.export({ type: 'spki', format: 'der' });
      this.key = { privateKey, publicKey, kid: base64url(createHash('sha256').update(der).digest()) };
    }
    return this.key;
  }
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export class Authenticator {
  constructor(
    private readonly tokens: ReadonlyMap<string, UserInfo>,
    private readonly anonymous: boolean,
    private readonly serviceAccounts?: ServiceAccountTokens,
  ) {}

  /** The user behind a token, for the API server's own audience. */
  userFor(token: string): UserInfo | undefined {
    const result = this.review(token, API_AUDIENCES);
    return 'user' in result ? result.user : undefined;
  }

  /**
   * A token checked for `audiences` (TokenReview's spec.audiences, or the API server's). Static
   * tokens are audience-agnostic, as kube-apiserver wraps them: valid for the API server's
   * audiences only.
   */
  review(token: string, audiences: string[]): TokenResult {
    const user = this.tokens.get(token);
    if (user) {
      const granted = audiences.filter((a) => API_AUDIENCES.includes(a));
      return granted.length > 0 ? { user, audiences: granted } : { error: 'invalid bearer token' };
    }
    return this.serviceAccounts?.authenticate(token, audiences) ?? { error: 'invalid bearer token' };
  }

  /**
   * The user behind an Authorization header, or 401. A request with no credentials is
   * system:anonymous when anonymous auth is on (kube-apiserver's --anonymous-auth): kubectl
   * (client-go) never sends a token to an http:// server, so without it kubectl cannot work
   * against a plain-HTTP LocalKube. Over TLS it sends its token.
   */
  authenticate(header: string | undefined): UserInfo {
    if (header === undefined || header === '') {
      if (this.anonymous) return ANONYMOUS;
      throw errors.unauthorized();
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const result = m ? this.review(m[1] as string, API_AUDIENCES) : undefined;
    if (!result || !('user' in result)) throw errors.unauthorized();
    return result.user;
  }
}

/**
 * The 403 a real server gives, e.g. `migrationplans.trafficshift.io "x" is forbidden: User "bob"
 * cannot patch resource "migrationplans" in API group "trafficshift.io" in the namespace "shop"`,
 * or `forbidden: User "bob" cannot get path "/apis"`; an authorizer's reason follows after ": ".
 */
export function forbidden(user: UserInfo, attrs: RequestAttributes, reason?: string): StatusError {
  const why = reason ? `: ${reason}` : '';
  if (attrs.path !== undefined) {
    return new StatusError(403, 'Forbidden', `forbidden: User "${user.username}" cannot ${attrs.verb} path "${attrs.path}"${why}`, {});
  }
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return errors.forbidden(
    { group: attrs.group, resource: attrs.resource },
    attrs.name || undefined,
    `User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${scope}${why}`,
  );
}

/** Go's path.IsValidPathSegmentName, without the messages. */
function isPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** The name a field selector pins exactly (`metadata.name=x` as one of its terms), if any. */
function exactName(fieldSelector: string | null): string | undefined {
  for (const term of (fieldSelector ?? '').split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (m && !term.includes('!=')) return m[1];
  }
  return undefined;
}

/**
 * What kube-apiserver's RequestInfoFactory makes of a request, before it knows whether the
 * resource exists (so authorization comes before a 404, as on a real server): the verb from the
 * method (get becomes list or watch without a name, delete becomes deletecollection), the
 * namespace (a Namespace's own name for namespaces/NAME), and a field selector on metadata.name
 * as the name, so resourceNames rules apply to such a list or watch. Paths outside
 * /api/v1/... and /apis/GROUP/VERSION/... are non-resource requests.
 */
export function requestAttributes(segments: string[], method: string, query: URLSearchParams, path: string): RequestAttributes {
  const nonResource: RequestAttributes = { verb: method.toLowerCase(), group: '', resource: '', subresource: '', namespace: '', name: '', path };
  const [prefix] = segments;
  if (segments.length < 3 || (prefix !== 'api' && prefix !== 'apis')) return nonResource;
  let parts = segments.slice(1);
  let group = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return nonResource;
    group = parts[0] as string;
    parts = parts.slice(1);
  }
  parts = parts.slice(1);
  const byMethod: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  let verb = byMethod[method] ?? '';
  if ((parts[0] === 'watch' || parts[0] === 'proxy') && parts.length >= 2) {
    verb = parts[0];
    parts = parts.slice(1);
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1] as string;
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const resource = parts[0] ?? '';
  let name = parts[1] ?? '';
  const subresource = parts.length >= 3 && verb !== 'proxy' ? (parts[2] as string) : '';
  if (!name && verb === 'get') {
    const watch = query.get('watch');
    verb = watch !== null && watch.toLowerCase() !== 'false' && watch !== '0' ? 'watch' : 'list';
    const pinned = exactName(query.get('fieldSelector'));
    if (pinned !== undefined && isPathSegmentName(pinned)) name = pinned;
  }
  if (!name && verb === 'delete') verb = 'deletecollection';
  return { verb, group, resource, subresource, namespace, name };
}

/** Impersonate-* request headers, each with every value it was sent with. */
export type ImpersonationHeaders = Record<string, string[] | undefined>;

/**
 * kube-apiserver's impersonation filter (`kubectl --as`, `--as-group`): the requester must be
 * allowed to `impersonate` each thing it asks to be (users, groups, serviceaccounts in their
 * namespace, uids, userextras/KEY), else 403 for that check; the request then runs as the
 * impersonated user, with system:authenticated added as a real server adds it. Returns the
 * requester unchanged when no Impersonate-* header was sent.
 */
export function impersonate(requester: UserInfo, headers: ImpersonationHeaders, decide: DecidingAuthorizer): UserInfo {
  const first = (name: string): string | undefined => headers[name]?.[0];
  const username = first('impersonate-user');
  const groupsAsked = headers['impersonate-group'] ?? [];
  const uid = first('impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const [header, values] of Object.entries(headers)) {
    if (!header.startsWith('impersonate-extra-') || !values) continue;
    extra[decodeURIComponent(header.slice('impersonate-extra-'.length)).toLowerCase()] = values;
  }
  if (username === undefined) {
    if (groupsAsked.length > 0 || Object.keys(extra).length > 0 || uid !== undefined) {
      throw errors.badRequest('requested impersonation without impersonating a user');
    }
    return requester;
  }
  const checks: RequestAttributes[] = [];
  const check = (resource: string, name: string, namespace = '', subresource = ''): void => {
    checks.push({ verb: 'impersonate', group: resource === 'uids' || resource === 'userextras' ? 'authentication.k8s.io' : '', resource, subresource, namespace, name });
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  let groups: string[] = [];
  if (sa) {
    check('serviceaccounts', sa[2] as string, sa[1] as string);
    // A ServiceAccount's groups are known: they come with it unless groups were asked for.
    if (groupsAsked.length === 0) groups = ['system:serviceaccounts', `system:serviceaccounts:${sa[1] as string}`];
  } else {
    check('users', username);
  }
  for (const group of groupsAsked) {
    check('groups', group);
    groups.push(group);
  }
  for (const [key, values] of Object.entries(extra)) for (const value of values) check('userextras', value, '', key);
  if (uid !== undefined) check('uids', uid);
  for (const attrs of checks) {
    const decision = decide(requester, attrs);
    if (!decision.allowed) throw forbidden(requester, attrs, decision.reason);
  }
  if (username !== ANONYMOUS.username) {
    if (!groups.includes('system:authenticated') && !groups.includes('system:unauthenticated')) groups.push('system:authenticated');
  } else if (!groups.includes('system:unauthenticated')) {
    groups.push('system:unauthenticated');
  }
  return { username, groups, ...(uid !== undefined ? { uid } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}
