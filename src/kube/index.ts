export { loadKubeConfig, KubeConfigError, type KubeConfigOptions, type KubeConfigSources } from './config';
export {
  Kube,
  jsonPointer,
  resourcePath,
  describeRef,
  type ResourceRef,
  type KubeObject,
  type ObjectClient,
  type KubeList,
  type JsonPatchOp,
  type WriteOptions,
  type ListOptions,
  type KubeOptions,
  type KubeRequestObserver,
  type KubeRequestDone,
} from './client';
export { KubeError, toKubeError, isNotFound, isConflict, isGone } from './errors';
export { microTime, metaTime } from './time';
