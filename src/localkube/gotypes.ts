// The Go types of the built-in kinds we serve, as far as decoding goes: which fields exist and
// what JSON type each takes. A real server decodes a body into these structs, so a wrong JSON
// type is a 400 ("json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port
// of type int32"), MicroTime wants exactly six fractional digits, and an unknown field is
// dropped (reported under fieldValidation=Strict|Warn, like a custom resource's pruned field).
import { microTimeError, timeError } from './builtins';
import { isJsonObject, Json, JsonObject } from './patch';

export type GoType =
  | 'string' | 'int32' | 'int64' | 'bool' | 'time' | 'microtime' | 'intOrString' | 'bytes' | 'any'
  | { map: GoType; goName: string }
  | { list: GoType }
  | Struct;

export interface Struct {
  struct: string;
  fields: Record<string, GoType>;
}

const s = (struct: string, fields: Record<string, GoType>): Struct => ({ struct, fields });
const list = (of: GoType): GoType => ({ list: of });
const stringMap: GoType = { map: 'string', goName: 'map[string]string' };

const ownerReference = s('OwnerReference', { apiVersion: 'string', kind: 'string', name: 'string', uid: 'string', controller: 'bool', blockOwnerDeletion: 'bool' });

export const OBJECT_META = s('ObjectMeta', {
  name: 'string', generateName: 'string', namespace: 'string', selfLink: 'string', uid: 'string', resourceVersion: 'string',
  generation: 'int64', creationTimestamp: 'time', deletionTimestamp: 'time', deletionGracePeriodSeconds: 'int64',
  labels: stringMap, annotations: stringMap, ownerReferences: list(ownerReference), finalizers: list('string'), managedFields: 'any',
});

const objectReference = (name: string): Struct =>
  s(name, { kind: 'string', namespace: 'string', name: 'string', uid: 'string', apiVersion: 'string', resourceVersion: 'string', fieldPath: 'string' });

const loadBalancerStatus = s('LoadBalancerStatus', {
  ingress: list(s('LoadBalancerIngress', { ip: 'string', hostname: 'string', ipMode: 'string', ports: 'any' })),
});

const top = (kind: string, fields: Record<string, GoType>): Struct =>
  s(kind, { apiVersion: 'string', kind: 'string', metadata: OBJECT_META, ...fields });

const ingressBackend = s('IngressBackend', {
  service: s('IngressServiceBackend', { name: 'string', port: s('ServiceBackendPort', { name: 'string', number: 'int32' }) }),
  resource: s('TypedLocalObjectReference', { apiGroup: 'string', kind: 'string', name: 'string' }),
});

const policyRule = s('PolicyRule', { verbs: list('string'), apiGroups: list('string'), resources: list('string'), resourceNames: list('string'), nonResourceURLs: list('string') });
const subject = s('Subject', { kind: 'string', apiGroup: 'string', name: 'string', namespace: 'string' });
const roleRef = s('RoleRef', { apiGroup: 'string', kind: 'string', name: 'string' });
const resourceAttributes = s('ResourceAttributes', {
  namespace: 'string', verb: 'string', group: 'string', version: 'string', resource: 'string', subresource: 'string', name: 'string', fieldSelector: 'any', labelSelector: 'any',
});
const nonResourceAttributes = s('NonResourceAttributes', { path: 'string', verb: 'string' });

