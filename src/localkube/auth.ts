// Bearer-token authentication and a pluggable authorizer, with the wording of the real 401 and
// 403 answers. The same decisions back TokenReview and SubjectAccessReview, so a component that
// delegates auth to the API server (trafficshift's REST API) sees what it would in a cluster.
import { errors, StatusError } from './errors';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

/** The request attributes an authorizer decides on (kube-apiserver's authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export type Authorizer = (user: UserInfo, attrs: RequestAttributes) => boolean;

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

export class Authenticator {
  constructor(
    private readonly tokens: ReadonlyMap<string, UserInfo>,
    private readonly anonymous: boolean,
  ) {}

  userFor(token: string): UserInfo | undefined {
    return this.tokens.get(token);
  }

  /**
   * The user behind an Authorization header, or 401. A request with no credentials is
   * system:anonymous when anonymous auth is on (kube-apiserver's --anonymous-auth): kubectl
   * (client-go) never sends a token to an http:// server, so without it kubectl cannot work here.
   */
  authenticate(header: string | undefined): UserInfo {
    if (header === undefined || header === '') {
      if (this.anonymous) return ANONYMOUS;
      throw errors.unauthorized();
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const user = m ? this.tokens.get(m[1] as string) : undefined;
    if (!user) throw errors.unauthorized();
    return user;
  }
}

/** The 403 a real server gives, e.g. `User "bob" cannot patch resource "migrationplans" in API group "x" in the namespace "shop"`. */
export function forbidden(user: UserInfo, attrs: RequestAttributes): StatusError {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return errors.forbidden(
    { group: attrs.group, resource: attrs.resource },
    attrs.name || undefined,
    `User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${scope}`,
  );
}
