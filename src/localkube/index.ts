// localkube: the in-process Kubernetes API server that tests and `make demo` run against.
//
// Clients reach it only over HTTP, as they reach a real kube-apiserver: client-node with the
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
// Not implemented: server-side apply (415), protobuf except kubectl's create of
// namespace/configmap/secret, CRD conversion webhooks (versions differ only by apiVersion),
// admission webhooks, CEL, pods/workloads, events.k8s.io, aggregated discovery (kubectl falls
// back to the plain documents), /openapi/v2 (404; kubectl copes), list snapshots at an old
// resourceVersion (lists are always current).
export { LocalKube } from './server';
export type { LocalKubeOptions, RequestRecord } from './server';
export { runLocalKube } from './main';
export type { RunLocalKubeOptions } from './main';
export type { FaultSpec, FaultMatch, FaultResponse, FaultHandle } from './faults';
export type { UserInfo, RequestAttributes, Authorizer, AllowRule } from './auth';
export { structuralErrors } from './schema';
export type { JSONSchemaProps } from './schema';
export { StatusError } from './errors';
export { microTimeError } from './builtins';