export const GO_TYPES: Record<string, Struct> = {
  Namespace: top('Namespace', {
    spec: s('NamespaceSpec', { finalizers: list('string') }),
    status: s('NamespaceStatus', { phase: 'string', conditions: 'any' }),
  }),
  Service: top('Service', {
    spec: s('ServiceSpec', {
      ports: list(s('ServicePort', { name: 'string', protocol: 'string', appProtocol: 'string', port: 'int32', targetPort: 'intOrString', nodePort: 'int32' })),
      selector: stringMap, clusterIP: 'string', clusterIPs: list('string'), type: 'string', externalIPs: list('string'),
      sessionAffinity: 'string', loadBalancerIP: 'string', loadBalancerSourceRanges: list('string'), externalName: 'string',
      externalTrafficPolicy: 'string', healthCheckNodePort: 'int32', publishNotReadyAddresses: 'bool', sessionAffinityConfig: 'any',
      ipFamilies: list('string'), ipFamilyPolicy: 'string', allocateLoadBalancerNodePorts: 'bool', loadBalancerClass: 'string',
      internalTrafficPolicy: 'string', trafficDistribution: 'string',
    }),
    status: s('ServiceStatus', { loadBalancer: loadBalancerStatus, conditions: 'any' }),
  }),
  ConfigMap: top('ConfigMap', { data: stringMap, binaryData: { map: 'bytes', goName: 'map[string][]uint8' }, immutable: 'bool' }),
  Secret: top('Secret', { data: { map: 'bytes', goName: 'map[string][]uint8' }, stringData: stringMap, type: 'string', immutable: 'bool' }),
  Event: top('Event', {
    involvedObject: objectReference('ObjectReference'), reason: 'string', message: 'string',
    source: s('EventSource', { component: 'string', host: 'string' }), firstTimestamp: 'time', lastTimestamp: 'time', count: 'int32',
    type: 'string', eventTime: 'microtime', series: s('EventSeries', { count: 'int32', lastObservedTime: 'microtime' }), action: 'string',
    related: objectReference('ObjectReference'), reportingComponent: 'string', reportingInstance: 'string',
  }),
  Ingress: top('Ingress', {
    spec: s('IngressSpec', {
      ingressClassName: 'string',
      defaultBackend: ingressBackend,
      tls: list(s('IngressTLS', { hosts: list('string'), secretName: 'string' })),
      rules: list(s('IngressRule', {
        host: 'string',
        http: s('HTTPIngressRuleValue', { paths: list(s('HTTPIngressPath', { path: 'string', pathType: 'string', backend: ingressBackend })) }),
      })),
    }),
    status: s('IngressStatus', { loadBalancer: s('IngressLoadBalancerStatus', { ingress: list(s('IngressLoadBalancerIngress', { ip: 'string', hostname: 'string', ports: 'any' })) }) }),
  }),
  Lease: top('Lease', {
    spec: s('LeaseSpec', {
      holderIdentity: 'string', leaseDurationSeconds: 'int32', acquireTime: 'microtime', renewTime: 'microtime',
      leaseTransitions: 'int32', strategy: 'string', preferredHolder: 'string',
    }),
  }),
  CustomResourceDefinition: top('CustomResourceDefinition', { spec: 'any', status: 'any' }),
  TokenReview: top('TokenReview', { spec: s('TokenReviewSpec', { token: 'string', audiences: list('string') }), status: 'any' }),
  SubjectAccessReview: top('SubjectAccessReview', {
    spec: s('SubjectAccessReviewSpec', { resourceAttributes, nonResourceAttributes, user: 'string', groups: list('string'), extra: 'any', uid: 'string' }),
    status: 'any',
  }),
  SelfSubjectAccessReview: top('SelfSubjectAccessReview', {
    spec: s('SelfSubjectAccessReviewSpec', { resourceAttributes, nonResourceAttributes }),
    status: 'any',
  }),
  SelfSubjectRulesReview: top('SelfSubjectRulesReview', { spec: s('SelfSubjectRulesReviewSpec', { namespace: 'string' }), status: 'any' }),
  SelfSubjectReview: top('SelfSubjectReview', { status: 'any' }),
  ServiceAccount: top('ServiceAccount', {
    secrets: list(objectReference('ObjectReference')),
    imagePullSecrets: list(s('LocalObjectReference', { name: 'string' })),
    automountServiceAccountToken: 'bool',
  }),
  TokenRequest: top('TokenRequest', {
    spec: s('TokenRequestSpec', {
      audiences: list('string'),
      expirationSeconds: 'int64',
      boundObjectRef: s('BoundObjectReference', { kind: 'string', apiVersion: 'string', name: 'string', uid: 'string' }),
    }),
    status: s('TokenRequestStatus', { token: 'string', expirationTimestamp: 'time' }),
  }),
  Role: top('Role', { rules: list(policyRule) }),
  ClusterRole: top('ClusterRole', { rules: list(policyRule), aggregationRule: s('AggregationRule', { clusterRoleSelectors: 'any' }) }),
  RoleBinding: top('RoleBinding', { subjects: list(subject), roleRef }),
  ClusterRoleBinding: top('ClusterRoleBinding', { subjects: list(subject), roleRef }),
};

