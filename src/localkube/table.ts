// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Custom resources use their CRD's
// additionalPrinterColumns (Name first; Name and Age when none are declared), exactly as
// apiextensions-apiserver's table convertor does.
import type { KubeObject } from './store';
import type { ResourceType, PrinterColumn } from './resources';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

interface Column {
  definition: ColumnDefinition;
  cell: (obj: KubeObject, now: number) => unknown;
}

const NAME_COLUMN: Column = {
  definition: {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
    priority: 0,
  },
  cell: (obj) => obj.metadata.name,
};

const AGE_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const DEFAULT_CRD_COLUMNS: PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: AGE_DESCRIPTION }];

/** apimachinery's duration.HumanDuration: the text of an Age cell. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/**
 * Evaluates the simple JSONPaths printer columns use: `.a.b`, `.a[0].b`, and
 * `.a[?(@.k=="v")].b`. Returns the first match, or undefined.
 */
export function evaluateJsonPath(obj: unknown, path: string): unknown {
  const expr = path.trim().replace(/^\{(.*)\}$/, '$1');
  const tokens = expr.match(/\.[^.[\]]+|\[\?\(@\.[^)]*\)\]|\[\d+\]|\[\*\]/g) ?? [];
  let current: unknown[] = [obj];
  for (const token of tokens) {
    const next: unknown[] = [];
    for (const value of current) {
      if (token.startsWith('.')) {
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          const v = (value as Record<string, unknown>)[token.slice(1)];
          if (v !== undefined) next.push(v);
        }
      } else if (token === '[*]') {
        if (Array.isArray(value)) next.push(...value);
      } else if (token.startsWith('[?')) {
        const m = /^\[\?\(@\.([\w.-]+)\s*==\s*["']?([^"']*)["']?\)\]$/.exec(token);
        if (m && Array.isArray(value)) {
          for (const item of value) if (String(evaluateJsonPath(item, `.${m[1]}`)) === m[2]) next.push(item);
        }
      } else if (Array.isArray(value)) {
        const v = value[Number(token.slice(1, -1))];
        if (v !== undefined) next.push(v);
      }
    }
    current = next;
  }
  return current[0];
}

function cellForJsonValue(type: string, value: unknown, now: number): unknown {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? null : humanDuration(now - t);
    }
    default:
      return null;
  }
}

function customColumn(c: PrinterColumn): Column {
  return {
    definition: {
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    },
    cell: (obj, now) => {
      const value = evaluateJsonPath(obj, c.jsonPath);
      if (value === undefined || value === null) return null;
      if (c.type === 'string') return typeof value === 'string' ? value : JSON.stringify(value);
      return cellForJsonValue(c.type, value, now);
    },
  };
}

function columnsFor(type: ResourceType, version: string): Column[] {
  if (type.custom) {
    const declared = type.custom.columns.get(version) ?? [];
    return [NAME_COLUMN, ...(declared.length ? declared : DEFAULT_CRD_COLUMNS).map(customColumn)];
  }
  const builtins = (type.columns ?? []).map((c): Column => ({
    definition: { name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 },
    // Built-in date columns (a CRD's "Created At") print the timestamp itself, as the real printers do.
    cell: (obj) => c.cell(obj) ?? null,
  }));
  if (type.columnsComplete) return builtins;
  const hasDate = builtins.some((c) => c.definition.type === 'date');
  const age = customColumn({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: AGE_DESCRIPTION });
  return [NAME_COLUMN, ...builtins, ...(hasDate ? [] : [age])];
}

function rowObject(obj: KubeObject, include: IncludeObject): Record<string, unknown> | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  type: ResourceType,
  version: string,
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject,
  now: number,
): Record<string, unknown> {
  const columns = columnsFor(type, version);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => c.definition),
    rows: objects.map((obj) => {
      const row: Record<string, unknown> = { cells: columns.map((c) => c.cell(obj, now)) };
      const object = rowObject(obj, include);
      if (object) row.object = object;
      return row;
    }),
  };
}
