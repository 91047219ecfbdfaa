// What the real server does to built-in kinds on write that clients notice: strict decoding of
// typed fields (MicroTime with exactly six fractional digits, int32, strings in labels), name
// rules, and the defaults a Service or Namespace gets.
import { randomInt } from 'node:crypto';
import { FieldError, GoLiteral, goStringSlice } from './errors';
import { isJsonObject, Json, JsonObject } from './patch';

const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

/** Go's time.Parse(RFC3339Micro, s) error text, or undefined when `s` parses. */
export function microTimeError(s: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(.*)$/.exec(s);
  const prefix = `parsing time ${JSON.stringify(s)} as ${JSON.stringify(RFC3339_MICRO)}`;
  if (!m) return `${prefix}: cannot parse ${JSON.stringify(s)} as "2006"`;
  const [, , mo, d, h, mi, sec, rest] = m as unknown as string[];
  if (Number(mo) < 1 || Number(mo) > 12) return `${prefix}: month out of range`;
  if (Number(d) < 1 || Number(d) > 31) return `${prefix}: day out of range`;
  if (Number(h) > 23) return `${prefix}: hour out of range`;
  if (Number(mi) > 59) return `${prefix}: minute out of range`;
  if (Number(sec) > 59) return `${prefix}: second out of range`;
  const tail = rest ?? '';
  if (tail.length < 7 || !/^\.\d{6}/.test(tail)) return `${prefix}: cannot parse ${JSON.stringify(tail)} as ".000000"`;
  const zone = tail.slice(7);
  if (!/^(Z|[+-]\d{2}:\d{2})$/.test(zone)) return `${prefix}: cannot parse ${JSON.stringify(zone)} as "Z07:00"`;
  return undefined;
}

