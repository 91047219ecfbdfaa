// localkube: the in-process Kubernetes API server that tests and `make demo` run against.
//
// Clients reach it only over HTTP(S), as they reach a real kube-apiserver: client-node with the
// kubeconfig from writeKubeconfig(), or kubectl. Semantics follow kube-apiserver v1.24+:
// resourceVersion (one global counter), uid, creationTimestamp, generation (spec changes only;
// never on /status), status subresource, finalizers and deletionTimestamp, 409 on stale writes,
// merge / JSON / strategic merge (built-ins only) patches, dryRun=All, fieldValidation
// Strict|Warn|Ignore, label and field selectors, watches with replay, bookmarks, 410 Expired and
// selector transitions, Tables for `kubectl get`, discovery and a small OpenAPI v3 surface.
// Custom objects are pruned, defaulted and validated by their CRD's structural schema (CEL
// `x-kubernetes-validations` ignored, as before v1.25); built-ins are decoded by their Go field
// types (MicroTime strictly with six fractional digits).
//
// Security as a real cluster has it, when asked for: `tls: true` serves HTTPS with a CA made at
// start (`caPem`, and the kubeconfig carries it); `authorization: 'RBAC'` decides every request
// from Role/ClusterRole/RoleBinding/ClusterRoleBinding objects, with the bootstrap roles
// (cluster-admin, system:discovery, system:basic-user, system:public-info-viewer), impersonation
// (`kubectl --as`), SubjectAccessReview, SelfSubjectAccessReview and SelfSubjectRulesReview
// (`kubectl auth can-i [--list]`); ServiceAccounts get tokens from the TokenRequest API
// (`kubectl create token`), JWTs that authenticate as the account until they expire or the
// account is deleted, and that TokenReview and SelfSubjectReview (`kubectl auth whoami`) answer.
//
// Not implemented: server-side apply (415), protobuf except the bodies of kubectl's imperative
// commands (create namespace/configmap/secret/serviceaccount/token/role/rolebinding/...,
// auth can-i/whoami), CRD conversion webhooks (versions differ only by apiVersion),
// admission webhooks, CEL, pods/workloads, events.k8s.io, aggregated discovery (kubectl falls
// back to the plain documents), /openapi/v2 (404; kubectl copes), list snapshots at an old
// resourceVersion (lists are always current); in RBAC, ClusterRole aggregation (aggregationRule
// is stored, not acted on), the admin/edit/view roles, and the escalation check on writing
// Roles and bindings (a user who may create a Role may grant more than it has); client
// certificates, and the service-account issuer discovery endpoints (/openid/v1/jwks).
export { LocalKube } from './server';
export type { LocalKubeOptions, RequestRecord, WriteRecord, WriteListener } from './server';
export { runLocalKube } from './main';
export type { RunLocalKubeOptions } from './main';
export type { FaultSpec, FaultMatch, FaultResponse, FaultHandle, FaultTarget } from './faults';
export type { UserInfo, RequestAttributes, Authorizer, AllowRule } from './auth';
export { API_AUDIENCE } from './auth';
export { generateServingCertificates } from './tls';
export type { ServingCertificates } from './tls';
export { structuralErrors } from './schema';
export type { JSONSchemaProps } from './schema';
export { StatusError } from './errors';
export { microTimeError } from './builtins';
