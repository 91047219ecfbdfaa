// Just enough of the Kubernetes protobuf encoding to read the bodies kubectl's imperative
// commands send (`create namespace|configmap|secret|serviceaccount|token|role|...`, `auth
// can-i`: client-go uses protobuf for built-in types). The envelope is "k8s\0" +
// runtime.Unknown{typeMeta, raw}; `raw` is the object's generated.proto message. Field numbers
// are from k8s.io/api/{core,rbac,authentication,authorization}/v1/generated.proto.
import { errors } from './errors';
import { JsonObject, Json } from './patch';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Field {
  number: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw errors.badRequest('protobuf: truncated varint');
    const byte = buf[pos++] as number;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    pos = next;
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p] = readVarint(buf, pos);
      out.push({ number, wire, varint: v });
      pos = p;
    } else if (wire === 2) {
      const [len, p] = readVarint(buf, pos);
      const end = p + Number(len);
      out.push({ number, wire, bytes: buf.subarray(p, end) });
      pos = end;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw errors.badRequest(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

type Decoder = (f: Field) => Json;
const str: Decoder = (f) => (f.bytes ?? Buffer.alloc(0)).toString('utf8');
const b64: Decoder = (f) => (f.bytes ?? Buffer.alloc(0)).toString('base64');
const bool: Decoder = (f) => (f.varint ?? 0n) !== 0n;
const int: Decoder = (f) => Number(f.varint ?? 0n);

interface Spec {
  [number: number]: { name: string; decode: Decoder; repeated?: boolean; map?: Decoder };
}

function message(buf: Buffer, spec: Spec): JsonObject {
  const out: JsonObject = {};
  for (const f of fields(buf)) {
    const entry = spec[f.number];
    if (!entry) continue;
    if (entry.map) {
      const kv = fields(f.bytes ?? Buffer.alloc(0));
      const k = kv.find((x) => x.number === 1);
      const v = kv.find((x) => x.number === 2);
      const map = (out[entry.name] as JsonObject | undefined) ?? {};
      map[k ? String(str(k)) : ''] = v ? entry.map(v) : '';
      out[entry.name] = map;
    } else if (entry.repeated) {
      out[entry.name] = [...((out[entry.name] as Json[] | undefined) ?? []), entry.decode(f)];
    } else {
      // Go's zero values are "unset": an empty string here is an omitted field in JSON.
      const value = entry.decode(f);
      if (value !== '') out[entry.name] = value;
    }
  }
  return out;
}

const sub = (spec: Spec): Decoder => (f) => message(f.bytes ?? Buffer.alloc(0), spec);

const OBJECT_META: Spec = {
  1: { name: 'name', decode: str },
  2: { name: 'generateName', decode: str },
  3: { name: 'namespace', decode: str },
  6: { name: 'resourceVersion', decode: str },
  11: { name: 'labels', decode: str, map: str },
  12: { name: 'annotations', decode: str, map: str },
  14: { name: 'finalizers', decode: str, repeated: true },
};

const OBJECT_REFERENCE: Spec = {
  1: { name: 'kind', decode: str }, 2: { name: 'namespace', decode: str }, 3: { name: 'name', decode: str }, 4: { name: 'uid', decode: str },
  5: { name: 'apiVersion', decode: str }, 6: { name: 'resourceVersion', decode: str }, 7: { name: 'fieldPath', decode: str },
};

// k8s.io/api/rbac/v1/generated.proto
const POLICY_RULE: Spec = {
  1: { name: 'verbs', decode: str, repeated: true },
  2: { name: 'apiGroups', decode: str, repeated: true },
  3: { name: 'resources', decode: str, repeated: true },
  4: { name: 'resourceNames', decode: str, repeated: true },
  5: { name: 'nonResourceURLs', decode: str, repeated: true },
};
const SUBJECT: Spec = { 1: { name: 'kind', decode: str }, 2: { name: 'apiGroup', decode: str }, 3: { name: 'name', decode: str }, 4: { name: 'namespace', decode: str } };
const ROLE_REF: Spec = { 1: { name: 'apiGroup', decode: str }, 2: { name: 'kind', decode: str }, 3: { name: 'name', decode: str } };
const LABEL_SELECTOR: Spec = {
  1: { name: 'matchLabels', decode: str, map: str },
  2: { name: 'matchExpressions', decode: sub({ 1: { name: 'key', decode: str }, 2: { name: 'operator', decode: str }, 3: { name: 'values', decode: str, repeated: true } }), repeated: true },
};
const BINDING: Spec = {
  1: { name: 'metadata', decode: sub(OBJECT_META) },
  2: { name: 'subjects', decode: sub(SUBJECT), repeated: true },
  3: { name: 'roleRef', decode: sub(ROLE_REF) },
};

// k8s.io/api/authorization/v1/generated.proto
const RESOURCE_ATTRIBUTES: Spec = {
  1: { name: 'namespace', decode: str }, 2: { name: 'verb', decode: str }, 3: { name: 'group', decode: str }, 4: { name: 'version', decode: str },
  5: { name: 'resource', decode: str }, 6: { name: 'subresource', decode: str }, 7: { name: 'name', decode: str },
};
const NON_RESOURCE_ATTRIBUTES: Spec = { 1: { name: 'path', decode: str }, 2: { name: 'verb', decode: str } };

const KINDS: Record<string, Spec> = {
  Namespace: { 1: { name: 'metadata', decode: sub(OBJECT_META) }, 2: { name: 'spec', decode: sub({ 1: { name: 'finalizers', decode: str, repeated: true } }) } },
  ConfigMap: {
    1: { name: 'metadata', decode: sub(OBJECT_META) },
    2: { name: 'data', decode: str, map: str },
    3: { name: 'binaryData', decode: str, map: b64 },
    4: { name: 'immutable', decode: bool },
  },
  Secret: {
    1: { name: 'metadata', decode: sub(OBJECT_META) },
    2: { name: 'data', decode: str, map: b64 },
    3: { name: 'type', decode: str },
    4: { name: 'stringData', decode: str, map: str },
    5: { name: 'immutable', decode: bool },
  },
  // kubectl create serviceaccount|token|role|rolebinding|clusterrole|clusterrolebinding and
  // kubectl auth can-i|whoami send these.
  ServiceAccount: {
    1: { name: 'metadata', decode: sub(OBJECT_META) },
    2: { name: 'secrets', decode: sub(OBJECT_REFERENCE), repeated: true },
    3: { name: 'imagePullSecrets', decode: sub({ 1: { name: 'name', decode: str } }), repeated: true },
    4: { name: 'automountServiceAccountToken', decode: bool },
  },
  TokenRequest: {
    1: { name: 'metadata', decode: sub(OBJECT_META) },
    2: {
      name: 'spec',
      decode: sub({
        1: { name: 'audiences', decode: str, repeated: true },
        3: { name: 'boundObjectRef', decode: sub({ 1: { name: 'kind', decode: str }, 2: { name: 'apiVersion', decode: str }, 3: { name: 'name', decode: str }, 4: { name: 'uid', decode: str } }) },
        4: { name: 'expirationSeconds', decode: int },
      }),
    },
  },
  Role: { 1: { name: 'metadata', decode: sub(OBJECT_META) }, 2: { name: 'rules', decode: sub(POLICY_RULE), repeated: true } },
  ClusterRole: {
    1: { name: 'metadata', decode: sub(OBJECT_META) },
    2: { name: 'rules', decode: sub(POLICY_RULE), repeated: true },
    3: { name: 'aggregationRule', decode: sub({ 1: { name: 'clusterRoleSelectors', decode: sub(LABEL_SELECTOR), repeated: true } }) },
  },
  RoleBinding: BINDING,
  ClusterRoleBinding: BINDING,
  SelfSubjectAccessReview: {
    1: { name: 'metadata', decode: sub(OBJECT_META) },
    2: { name: 'spec', decode: sub({ 1: { name: 'resourceAttributes', decode: sub(RESOURCE_ATTRIBUTES) }, 2: { name: 'nonResourceAttributes', decode: sub(NON_RESOURCE_ATTRIBUTES) } }) },
  },
  SelfSubjectRulesReview: { 1: { name: 'metadata', decode: sub(OBJECT_META) }, 2: { name: 'spec', decode: sub({ 1: { name: 'namespace', decode: str } }) } },
  SelfSubjectReview: { 1: { name: 'metadata', decode: sub(OBJECT_META) } },
};

/** Decodes a protobuf body of a supported kind to its JSON form; 415 for anything else. */
export function decodeProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw errors.badRequest('protobuf: missing the k8s envelope prefix');
  const unknown = fields(body.subarray(4));
  const typeMetaField = unknown.find((f) => f.number === 1);
  const raw = unknown.find((f) => f.number === 2)?.bytes ?? Buffer.alloc(0);
  const typeMeta = typeMetaField ? message(typeMetaField.bytes ?? Buffer.alloc(0), { 1: { name: 'apiVersion', decode: str }, 2: { name: 'kind', decode: str } }) : {};
  const spec = KINDS[String(typeMeta.kind ?? '')];
  if (!spec) throw errors.unsupportedMediaType(['application/json', 'application/yaml']);
  return { ...typeMeta, ...message(raw, spec) };
}

