// The verbs on stored objects, independent of HTTP: create, get, list, update, patch, delete,
// each with the semantics of kube-apiserver's generic registry (resourceVersion preconditions,
// generation, status subresource, finalizers, dry run, field validation).
import { randomUUID } from 'node:crypto';
import { builtinValidation, applyBuiltinDefaults, labelErrors, nameErrors } from './builtins';
import { decodeGo, DecodeError, GO_TYPES, OBJECT_META, Struct } from './gotypes';
import { errors, FieldError, GroupResource, StatusError } from './errors';
import {
  applyJsonPatch, decodeJsonPatch, deepEqual, isJsonObject, Json, JsonObject, JsonPatchApplyError, JsonPatchDecodeError,
  mergePatch, strategicMergePatch,
} from './patch';
import { apiVersionOf, resourceKey, ResourceType } from './resources';
import { applyDefaults, JSONSchemaProps, prune, validateValue } from './schema';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import { KubeObject, Store } from './store';

export interface Target {
  type: ResourceType;
  version: string;
  namespace: string;
  name: string;
  subresource: string;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  /** HTTP status: 201 on create, 202 when a delete waits for finalizers and the client sent orphanDependents=false, else 200. */
  code: number;
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export const APPLY_PATCH = 'application/apply-patch+yaml';

/** The patch types a real server names in its 415 answer, in its order. */
export function advertisedPatchTypes(type: ResourceType): string[] {
  return type.custom ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];
}

/** The patch types served here: server-side apply is not implemented. */
export function acceptedPatchTypes(type: ResourceType): string[] {
  return advertisedPatchTypes(type).filter((t) => t !== APPLY_PATCH);
}

/** Refuses a patch type this server does not serve: 415 with the real server's list, or, for
 * server-side apply (which a real server takes), a 415 that says it is not implemented here. */
export function checkPatchType(type: ResourceType, contentType: string): void {
  if (acceptedPatchTypes(type).includes(contentType)) return;
  if (contentType === APPLY_PATCH) {
    throw new StatusError(415, 'UnsupportedMediaType', `server-side apply (${APPLY_PATCH}) is not implemented by the in-process API server; use ${MERGE_PATCH} or ${JSON_PATCH}`);
  }
  throw errors.unsupportedMediaType(advertisedPatchTypes(type));
}

export function groupResource(type: ResourceType): GroupResource {
  return { group: type.group, resource: type.plural };
}

/** Types whose DELETE answers with the object (like the real registry's ReturnDeletedObject). */
function returnsDeletedObject(type: ResourceType): boolean {
  return type.custom !== undefined || type.plural === 'services' || type.plural === 'namespaces' || type.plural === 'customresourcedefinitions';
}

export interface ApiHooks {
  /** Called after a CRD is stored (or removed) so its resources are (no longer) served. */
  crdChanged(crd: KubeObject, removed: boolean): void;
  /** Throws 422 if the CRD is not acceptable. */
  validateCrd(crd: JsonObject): void;
  now(): Date;
  /** Store keys of every namespaced resource served now (what namespace deletion empties). */
  namespacedResources(): string[];
}

const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function generateSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

export class Api {
  constructor(
    private readonly store: Store,
    private readonly hooks: ApiHooks,
  ) {}

  /** The object as served in `version`: stored once, converted by changing apiVersion (conversion: None). */
  present(type: ResourceType, version: string, obj: KubeObject): KubeObject {
    const apiVersion = apiVersionOf(type.group, version);
    return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
  }

  get(t: Target): KubeObject {
    const obj = this.store.get(resourceKey(t.type.group, t.type.plural), t.namespace, t.name);
    if (!obj) throw errors.notFound(groupResource(t.type), t.name);
    return this.present(t.type, t.version, obj);
  }

