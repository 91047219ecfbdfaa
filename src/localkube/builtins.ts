// What the real server does to built-in kinds on write that clients notice: strict decoding of
// typed fields (MicroTime with exactly six fractional digits, int32, strings in labels), name
// rules, and the defaults a Service or Namespace gets.
import { randomInt } from 'node:crypto';
import { FieldError } from './errors';
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
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function nameErrors(kind: string, name: string): FieldError[] {
  const field = 'metadata.name';
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
    return [{ reason: 'FieldValueInvalid', field, value: name, detail: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" }];
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
export function builtinValidation(kind: string, obj: JsonObject): FieldError[] {
  const spec = isJsonObject(obj.spec) ? obj.spec : {};
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
}
