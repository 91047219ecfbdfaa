// RBAC authorization from the Role, ClusterRole, RoleBinding and ClusterRoleBinding objects in
// the store, decided as k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac does (rule matching,
// subject matching, the "allowed by ..." reason, role-reference errors), behind the
// privileged-groups authorizer that lets system:masters through first. Also the bootstrap
// policy a fresh cluster has, so an authenticated user can discover the API and review its own
// access, as on any real cluster.
import type { DecidingAuthorizer, RequestAttributes, UserInfo } from './auth';
import { serviceAccountUsername } from './auth';
import { isJsonObject, JsonObject } from './patch';
import { resourceKey } from './resources';
import type { KubeObject, Store } from './store';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  apiGroup?: string;
  kind?: string;
  name?: string;
}

const has = (list: string[] | undefined, value: string): boolean => (list ?? []).includes(value);

/** rbac.RuleAllows: the request against one rule. */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  const verbMatches = has(rule.verbs, '*') || has(rule.verbs, attrs.verb);
  if (attrs.path !== undefined) {
    const path = attrs.path;
    return verbMatches && (rule.nonResourceURLs ?? []).some((url) => url === '*' || url === path || (url.endsWith('*') && path.startsWith(url.replace(/\*+$/, ''))));
  }
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const resourceMatches = (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (attrs.subresource !== '' && r === `*/${attrs.subresource}`),
  );
  const nameMatches = (rule.resourceNames ?? []).length === 0 || has(rule.resourceNames, attrs.name);
  return verbMatches && (has(rule.apiGroups, '*') || has(rule.apiGroups, attrs.group)) && resourceMatches && nameMatches;
}

/** appliesToUser: a ServiceAccount subject without a namespace means the binding's own. */
function subjectMatches(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(String(subject.name));
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && user.username === serviceAccountUsername(namespace, String(subject.name));
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `${subject.kind} ${JSON.stringify(`${subject.name ?? ''}/${subject.namespace || bindingNamespace}`)}`;
  return `${subject.kind ?? ''} ${JSON.stringify(subject.name ?? '')}`;
}

function listOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value.filter(isJsonObject) as unknown as T[]) : [];
}

/** GetRoleReferenceRules: the rules a binding's roleRef names, or the error a real server reports. */
function referencedRules(store: Store, ref: RoleRef, bindingNamespace: string): PolicyRule[] | string {
  const name = String(ref.name ?? '');
  switch (ref.kind) {
    case 'Role': {
      const role = store.get(resourceKey(RBAC_GROUP, 'roles'), bindingNamespace, name);
      return role ? listOf<PolicyRule>(role.rules) : `role.${RBAC_GROUP} ${JSON.stringify(name)} not found`;
    }
    case 'ClusterRole': {
      const role = store.get(resourceKey(RBAC_GROUP, 'clusterroles'), '', name);
      return role ? listOf<PolicyRule>(role.rules) : `clusterrole.${RBAC_GROUP} ${JSON.stringify(name)} not found`;
    }
    default:
      return `unsupported role reference kind: ${JSON.stringify(ref.kind ?? '')}`;
  }
}

/**
 * The RBAC authorizer over `store`. Allowed requests carry the reason a real server gives
 * (`RBAC: allowed by RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"`); a request no
 * rule allows gets no opinion (allowed: false, not denied), with a reason only when a binding
 * named a role that does not exist.
 */