/** A body that does not decode into the Go type: the server answers 400 with this text. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

function jsonKind(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function goTypeName(t: GoType): string {
  if (typeof t === 'string') {
    const names: Record<string, string> = { time: 'v1.Time', microtime: 'v1.MicroTime', intOrString: 'intstr.IntOrString', bytes: '[]uint8', bool: 'bool', any: 'interface {}' };
    return names[t] ?? t;
  }
  if ('map' in t) return t.goName;
  if ('list' in t) return `[]${goTypeName(t.list)}`;
  return `v1.${t.struct}`;
}

interface Walk {
  unknown: string[];
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function check(value: Json, type: GoType, path: string, goPath: string, owner: string, walk: Walk): void {
  if (value === null || type === 'any') return;
  const fail = (goType = goTypeName(type)): never => {
    throw new DecodeError(`json: cannot unmarshal ${jsonKind(value)} into Go struct field ${owner}.${goPath} of type ${goType}`);
  };
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof value !== 'string') fail();
        return;
      case 'bool':
        if (typeof value !== 'boolean') fail();
        return;
      case 'int32':
      case 'int64': {
        if (typeof value !== 'number') fail();
        const n = value as number;
        const limit = type === 'int32' ? 2 ** 31 : 2 ** 63;
        if (!Number.isInteger(n) || n >= limit || n < -limit) throw new DecodeError(`json: cannot unmarshal number ${n} into Go struct field ${owner}.${goPath} of type ${type}`);
        return;
      }
      case 'intOrString':
        if (typeof value !== 'string' && typeof value !== 'number') fail();
        return;
      case 'time': {
        if (typeof value !== 'string') fail('string');
        const err = timeError(value as string);
        if (err) throw new DecodeError(err);
        return;
      }
      case 'microtime': {
        if (typeof value !== 'string') fail('string');
        const err = microTimeError(value as string);
        if (err) throw new DecodeError(err);
        return;
      }
      case 'bytes': {
        if (typeof value !== 'string') fail('string');
        const bad = base64Error(value as string);
        if (bad !== undefined) throw new DecodeError(`illegal base64 data at input byte ${bad}`);
        return;
      }
    }
    return;
  }
  if ('map' in type) {
    if (!isJsonObject(value)) fail();
    for (const [k, v] of Object.entries(value as JsonObject)) check(v as Json, type.map, join(path, k), goPath, owner, walk);
    return;
  }
  if ('list' in type) {
    if (!Array.isArray(value)) fail();
    (value as Json[]).forEach((item, i) => check(item, type.list, `${path}[${i}]`, goPath, owner, walk));
    return;
  }
  if (!isJsonObject(value)) fail();
  const obj = value as JsonObject;
  for (const key of Object.keys(obj)) {
    const fieldType = type.fields[key];
    if (fieldType === undefined) {
      walk.unknown.push(join(path, key));
      delete obj[key];
      continue;
    }
    check(obj[key] as Json, fieldType, join(path, key), join(goPath, key), typeof fieldType === 'object' && 'struct' in fieldType ? fieldType.struct : type.struct, walk);
  }
}

/** Go's base64.StdEncoding: the index of the first illegal byte, or undefined if valid. */
function base64Error(text: string): number | undefined {
  const body = text.replace(/={1,2}$/, '');
  const illegal = body.search(/[^A-Za-z0-9+/]/);
  if (illegal >= 0) return illegal;
  if (text.length % 4 !== 0) return text.length;
  return undefined;
}

/**
 * Decodes `obj` as the Go struct `type` would: throws DecodeError on a wrong JSON type,
 * removes unknown fields in place and returns their paths.
 */
export function decodeGo(obj: JsonObject, type: Struct): string[] {
  const walk: Walk = { unknown: [] };
  check(obj, type, '', '', type.struct, walk);
  return walk.unknown;
}
