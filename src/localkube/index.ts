// The in-process Kubernetes API server that tests and `make demo` run against.
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
