// The three patch formats a kube-apiserver accepts. JSON merge patch (RFC 7386) replaces lists
// whole; JSON patch (RFC 6902) addresses list items by index; strategic merge patch (built-in
// kinds only) merges the few lists that carry a merge key in the Kubernetes types.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** A JSON patch that could not be applied: the server answers 422 with this text as the cause. */
export class JsonPatchApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchApplyError';
  }
}

/** A JSON patch document that is not one: the server answers 400. */
export class JsonPatchDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchDecodeError';
  }
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchApplyError(`invalid path: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (token === '-' && allowEnd) return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchApplyError(`Unable to access invalid index: ${token}: ${path}`);
  const i = Number(token);
  if (i > length || (!allowEnd && i >= length)) throw new JsonPatchApplyError(`Unable to access invalid index: ${i}: ${path}`);
  return i;
}

interface Location {
  parent: Json;
  key: string;
}

function locate(doc: Json, tokens: string[], path: string, op: string): Location {
  let current: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false, path)] ?? null;
    else if (isJsonObject(current) && token in current) current = current[token] ?? null;
    else throw new JsonPatchApplyError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return { parent: current, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: Json, path: string, op: string): Json {
  const tokens = decodePointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens, path, op);
  if (Array.isArray(parent)) return parent[arrayIndex(key, parent.length, false, path)] as Json;
  if (isJsonObject(parent) && key in parent) return parent[key] as Json;
  throw new JsonPatchApplyError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
}

function addAt(doc: Json, path: string, value: Json, op: string): Json {
  const tokens = decodePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, path, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, path), 0, value);
  else if (isJsonObject(parent)) parent[key] = value;
  else throw new JsonPatchApplyError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return doc;
}

function removeAt(doc: Json, path: string, op: string): Json {
  const tokens = decodePointer(path);
  const { parent, key } = locate(doc, tokens, path, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, false, path), 1);
  else if (isJsonObject(parent) && key in parent) delete parent[key];
  else throw new JsonPatchApplyError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return doc;
}

function replaceAt(doc: Json, path: string, value: Json): Json {
  const tokens = decodePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, path, 'replace');
  if (Array.isArray(parent)) parent[arrayIndex(key, parent.length, false, path)] = value;
  else if (isJsonObject(parent) && key in parent) parent[key] = value;
  else throw new JsonPatchApplyError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
  return doc;
}

export function decodeJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body)) throw new JsonPatchDecodeError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return body.map((raw) => {
    if (!isJsonObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new JsonPatchDecodeError('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    }
    const op: Operation = { op: raw.op, path: raw.path };
    if (typeof raw.from === 'string') op.from = raw.from;
    if ('value' in raw) op.value = raw.value as Json;
    return op;
  });
}

/** Applies an RFC 6902 patch to a copy of `doc`; wording follows evanphx/json-patch. */
export function applyJsonPatch(doc: Json, operations: Operation[]): Json {
  let result = structuredClone(doc);
  for (const operation of operations) {
    const { op, path } = operation;
    switch (op) {
      case 'add':
        if (!('value' in operation)) throw new JsonPatchApplyError('add operation, missing value field');
        result = addAt(result, path, structuredClone(operation.value as Json), 'add');
        break;
      case 'remove':
        result = removeAt(result, path, 'remove');
        break;
      case 'replace':
        if (!('value' in operation)) throw new JsonPatchApplyError('replace operation, missing value field');
        result = replaceAt(result, path, structuredClone(operation.value as Json));
        break;
      case 'move': {
        if (operation.from === undefined) throw new JsonPatchApplyError('move operation, missing from field');
        const value = getAt(result, operation.from, 'move');
        result = removeAt(result, operation.from, 'move');
        result = addAt(result, path, value, 'move');
        break;
      }
      case 'copy': {
        if (operation.from === undefined) throw new JsonPatchApplyError('copy operation, missing from field');
        const value = structuredClone(getAt(result, operation.from, 'copy'));
        result = addAt(result, path, value, 'copy');
        break;
      }
      case 'test': {
        let actual: Json | undefined;
        try {
          actual = getAt(result, path, 'test');
        } catch {
          actual = undefined;
        }
        const expected = operation.value === undefined ? null : operation.value;
        if (!deepEqual(actual === undefined ? null : actual, expected) || (actual === undefined && operation.value !== null)) {
          throw new JsonPatchApplyError(`testing value ${path} failed: test failed`);
        }
        break;
      }
      default:
        throw new JsonPatchApplyError(`Unexpected kind: ${op}`);
    }
  }
  return result;
}

/**
 * Merge keys of the list fields that strategic merge patch merges in the built-in kinds we
 * serve, by JSON path with list indices removed. Every other list is replaced whole.
 */
const MERGE_KEYS: Record<string, string> = {
  'spec.ports': 'port',
  'status.conditions': 'type',
  'metadata.ownerReferences': 'uid',
  'status.loadBalancer.ingress': 'ip',
};
// ObjectMeta.finalizers carries patchStrategy "merge" (a set of strings); NamespaceSpec.finalizers does not.
const SET_LISTS = new Set(['metadata.finalizers']);

export function strategicMergePatch(target: Json, patch: Json, path = ''): Json {
  if (!isJsonObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return null;
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const listKey = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[listKey];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[listKey] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    const fieldPath = path ? `${path}.${key}` : key;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value) && MERGE_KEYS[fieldPath]) {
      result[key] = mergeListByKey(result[key], value, MERGE_KEYS[fieldPath] as string, fieldPath);
    } else if (Array.isArray(value) && SET_LISTS.has(fieldPath)) {
      const current = Array.isArray(result[key]) ? (result[key] as Json[]) : [];
      result[key] = [...current, ...value.filter((v) => !current.some((c) => deepEqual(c, v)))];
    } else if (isJsonObject(value)) {
      result[key] = strategicMergePatch(result[key] ?? null, value, fieldPath);
    } else {
      result[key] = structuredClone(value);
    }
  }
  return result;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

function mergeListByKey(current: Json | undefined, patch: Json[], mergeKey: string, path: string): Json[] {
  const result: Json[] = Array.isArray(current) ? [...current] : [];
  for (const item of patch) {
    if (!isJsonObject(item) || !(mergeKey in item)) {
      result.push(structuredClone(item));
      continue;
    }
    const index = result.findIndex((r) => isJsonObject(r) && deepEqual(r[mergeKey], item[mergeKey]));
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index] ?? null, item, path);
    } else {
      result.push(stripDirectives(item));
    }
  }
  return result;
}

export { deepEqual };