export function rbacAuthorizer(store: Store): DecidingAuthorizer {
  return (user, attrs) => {
    // The privileged-groups authorizer kube-apiserver puts ahead of RBAC: allowed, no reason.
    if (user.groups.includes('system:masters')) return { allowed: true };
    const problems: string[] = [];
    const visit = (binding: KubeObject, kind: 'ClusterRoleBinding' | 'RoleBinding', namespace: string): string | undefined => {
      const subject = listOf<Subject>(binding.subjects).find((s) => subjectMatches(user, s, namespace));
      if (!subject) return undefined;
      const ref = (isJsonObject(binding.roleRef) ? binding.roleRef : {}) as RoleRef;
      const rules = referencedRules(store, ref, namespace);
      if (typeof rules === 'string') {
        problems.push(rules);
        return undefined;
      }
      if (!rules.some((rule) => ruleAllows(attrs, rule))) return undefined;
      const bindingName = kind === 'RoleBinding' ? `${String(binding.metadata.name)}/${namespace}` : String(binding.metadata.name);
      return `RBAC: allowed by ${kind} ${JSON.stringify(bindingName)} of ${ref.kind ?? ''} ${JSON.stringify(ref.name ?? '')} to ${describeSubject(subject, namespace)}`;
    };
    for (const binding of store.list(resourceKey(RBAC_GROUP, 'clusterrolebindings'))) {
      const reason = visit(binding, 'ClusterRoleBinding', '');
      if (reason) return { allowed: true, reason };
    }
    if (attrs.namespace) {
      for (const binding of store.list(resourceKey(RBAC_GROUP, 'rolebindings'), attrs.namespace)) {
        const reason = visit(binding, 'RoleBinding', attrs.namespace);
        if (reason) return { allowed: true, reason };
      }
    }
    if (problems.length === 0) return { allowed: false };
    // utilerrors.NewAggregate: one error prints alone, several as [a, b].
    return { allowed: false, reason: `RBAC: ${problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`}` };
  };
}

/** What a SelfSubjectRulesReview reports (SubjectRulesReviewStatus). */
export interface RulesReview {
  resourceRules: Array<Pick<PolicyRule, 'verbs' | 'apiGroups' | 'resources' | 'resourceNames'>>;
  nonResourceRules: Array<Pick<PolicyRule, 'verbs' | 'nonResourceURLs'>>;
  incomplete: boolean;
  evaluationError?: string;
}

/**
 * RBACAuthorizer.RulesFor: every rule the user's ClusterRoleBindings and (in `namespace`)
 * RoleBindings grant, split into resource and non-resource rules, as `kubectl auth can-i --list`
 * shows them.
 */
export function rbacRulesFor(store: Store, user: UserInfo, namespace: string): RulesReview {
  const review: RulesReview = { resourceRules: [], nonResourceRules: [], incomplete: false };
  const problems: string[] = [];
  const collect = (binding: KubeObject, bindingNamespace: string): void => {
    if (!listOf<Subject>(binding.subjects).some((s) => subjectMatches(user, s, bindingNamespace))) return;
    const rules = referencedRules(store, (isJsonObject(binding.roleRef) ? binding.roleRef : {}) as RoleRef, bindingNamespace);
    if (typeof rules === 'string') {
      problems.push(rules);
      return;
    }
    for (const rule of rules) {
      if ((rule.resources ?? []).length > 0) {
        review.resourceRules.push({
          verbs: rule.verbs ?? [],
          ...(rule.apiGroups?.length ? { apiGroups: rule.apiGroups } : {}),
          resources: rule.resources ?? [],
          ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}),
        });
      }
      if ((rule.nonResourceURLs ?? []).length > 0) review.nonResourceRules.push({ verbs: rule.verbs ?? [], nonResourceURLs: rule.nonResourceURLs ?? [] });
    }
  };
  for (const binding of store.list(resourceKey(RBAC_GROUP, 'clusterrolebindings'))) collect(binding, '');
  if (namespace) for (const binding of store.list(resourceKey(RBAC_GROUP, 'rolebindings'), namespace)) collect(binding, namespace);
  if (problems.length > 0) review.evaluationError = problems.length === 1 ? (problems[0] as string) : `[${problems.join(', ')}]`;
  return review;
}

const BOOTSTRAP_METADATA = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};

function clusterRole(name: string, rules: PolicyRule[]): JsonObject {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: { name, ...BOOTSTRAP_METADATA }, rules: rules as unknown as JsonObject[] };
}

function groupBinding(name: string, groups: string[]): JsonObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, ...BOOTSTRAP_METADATA },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
    subjects: groups.map((g) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name: g })),
  };
}

/**
 * The part of kube-apiserver's bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy)
 * that any client relies on: cluster-admin for system:masters, discovery and self-review for
 * every authenticated user, health and version for everyone.
 */
export function bootstrapPolicy(): { clusterRoles: JsonObject[]; clusterRoleBindings: JsonObject[] } {
  return {
    clusterRoles: [
      clusterRole('cluster-admin', [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ]),
      clusterRole('system:basic-user', [
        { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
        { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
      ]),
      clusterRole('system:discovery', [
        { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] },
      ]),
      clusterRole('system:public-info-viewer', [
        { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] },
      ]),
    ],
    clusterRoleBindings: [
      groupBinding('cluster-admin', ['system:masters']),
      groupBinding('system:basic-user', ['system:authenticated']),
      groupBinding('system:discovery', ['system:authenticated']),
      groupBinding('system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
    ],
  };
}