  list(t: Target, query: URLSearchParams): { items: KubeObject[]; resourceVersion: string; continueToken?: string } {
    const labelSelector = parseLabelSelector(query.get('labelSelector'));
    const fieldSelector = parseFieldSelector(query.get('fieldSelector'), t.type.kind, t.version, t.type.fieldLabels);
    let items = this.store
      .list(resourceKey(t.type.group, t.type.plural), t.type.namespaced && t.namespace ? t.namespace : undefined)
      .filter((o) => labelSelector(o.metadata.labels as Record<string, string> | undefined) && fieldSelector(o));
    const resourceVersion = String(this.store.currentRevision());
    const cont = query.get('continue');
    if (cont) {
      let after: string;
      try {
        after = String(JSON.parse(Buffer.from(cont, 'base64').toString('utf8')).start);
      } catch {
        throw errors.badRequest('continue key is not valid: illegal base64 data');
      }
      items = items.filter((o) => `${String(o.metadata.namespace ?? '')}/${String(o.metadata.name)}` > after);
    }
    const limit = Number(query.get('limit') ?? '0');
    let continueToken: string | undefined;
    if (limit > 0 && items.length > limit) {
      items = items.slice(0, limit);
      const last = items[items.length - 1] as KubeObject;
      continueToken = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: resourceVersion, start: `${String(last.metadata.namespace ?? '')}/${String(last.metadata.name)}` })).toString('base64');
    }
    return { items: items.map((o) => this.present(t.type, t.version, o)), resourceVersion, ...(continueToken ? { continueToken } : {}) };
  }

  create(t: Target, body: unknown, opts: WriteOptions): WriteResult {
    const type = t.type;
    const gr = groupResource(type);
    const obj = this.checkEnvelope(t, body);
    const meta = obj.metadata;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw errors.internal('resourceVersion should not be set on objects to be created');
    }
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) meta.name = `${meta.generateName}${generateSuffix()}`;
    if (t.namespace && meta.namespace !== undefined && meta.namespace !== t.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (type.namespaced) meta.namespace = t.namespace;
    else delete meta.namespace;
    const warnings = this.normalize(t, obj, undefined, opts);
    const name = String(meta.name ?? '');
    if (type.namespaced) this.requireNamespace(t, name);
    const key = resourceKey(type.group, type.plural);
    this.refuseIfCrdTerminating(type);
    if (this.store.get(key, t.namespace, name)) throw errors.alreadyExists(gr, name);
    // Create ignores status where status is a subresource (the built-in strategies reset it too).
    if (type.statusSubresource && type.plural !== 'namespaces' && type.plural !== 'customresourcedefinitions') delete obj.status;
    const now = this.hooks.now();
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339Seconds(now);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    delete meta.selfLink;
    if (type.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (type.plural === 'customresourcedefinitions') this.prepareCrd(obj);
    if (opts.dryRun) return { object: this.present(type, t.version, obj), warnings, code: 201 };
    const stored = this.store.write(key, this.toStorage(type, obj), undefined);
    if (type.plural === 'customresourcedefinitions') this.hooks.crdChanged(stored, false);
    return { object: this.present(type, t.version, stored), warnings, code: 201 };
  }

  update(t: Target, body: unknown, opts: WriteOptions): WriteResult {
    const existing = this.existing(t);
    const obj = this.checkEnvelope(t, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== t.name) {
      throw errors.badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${t.name})`);
    }
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) {
      throw errors.staleResourceVersion(groupResource(t.type), t.name);
    }
    return this.commitUpdate(t, existing, obj, opts);
  }

  patch(t: Target, body: Buffer, contentType: string, opts: WriteOptions): WriteResult {
    const existing = this.existing(t);
    const current = this.present(t.type, t.version, existing) as Json;
    let patched: Json;
    let parsed: Json;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Json;
    } catch (e) {
      throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    switch (contentType) {
      case MERGE_PATCH:
        if (!isJsonObject(parsed)) throw errors.badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
        patched = mergePatch(current, parsed);
        break;
      case JSON_PATCH:
        try {
          patched = applyJsonPatch(current, decodeJsonPatch(parsed));
        } catch (e) {
          if (e instanceof JsonPatchDecodeError) throw errors.badRequest(e.message);
          // The real server (NewGenericServerResponse without isUnexpectedResponse) drops the
          // reason: details stay empty and nobody learns which op failed.
          if (e instanceof JsonPatchApplyError) throw new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
          throw e;
        }
        break;
      case STRATEGIC_MERGE_PATCH:
        if (t.type.custom) throw this.unsupportedPatch(t.type);
        if (!isJsonObject(parsed)) throw errors.badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
        patched = strategicMergePatch(current, parsed);
        break;
      default:
        throw this.unsupportedPatch(t.type);
    }
    if (!isJsonObject(patched)) throw errors.badRequest('the patched object is not a JSON object');
    const meta = isJsonObject(patched.metadata) ? patched.metadata : {};
    // A resourceVersion in the patch body is a precondition; one equal to the current one passes.
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== existing.metadata.resourceVersion) {
      throw errors.staleResourceVersion(groupResource(t.type), t.name);
    }
    if (meta.name !== undefined && meta.name !== t.name) {
      throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${t.name})`);
    }
    return this.commitUpdate(t, existing, patched, opts);
  }

  delete(t: Target, body: unknown, opts: { dryRun: boolean }): WriteResult {
    const type = t.type;
    const key = resourceKey(type.group, type.plural);
    const existing = this.existing(t);
    const preconditions = isJsonObject(body) && isJsonObject(body.preconditions) ? body.preconditions : {};
    if (typeof preconditions.uid === 'string' && preconditions.uid !== existing.metadata.uid) {
      throw errors.conflict(groupResource(type), t.name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${String(existing.metadata.uid)}`);
    }
    if (typeof preconditions.resourceVersion === 'string' && preconditions.resourceVersion !== existing.metadata.resourceVersion) {
      throw errors.conflict(groupResource(type), t.name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in meta: ${String(existing.metadata.resourceVersion)}`);
    }
    const finalizers = Array.isArray(existing.metadata.finalizers) ? existing.metadata.finalizers : [];
    // Namespaces and CRDs are finalized by a controller (namespace / CRD cleanup): they go
    // Terminating, their contents are deleted, and they disappear once empty.
    const namespaceFinalizing = type.plural === 'namespaces';
    const crdFinalizing = type.plural === 'customresourcedefinitions';
    // The apiserver answers 202 for a deletion that is not done yet only when the client asked
    // for orphanDependents=false; otherwise 200 (delete.go keeps this for old clients).
    const pending = isJsonObject(body) && body.orphanDependents === false ? 202 : 200;
    if (finalizers.length > 0 || namespaceFinalizing || crdFinalizing) {
      if (existing.metadata.deletionTimestamp) {
        return { object: this.present(type, t.version, existing), warnings: [], code: pending };
      }
      const marked = this.markedForDeletion(existing);
      if (namespaceFinalizing) marked.status = { ...(isJsonObject(marked.status) ? marked.status : {}), phase: 'Terminating' };
      if (crdFinalizing) {
        if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) marked.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
        const status = isJsonObject(marked.status) ? marked.status : {};
        const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((c) => !(isJsonObject(c) && c.type === 'Terminating'));
        conditions.push({ type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress', lastTransitionTime: rfc3339Seconds(this.hooks.now()) });
        marked.status = { ...status, conditions };
      }
      if (opts.dryRun) return { object: this.present(type, t.version, marked), warnings: [], code: pending };
      const stored = this.store.write(key, marked, existing);
      if (namespaceFinalizing) this.terminateNamespace(t.name);
      if (crdFinalizing) this.terminateCrd(stored);
      const after = this.store.get(key, t.namespace, t.name);
      return { object: this.present(type, t.version, after ?? stored), warnings: [], code: after ? pending : 200 };
    }
    if (opts.dryRun) return { object: this.deleteAnswer(type, t.version, existing), warnings: [], code: 200 };
    const gone = this.store.remove(key, existing);
    this.afterRemoval(type, gone);
    return { object: this.deleteAnswer(type, t.version, gone), warnings: [], code: 200 };
  }

  /** Deletes every object a list with these selectors would return; answers the deleted list. */
  deleteCollection(t: Target, query: URLSearchParams, opts: { dryRun: boolean }): KubeObject[] {
    const { items } = this.list(t, query);
    return items.map((o) => this.delete({ ...t, namespace: String(o.metadata.namespace ?? ''), name: String(o.metadata.name) }, undefined, opts).object);
  }

  // ---------------------------------------------------------------------------------------

  /** What a delete that has to wait for finalizers stores: deletionTimestamp set, and (the
   * registry's BeforeDelete) generation bumped on objects that carry one, so a controller
   * comparing observedGeneration sees that something happened. */
  private markedForDeletion(obj: KubeObject): KubeObject {
    const marked: KubeObject = clone(obj);
    marked.metadata.deletionTimestamp = rfc3339Seconds(this.hooks.now());
    marked.metadata.deletionGracePeriodSeconds = 0;
    const generation = marked.metadata.generation;
    if (typeof generation === 'number' && generation > 0) marked.metadata.generation = generation + 1;
    return marked;
  }

  private deleteAnswer(type: ResourceType, version: string, obj: KubeObject): KubeObject {
    if (returnsDeletedObject(type)) return this.present(type, version, obj);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: String(obj.metadata.name), group: type.group, kind: type.plural, uid: String(obj.metadata.uid) },
    };
  }

  private unsupportedPatch(type: ResourceType): StatusError {
    return errors.unsupportedMediaType(advertisedPatchTypes(type));
  }

  private existing(t: Target): KubeObject {
    const obj = this.store.get(resourceKey(t.type.group, t.type.plural), t.namespace, t.name);
    if (!obj) throw errors.notFound(groupResource(t.type), t.name);
    return obj;
  }

  private requireNamespace(t: Target, name: string): void {
    const ns = this.store.get(resourceKey('', 'namespaces'), '', t.namespace);
    if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, t.namespace);
    if (ns.metadata.deletionTimestamp) {
      const message = `unable to create new content in namespace ${t.namespace} because it is being terminated`;
      throw new StatusError(403, 'Forbidden', `${t.type.group ? `${t.type.plural}.${t.type.group}` : t.type.plural} "${name}" is forbidden: ${message}`, {
        name,
        group: t.type.group,
        kind: t.type.plural,
        causes: [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }],
      });
    }
  }

  /** The body as an object of this type: apiVersion/kind checked (400) and filled in. */
  private checkEnvelope(t: Target, body: unknown): KubeObject {
    if (!isJsonObject(body)) throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    const obj = clone(body) as JsonObject;
    const apiVersion = apiVersionOf(t.type.group, t.version);
    if (obj.kind !== undefined && obj.kind !== t.type.kind) {
      throw errors.badRequest(`${t.type.kind} in version "${t.version}" cannot be handled as a ${t.type.kind}: no kind "${String(obj.kind)}" is registered for version "${String(obj.apiVersion ?? apiVersion)}" in scheme`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      const otherVersion = typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith(t.type.group ? `${t.type.group}/` : '') && t.type.versions.includes(obj.apiVersion.split('/').pop() ?? '');
      if (!otherVersion) {
        throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
      }
    }
    obj.apiVersion = apiVersion;
    obj.kind = t.type.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isJsonObject(obj.metadata)) {
      throw errors.badRequest(`${t.type.kind} in version "${t.version}" cannot be handled as a ${t.type.kind}: json: cannot unmarshal ${Array.isArray(obj.metadata) ? 'array' : typeof obj.metadata} into Go struct field ${t.type.kind}.metadata of type v1.ObjectMeta`);
    }
    return obj as KubeObject;
  }

  /** Decode checks, pruning, defaulting and validation shared by create and update. */
  private normalize(t: Target, obj: KubeObject, existing: KubeObject | undefined, opts: WriteOptions): string[] {
    const type = t.type;
    const warnings: string[] = [];
    const schema = type.custom?.schemas.get(t.version);
    // Decoding into the Go struct (ObjectMeta only, for custom resources): wrong JSON types are
    // a 400, unknown fields are dropped.
    const goType: Struct = GO_TYPES[type.kind] && !type.custom
      ? (GO_TYPES[type.kind] as Struct)
      : { struct: type.kind, fields: { ...Object.fromEntries(Object.keys(obj).map((k) => [k, 'any' as const])), apiVersion: 'string', kind: 'string', metadata: OBJECT_META } };
    const unknown: string[] = [];
    try {
      unknown.push(...decodeGo(obj, goType));
    } catch (e) {
      if (e instanceof DecodeError) throw errors.badRequest(`${type.kind} in version "${t.version}" cannot be handled as a ${type.kind}: ${e.message}`);
      throw e;
    }
    if (schema) unknown.push(...prune(obj, schema));
    {
      if (unknown.length > 0 && opts.fieldValidation === 'Strict') {
        throw errors.badRequest(`${type.kind} in version "${t.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
      }
      if (opts.fieldValidation === 'Warn') warnings.push(...unknown.map((u) => `unknown field "${u}"`));
    }
    if (schema) applyDefaults(obj, schema);
    if (!type.custom) applyBuiltinDefaults(type.kind, obj, existing);
    const errs: FieldError[] = [];
    const name = String(obj.metadata.name ?? '');
    if (!existing) {
      if (!name) errs.push({ reason: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
      else errs.push(...nameErrors(type.kind, name));
    }
    errs.push(...labelErrors(obj.metadata.labels));
    if (schema) errs.push(...this.schemaErrors(obj, schema));
    else errs.push(...builtinValidation(type.kind, obj, existing));
    if (existing?.metadata.deletionTimestamp) {
      const before = new Set((existing.metadata.finalizers as string[] | undefined) ?? []);
      const added = ((obj.metadata.finalizers as string[] | undefined) ?? []).filter((f) => !before.has(f));
      if (added.length > 0) {
        errs.push({ reason: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}` });
      }
    }
    if (errs.length > 0) throw errors.invalid(type.kind, type.group, name, errs);
    return warnings;
  }

  /** Validates everything but ObjectMeta (which the server owns) against the CRD schema. */
  private schemaErrors(obj: KubeObject, schema: JSONSchemaProps): FieldError[] {
    const { metadata, ...rest } = obj;
    const properties = { ...(schema.properties ?? {}) };
    const metaSchema = properties.metadata;
    delete properties.metadata;
    const errs = validateValue(rest, { ...schema, properties, required: (schema.required ?? []).filter((r) => r !== 'metadata') }, '');
    if (metaSchema?.properties) {
      for (const field of ['name', 'generateName']) {
        const s = metaSchema.properties[field];
        const v = metadata[field];
        if (s && typeof v === 'string') errs.push(...validateValue(v, s, `metadata.${field}`));
      }
    }
    return errs;
  }

  private commitUpdate(t: Target, existing: KubeObject, incoming: JsonObject, opts: WriteOptions): WriteResult {
    const type = t.type;
    const key = resourceKey(type.group, type.plural);
    let next = clone(incoming) as KubeObject;
    if (!isJsonObject(next.metadata)) next.metadata = {};
    const current = this.present(type, t.version, existing);
    if (t.subresource === 'status') {
      // A status write changes status and nothing else.
      const status = next.status;
      next = clone(current);
      if (status === undefined) delete next.status;
      else next.status = status;
    } else if (type.statusSubresource) {
      // A write to the main resource leaves status alone.
      if (current.status === undefined) delete next.status;
      else next.status = clone(current.status);
    }
    const meta = next.metadata;
    const old = existing.metadata;
    meta.name = old.name ?? null;
    if (type.namespaced) meta.namespace = old.namespace ?? null;
    else delete meta.namespace;
    if (meta.uid !== undefined && meta.uid !== old.uid) {
      throw errors.conflict(groupResource(type), t.name, `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${String(old.uid)}`);
    }
    meta.uid = old.uid ?? null;
    meta.creationTimestamp = old.creationTimestamp ?? null;
    if (old.deletionTimestamp) {
      meta.deletionTimestamp = old.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds ?? 0;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete meta.managedFields;
    delete meta.selfLink;
    next.apiVersion = apiVersionOf(type.group, t.version);
    next.kind = type.kind;
    const warnings = this.normalize(t, next, existing, opts);
    if (type.tracksGeneration) {
      const changed = type.custom
        ? !deepEqual(withoutMetaAndStatus(next, type.statusSubresource), withoutMetaAndStatus(current, type.statusSubresource))
        : !deepEqual(next.spec, current.spec);
      const generation = typeof old.generation === 'number' ? old.generation : 1;
      meta.generation = changed ? generation + 1 : generation;
    } else {
      delete meta.generation;
    }
    meta.resourceVersion = old.resourceVersion ?? null;
    if (type.plural === 'customresourcedefinitions') this.prepareCrd(next, existing);
    if (deepEqual(next, current)) return { object: current, warnings, code: 200 };
    if (opts.dryRun) return { object: next, warnings, code: 200 };
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
    if (meta.deletionTimestamp && finalizers.length === 0 && type.plural !== 'namespaces') {
      const gone = this.store.remove(key, this.toStorage(type, next));
      this.afterRemoval(type, gone);
      return { object: this.present(type, t.version, gone), warnings, code: 200 };
    }
    const stored = this.store.write(key, this.toStorage(type, next), existing);
    if (type.plural === 'customresourcedefinitions') this.hooks.crdChanged(stored, false);
    return { object: this.present(type, t.version, stored), warnings, code: 200 };
  }

  private toStorage(type: ResourceType, obj: KubeObject): KubeObject {
    const { resourceVersion: _rv, ...meta } = obj.metadata;
    return { ...obj, apiVersion: apiVersionOf(type.group, type.versions[0] ?? ''), metadata: meta };
  }

  private prepareCrd(crd: KubeObject, existing?: KubeObject): void {
    this.hooks.validateCrd(crd);
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    const status = existing && isJsonObject(existing.status) ? existing.status : {};
    const at = isJsonObject(status) && Array.isArray(status.conditions) ? undefined : rfc3339Seconds(this.hooks.now());
    const conditions = (Array.isArray(status.conditions) ? status.conditions : [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: at ?? null },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: at ?? null },
    ]) as Json[];
    crd.status = {
      acceptedNames: {
        kind: names.kind ?? null,
        listKind: names.listKind ?? `${String(names.kind)}List`,
        plural: names.plural ?? null,
        singular: names.singular ?? String(names.kind).toLowerCase(),
        ...(names.shortNames ? { shortNames: names.shortNames } : {}),
        ...(names.categories ? { categories: names.categories } : {}),
      },
      conditions,
      storedVersions: (spec.versions as JsonObject[]).filter((v) => v.storage === true).map((v) => v.name ?? ''),
    };
    names.listKind ??= `${String(names.kind)}List`;
    names.singular ??= String(names.kind).toLowerCase();
  }

  private afterRemoval(type: ResourceType, gone: KubeObject): void {
    if (type.plural === 'customresourcedefinitions') this.hooks.crdChanged(gone, true);
    const namespace = String(gone.metadata.namespace ?? '');
    if (namespace) this.finishNamespaceIfEmpty(namespace);
    if (type.custom) this.finishCrdIfEmpty(type.group, type.plural);
  }

  /** What the CRD cleanup controller does: delete every instance, then the CRD once none is left. */
  private terminateCrd(crd: KubeObject): void {
    const spec = crd.spec as JsonObject;
    const group = String(spec.group);
    const plural = String((spec.names as JsonObject).plural);
    const key = resourceKey(group, plural);
    for (const obj of this.store.list(key)) {
      if (obj.metadata.deletionTimestamp) continue;
      const finalizers = Array.isArray(obj.metadata.finalizers) ? obj.metadata.finalizers : [];
      if (finalizers.length > 0) {
        this.store.write(key, this.markedForDeletion(obj), obj);
      } else {
        this.store.remove(key, obj);
        const namespace = String(obj.metadata.namespace ?? '');
        if (namespace) this.finishNamespaceIfEmpty(namespace);
      }
    }
    this.finishCrdIfEmpty(group, plural);
  }

  private finishCrdIfEmpty(group: string, plural: string): void {
    const crdKey = resourceKey('apiextensions.k8s.io', 'customresourcedefinitions');
    const crd = this.store.get(crdKey, '', `${plural}.${group}`);
    if (!crd?.metadata.deletionTimestamp) return;
    if (this.store.list(resourceKey(group, plural)).length > 0) return;
    const finalizers = (Array.isArray(crd.metadata.finalizers) ? crd.metadata.finalizers : []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    if (finalizers.length > 0) {
      this.store.write(crdKey, { ...crd, metadata: { ...crd.metadata, finalizers } }, crd);
      return;
    }
    this.hooks.crdChanged(this.store.remove(crdKey, crd), true);
  }

  /** A terminating CRD accepts no new instances (405, as apiextensions-apiserver answers). */
  private refuseIfCrdTerminating(type: ResourceType): void {
    if (!type.custom) return;
    const crd = this.store.get(resourceKey('apiextensions.k8s.io', 'customresourcedefinitions'), '', `${type.plural}.${type.group}`);
    if (crd?.metadata.deletionTimestamp) {
      throw new StatusError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating', {});
    }
  }

  /** What the namespace controller does: delete the contents, then the namespace once empty. */
  private terminateNamespace(namespace: string): void {
    for (const key of this.namespacedKeys()) {
      for (const obj of this.store.list(key, namespace)) {
        if (obj.metadata.deletionTimestamp) continue;
        const finalizers = Array.isArray(obj.metadata.finalizers) ? obj.metadata.finalizers : [];
        if (finalizers.length > 0) {
          this.store.write(key, this.markedForDeletion(obj), obj);
        } else {
          this.store.remove(key, obj);
        }
      }
    }
    this.finishNamespaceIfEmpty(namespace);
  }

  private finishNamespaceIfEmpty(namespace: string): void {
    const nsKey = resourceKey('', 'namespaces');
    const ns = this.store.get(nsKey, '', namespace);
    if (!ns?.metadata.deletionTimestamp) return;
    for (const key of this.namespacedKeys()) if (this.store.list(key, namespace).length > 0) return;
    this.store.remove(nsKey, ns);
  }

  private namespacedKeys(): string[] {
    return this.hooks.namespacedResources();
  }
}

function withoutMetaAndStatus(obj: KubeObject, dropStatus: boolean): JsonObject {
  const { metadata: _m, ...rest } = obj;
  if (dropStatus) delete rest.status;
  return rest;
}