/** Go's time.Parse(RFC3339, s): metav1.Time accepts any fraction length, or none. */
export function timeError(s: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  return `parsing time ${JSON.stringify(s)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(s)} as "2006"`;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_DETAIL = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** path.IsValidPathSegmentName: RBAC names may hold ':' (system:discovery), never '/' or '%'. */
function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

export function nameErrors(kind: string, name: string): FieldError[] {
  const field = 'metadata.name';
  if (RBAC_KINDS.has(kind)) return pathSegmentErrors(name).map((detail) => ({ reason: 'FieldValueInvalid', field, value: name, detail }));
  if (kind === 'Namespace') {
    if (name.length > 63) return [{ reason: 'FieldValueInvalid', field, value: name, detail: 'must be no more than 63 characters' }];
    if (!DNS1123_LABEL.test(name)) {
      return [{ reason: 'FieldValueInvalid', field, value: name, detail: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')" }];
    }
    return [];
  }
  if (kind === 'Service') {
    if (name.length > 63) return [{ reason: 'FieldValueInvalid', field, value: name, detail: 'must be no more than 63 characters' }];
    if (!DNS1035_LABEL.test(name)) {
      return [{ reason: 'FieldValueInvalid', field, value: name, detail: "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')" }];
    }
    return [];
  }
  if (name.length > 253) return [{ reason: 'FieldValueInvalid', field, value: name, detail: 'must be no more than 253 characters' }];
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return [{ reason: 'FieldValueInvalid', field, value: name, detail: DNS1123_SUBDOMAIN_DETAIL }];
  }
  return [];
}

export function labelErrors(labels: Json | undefined): FieldError[] {
  if (!isJsonObject(labels)) return [];
  const out: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const v = String(value ?? '');
    if (v.length > 63) out.push({ reason: 'FieldValueInvalid', field: 'metadata.labels', value: v, detail: 'must be no more than 63 characters' });
    else if (!LABEL_VALUE.test(v)) {
      out.push({ reason: 'FieldValueInvalid', field: 'metadata.labels', value: v, detail: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" });
    }
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name) || name.length > 63) {
      out.push({ reason: 'FieldValueInvalid', field: 'metadata.labels', value: key, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" });
    }
  }
  return out;
}

/** Kind-specific validation after defaulting (the handful of rules clients trip over). */
export function builtinValidation(kind: string, obj: JsonObject, existing?: JsonObject): FieldError[] {
  const spec = isJsonObject(obj.spec) ? obj.spec : {};
  if (kind === 'Role' || kind === 'ClusterRole') return policyRuleErrors(obj.rules, kind === 'Role');
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') return bindingErrors(kind, obj, existing);
  if (kind === 'Service') {
    const type = spec.type ?? 'ClusterIP';
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    if (type !== 'ExternalName' && ports.length === 0) return [{ reason: 'FieldValueRequired', field: 'spec.ports' }];
    const errs: FieldError[] = [];
    ports.forEach((p, i) => {
      const port = isJsonObject(p) ? p.port : undefined;
      if (typeof port !== 'number' || port < 1 || port > 65535) {
        errs.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].port`, value: port ?? 0, detail: 'must be between 1 and 65535, inclusive' });
      }
    });
    return errs;
  }
  if (kind === 'Event') return eventErrors(obj);
  if (kind === 'Pod') return podErrors(spec);
  if (kind === 'EndpointSlice') return endpointSliceErrors(obj);
  if (kind === 'Lease') {
    const d = spec.leaseDurationSeconds;
    if (typeof d === 'number' && d <= 0) return [{ reason: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds', value: d, detail: 'must be greater than 0' }];
  }
  if (kind === 'Ingress') {
    const rules = Array.isArray(spec.rules) ? spec.rules : [];
    const errs: FieldError[] = [];
    rules.forEach((r, i) => {
      const paths = isJsonObject(r) && isJsonObject(r.http) && Array.isArray(r.http.paths) ? r.http.paths : [];
      paths.forEach((p, j) => {
        if (isJsonObject(p) && p.pathType === undefined) errs.push({ reason: 'FieldValueRequired', field: `spec.rules[${i}].http.paths[${j}].pathType`, detail: 'pathType must be specified' });
      });
    });
    return errs;
  }
  return [];
}

function strings(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** ValidatePolicyRule for each rule (rbac validation.go). */
function policyRuleErrors(rules: Json | undefined, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  (Array.isArray(rules) ? rules : []).forEach((r, i) => {
    const rule = isJsonObject(r) ? r : {};
    const at = `rules[${i}]`;
    if (strings(rule.verbs).length === 0) errs.push({ reason: 'FieldValueRequired', field: `${at}.verbs`, detail: 'verbs must contain at least one value' });
    const urls = strings(rule.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced) errs.push({ reason: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, value: goStringSlice(urls), detail: 'namespaced rules cannot apply to non-resource URLs' });
      if (strings(rule.apiGroups).length > 0 || strings(rule.resources).length > 0 || strings(rule.resourceNames).length > 0) {
        errs.push({ reason: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, value: goStringSlice(urls), detail: 'rules cannot apply to both regular resources and non-resource URLs' });
      }
      return;
    }
    if (strings(rule.apiGroups).length === 0) errs.push({ reason: 'FieldValueRequired', field: `${at}.apiGroups`, detail: 'resource rules must supply at least one api group' });
    if (strings(rule.resources).length === 0) errs.push({ reason: 'FieldValueRequired', field: `${at}.resources`, detail: 'resource rules must supply at least one resource' });
  });
  return errs;
}

function roleRefLiteral(ref: JsonObject): GoLiteral {
  return new GoLiteral(`rbac.RoleRef{APIGroup:${JSON.stringify(String(ref.apiGroup ?? ''))}, Kind:${JSON.stringify(String(ref.kind ?? ''))}, Name:${JSON.stringify(String(ref.name ?? ''))}}`);
}

/** ValidateRoleBinding / ValidateClusterRoleBinding, and the roleRef that an update may not change. */
function bindingErrors(kind: string, obj: JsonObject, existing: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const ref = isJsonObject(obj.roleRef) ? obj.roleRef : {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push({ reason: 'FieldValueNotSupported', field: 'roleRef.apiGroup', value: String(ref.apiGroup ?? ''), detail: `supported values: "${RBAC_GROUP}"` });
  const kinds = kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(String(ref.kind ?? ''))) {
    errs.push({ reason: 'FieldValueNotSupported', field: 'roleRef.kind', value: String(ref.kind ?? ''), detail: `supported values: ${kinds.map((k) => JSON.stringify(k)).join(', ')}` });
  }
  const refName = String(ref.name ?? '');
  if (!refName) errs.push({ reason: 'FieldValueRequired', field: 'roleRef.name' });
  else errs.push(...pathSegmentErrors(refName).map((detail): FieldError => ({ reason: 'FieldValueInvalid', field: 'roleRef.name', value: refName, detail })));
  (Array.isArray(obj.subjects) ? obj.subjects : []).forEach((sub, i) => {
    const subject = isJsonObject(sub) ? sub : {};
    const at = `subjects[${i}]`;
    const name = String(subject.name ?? '');
    const apiGroup = String(subject.apiGroup ?? '');
    if (!name) errs.push({ reason: 'FieldValueRequired', field: `${at}.name` });
    switch (subject.kind) {
      case 'ServiceAccount':
        if (name && !DNS1123_SUBDOMAIN.test(name)) {
          errs.push({ reason: 'FieldValueInvalid', field: `${at}.name`, value: name, detail: DNS1123_SUBDOMAIN_DETAIL });
        }
        if (apiGroup) errs.push({ reason: 'FieldValueNotSupported', field: `${at}.apiGroup`, value: apiGroup, detail: 'supported values: ""' });
        if (kind === 'ClusterRoleBinding' && !subject.namespace) errs.push({ reason: 'FieldValueRequired', field: `${at}.namespace` });
        break;
      case 'User':
      case 'Group':
        if (apiGroup !== RBAC_GROUP) errs.push({ reason: 'FieldValueNotSupported', field: `${at}.apiGroup`, value: apiGroup, detail: `supported values: "${RBAC_GROUP}"` });
        break;
      default:
        errs.push({ reason: 'FieldValueNotSupported', field: `${at}.kind`, value: String(subject.kind ?? ''), detail: 'supported values: "ServiceAccount", "User", "Group"' });
    }
  });
  const before = existing && isJsonObject(existing.roleRef) ? existing.roleRef : undefined;
  if (before && (before.apiGroup !== ref.apiGroup || before.kind !== ref.kind || before.name !== ref.name)) {
    errs.push({ reason: 'FieldValueInvalid', field: 'roleRef', value: roleRefLiteral(ref), detail: 'cannot change roleRef' });
  }
  return errs;
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Core v1 Event validation (legacyValidateEvent): an event with eventTime needs
 * reportingComponent (reported as "reportingController"), reportingInstance, action and reason;
 * the involved object's namespace must match the event's.
 */
function eventErrors(obj: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = String((obj.metadata as JsonObject).namespace ?? '');
  const involved = isJsonObject(obj.involvedObject) ? obj.involvedObject : {};
  const involvedNs = typeof involved.namespace === 'string' ? involved.namespace : '';
  const mismatch = (): FieldError => ({ reason: 'FieldValueInvalid', field: 'involvedObject.namespace', value: involvedNs, detail: 'does not match event.namespace' });
  if (!obj.eventTime) {
    if (involvedNs === '' ? namespace !== '' && namespace !== 'default' : namespace !== involvedNs) errs.push(mismatch());
    return errs;
  }
  if (involvedNs === '' && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch());
  const controller = typeof obj.reportingComponent === 'string' ? obj.reportingComponent : '';
  if (!controller) errs.push({ reason: 'FieldValueRequired', field: 'reportingController' });
  else if (!QUALIFIED_NAME.test(controller)) {
    errs.push({ reason: 'FieldValueInvalid', field: 'reportingController', value: controller, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" });
  }
  const instance = typeof obj.reportingInstance === 'string' ? obj.reportingInstance : '';
  if (!instance) errs.push({ reason: 'FieldValueRequired', field: 'reportingInstance' });
  else if (instance.length > 128) errs.push({ reason: 'FieldValueInvalid', field: 'reportingInstance', value: '', detail: 'can have at most 128 characters' });
  const action = typeof obj.action === 'string' ? obj.action : '';
  if (!action) errs.push({ reason: 'FieldValueRequired', field: 'action' });
  else if (action.length > 128) errs.push({ reason: 'FieldValueInvalid', field: 'action', value: '', detail: 'can have at most 128 characters' });
  if (!obj.reason) errs.push({ reason: 'FieldValueRequired', field: 'reason' });
  else if (String(obj.reason).length > 128) errs.push({ reason: 'FieldValueInvalid', field: 'reason', value: '', detail: 'can have at most 128 characters' });
  if (typeof obj.message === 'string' && obj.message.length > 1024) errs.push({ reason: 'FieldValueInvalid', field: 'message', value: '', detail: 'can have at most 1024 characters' });
  return errs;
}

/** The Pod rules a client meets first: at least one container, each with a name and an image. */
function podErrors(spec: JsonObject): FieldError[] {
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) return [{ reason: 'FieldValueRequired', field: 'spec.containers' }];
  const errs: FieldError[] = [];
  containers.forEach((c, i) => {
    const container = isJsonObject(c) ? c : {};
    if (!container.name) errs.push({ reason: 'FieldValueRequired', field: `spec.containers[${i}].name` });
    if (!container.image) errs.push({ reason: 'FieldValueRequired', field: `spec.containers[${i}].image` });
  });
  return errs;
}

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

/** discovery/v1 validation: an addressType the API knows, and 1..100 addresses per endpoint. */
function endpointSliceErrors(obj: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!obj.addressType) errs.push({ reason: 'FieldValueRequired', field: 'addressType' });
  else if (!ADDRESS_TYPES.includes(String(obj.addressType))) {
    errs.push({ reason: 'FieldValueNotSupported', field: 'addressType', value: String(obj.addressType), detail: `supported values: ${ADDRESS_TYPES.map((t) => `"${t}"`).join(', ')}` });
  }
  const endpoints = Array.isArray(obj.endpoints) ? obj.endpoints : [];
  endpoints.forEach((e, i) => {
    const addresses = isJsonObject(e) && Array.isArray(e.addresses) ? e.addresses : [];
    if (addresses.length === 0) errs.push({ reason: 'FieldValueRequired', field: `endpoints[${i}].addresses`, detail: 'must contain at least 1 address' });
    else if (addresses.length > 100) errs.push({ reason: 'FieldValueTooMany', field: `endpoints[${i}].addresses`, detail: 'must have at most 100 items' });
  });
  return errs;
}

/** Defaults the real server fills in on create, so clients reading back see the same shape. */
export function applyBuiltinDefaults(kind: string, obj: JsonObject, existing: JsonObject | undefined): void {
  if (kind === 'Namespace') {
    const name = String((obj.metadata as JsonObject).name ?? '');
    const meta = obj.metadata as JsonObject;
    meta.labels = { ...(isJsonObject(meta.labels) ? meta.labels : {}), 'kubernetes.io/metadata.name': name };
    obj.spec = { finalizers: ['kubernetes'], ...(isJsonObject(obj.spec) ? obj.spec : {}) };
    if (!isJsonObject(obj.status) || !obj.status.phase) obj.status = { phase: 'Active' };
  }
  if (kind === 'Service') {
    const spec: JsonObject = isJsonObject(obj.spec) ? obj.spec : {};
    obj.spec = spec;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName') {
      const previousIp = isJsonObject(existing?.spec) ? existing.spec.clusterIP : undefined;
      spec.clusterIP ??= previousIp ?? `10.96.${randomInt(0, 255)}.${randomInt(1, 254)}`;
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    if (Array.isArray(spec.ports)) {
      spec.ports = spec.ports.map((p) => (isJsonObject(p) ? { protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port ?? null } : p));
    }
    if (!isJsonObject(obj.status)) obj.status = { loadBalancer: {} };
  }
  if (kind === 'Secret') {
    if (!obj.type) obj.type = 'Opaque';
    if (isJsonObject(obj.stringData)) {
      const data: JsonObject = isJsonObject(obj.data) ? { ...obj.data } : {};
      for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
      obj.data = data;
      delete obj.stringData;
    }
  }
  if (kind === 'Ingress' && !isJsonObject(obj.status)) obj.status = { loadBalancer: {} };
  // No kubelet here or in the apiserver: a new Pod is Pending until someone writes its status.
  if (kind === 'Pod' && !isJsonObject(obj.status)) obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
    // SetDefaults_RoleBinding and SetDefaults_Subject: a roleRef, a User and a Group are RBAC's
    // (a ServiceAccount stays in the core group, written as no apiGroup at all).
    if (isJsonObject(obj.roleRef) && !obj.roleRef.apiGroup) obj.roleRef.apiGroup = RBAC_GROUP;
    for (const subject of Array.isArray(obj.subjects) ? obj.subjects : []) {
      if (isJsonObject(subject) && !subject.apiGroup && (subject.kind === 'User' || subject.kind === 'Group')) subject.apiGroup = RBAC_GROUP;
    }
  }
}
