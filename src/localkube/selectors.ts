// Label and field selectors as the apiserver parses them from `?labelSelector=` and
// `?fieldSelector=`. A selector that does not parse is a 400, as on a real server.
import { StatusError } from './errors';

type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] };

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;

function badSelector(raw: string, why: string): StatusError {
  return new StatusError(400, 'BadRequest', `unable to parse requirement: ${why} (selector "${raw}")`);
}

/** Splits on commas that are not inside an `in (...)` value list. */
function splitTopLevel(raw: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

export function parseLabelSelector(raw: string | null): LabelSelector {
  if (!raw) return () => true;
  const requirements: Requirement[] = [];
  for (const part of splitTopLevel(raw)) {
    let m: RegExpExecArray | null;
    if ((m = /^!\s*(\S+)$/.exec(part))) requirements.push({ key: m[1] as string, op: 'notexists' });
    else if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      const values = (m[3] as string).split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      requirements.push({ key: m[1] as string, op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      const op = m[2] === '!=' ? 'notin' : 'in';
      requirements.push({ key: m[1] as string, op, values: [m[3] as string] });
    } else if ((m = /^(\S+)$/.exec(part))) requirements.push({ key: m[1] as string, op: 'exists' });
    else throw badSelector(raw, `invalid requirement "${part}"`);
  }
  for (const r of requirements) {
    if (!KEY.test(r.key)) throw badSelector(raw, `invalid label key "${r.key}"`);
  }
  return (labels) => {
    const l = labels ?? {};
    return requirements.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      switch (r.op) {
        case 'exists':
          return has;
        case 'notexists':
          return !has;
        case 'in':
          return has && r.values.includes(l[r.key] as string);
        case 'notin':
          return !has || !r.values.includes(l[r.key] as string);
      }
    });
  };
}

export type FieldSelector = (obj: Record<string, unknown>) => boolean;

function readPath(obj: Record<string, unknown>, path: string): string {
  let current: unknown = obj;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return '';
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined || current === null) return '';
  return typeof current === 'string' ? current : String(current);
}

/**
 * Parses a field selector. `supported` lists the field labels the resource allows besides
 * metadata.name and metadata.namespace; anything else is refused like the real server does.
 */
export function parseFieldSelector(raw: string | null, kind: string, version: string, supported: readonly string[]): FieldSelector {
  if (!raw) return () => true;
  const terms = splitTopLevel(raw).map((part) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!m) throw new StatusError(400, 'BadRequest', `invalid selector: '${raw}'; can't understand '${part}'`);
    const field = (m[1] as string).trim();
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !supported.includes(field)) {
      throw new StatusError(400, 'BadRequest', `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    return { field, negate: m[2] === '!=', value: (m[3] as string).trim() };
  });
  void kind;
  void version;
  return (obj) => terms.every((t) => (readPath(obj, t.field) === t.value) !== t.negate);
}
