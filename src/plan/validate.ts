// Field errors that read well to the person who wrote the plan: `spec.steps[1].weight: must be
// at least 1`, `spec.stpes: unknown field (did you mean "steps"?)`, `spec.strategy: must be one
// of Canary, BlueGreen (got "canary")`. zod's own wording ("Invalid input: expected string,
// received undefined") is replaced through a per-parse error map; messages the schema sets
// itself win over this map, so schema.ts keeps the last word on its own rules.
import { z } from 'zod';
import * as schema from './schema';

export interface FieldError {
  /** Dotted path from the object's root, e.g. `spec.steps[2].weight`. */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** A path segment longer than this is cut: a plan can carry a key of any size (a 1 MB one has
 * been seen), and an error must stay a line a person reads. No field or label key comes near it. */
const MAX_PATH_SEGMENT = 100;
/** How much of a string value a message quotes. */
const MAX_VALUE_EXCERPT = 40;

/** `text` cut to `max` UTF-16 units with an ellipsis, never splitting a surrogate pair. */
function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/** `['spec', 'steps', 2, 'weight']` -> `spec.steps[2].weight`. A key that would not read back
 * unambiguously (a label such as `app.kubernetes.io/name`) is written `["app.kubernetes.io/name"]`.
 * A key over MAX_PATH_SEGMENT characters is cut with an ellipsis (and so quoted): parsePath reads
 * it back as the cut key, which points a reader at the enclosing object. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string') {
      const key = excerpt(part, MAX_PATH_SEGMENT);
      if (!PLAIN_KEY.test(key)) out += `[${JSON.stringify(key)}]`;
      else out += out === '' ? key : `.${key}`;
    } else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** The inverse of formatPath: `spec.steps[2].weight` -> `['spec', 'steps', 2, 'weight']`. */
export function parsePath(path: string): Array<string | number> {
  const parts: Array<string | number> = [];
  const token = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let match: RegExpExecArray | null;
  while (token.lastIndex < path.length && (match = token.exec(path)) !== null) {
    if (match[1] !== undefined) parts.push(match[1]);
    else if (match[2] !== undefined) parts.push(Number(match[2]));
    else if (match[3] !== undefined) parts.push(JSON.parse(match[3]) as string);
  }
  return parts;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': return `the string ${JSON.stringify(excerpt(value, MAX_VALUE_EXCERPT))}`;
    case 'number': return `the number ${value}`;
    case 'boolean': return String(value);
    case 'object': return 'an object';
    default: return typeof value;
  }
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

function listValues(values: ReadonlyArray<unknown>): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/** No known field is this long, so a longer unknown key gets no "did you mean"; this also bounds
 * the edit distance work, which grows with the key's length. */
const MAX_HINTED_KEY = 64;

/** Edit distance counting a swap of two neighbours as one edit (`stpes` -> `steps`), for
 * "did you mean" on a misspelt field. Keeps three rows of the usual matrix, not all of it: the
 * swap rule looks two rows back. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let twoBack: number[] = [];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  const at = (row: readonly number[], j: number): number => row[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(at(previous, j) + 1, at(row, j - 1) + 1, at(previous, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, at(twoBack, j - 2) + 1);
      row.push(best);
    }
    twoBack = previous;
    previous = row;
  }
  return at(previous, y.length);
}

function closestKey(unknown: string, known: ReadonlyArray<string>): string | undefined {
  if (unknown.length > MAX_HINTED_KEY) return undefined;
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(unknown, key);
    if (!best || distance < best.distance) best = { key, distance };
  }
  // Up to a third of the word may be wrong: `stpes` -> `steps`, but not `foo` -> `max`.
  return best && best.distance <= Math.max(1, Math.floor(unknown.length / 3)) ? best.key : undefined;
}

function sizeMessage(origin: string, bound: number | bigint, inclusive: boolean | undefined, side: 'min' | 'max'): string {
  const n = Number(bound);
  if (origin === 'string') {
    if (side === 'min' && n === 1) return 'must not be empty';
    return side === 'min' ? `must be at least ${n} characters long` : `must be at most ${n} characters long`;
  }
  if (origin === 'array' || origin === 'set') {
    const items = `${n} item${n === 1 ? '' : 's'}`;
    return side === 'min' ? `must have at least ${items}` : `must have at most ${items}`;
  }
  if (side === 'min') return inclusive === false ? `must be greater than ${n}` : `must be at least ${n}`;
  return inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
}

// `pause` is the one union in the schema; a wrong type there gets words a person would use.
const PAUSE_TYPE_MESSAGE = 'must be a duration such as 30s or 5m, or {} to wait for a promotion';

interface Messages {
  errorMap: z.core.$ZodErrorMap;
  /** Suggestions for unknown keys, keyed by `<path of the object>\0<key>`. */
  suggestions: Map<string, string>;
}

function keyOf(path: ReadonlyArray<PropertyKey>, key: string): string {
  return `${formatPath(path)}\u0000${key}`;
}

function messages(): Messages {
  const suggestions = new Map<string, string>();
  const errorMap: z.core.$ZodErrorMap = (issue) => {
    switch (issue.code) {
      case 'invalid_type':
        if (issue.input === undefined) return 'is required';
        return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
      case 'invalid_value':
        if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])}, not ${describeValue(issue.input)}`;
        return `must be one of ${listValues(issue.values)} (got ${typeof issue.input === 'string' ? JSON.stringify(excerpt(issue.input, MAX_VALUE_EXCERPT)) : describeValue(issue.input)})`;
      case 'too_small':
        return sizeMessage(issue.origin, issue.minimum, issue.inclusive, 'min');
      case 'too_big':
        return sizeMessage(issue.origin, issue.maximum, issue.inclusive, 'max');
      case 'invalid_format':
        if (issue.format === 'datetime') return 'must be an RFC 3339 time such as 2026-01-02T15:04:05Z';
        if (issue.format === 'url') return 'must be a URL';
        if (issue.format === 'regex' && 'pattern' in issue) return `must match ${String(issue.pattern)}`;
        return `must be a valid ${issue.format}`;
      case 'not_multiple_of':
        return `must be a multiple of ${Number(issue.divisor)}`;
      case 'unrecognized_keys': {
        const def = issue.inst?._zod.def as { type?: string; shape?: Record<string, unknown> } | undefined;
        const known = def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
        for (const key of issue.keys) {
          const suggestion = closestKey(key, known);
          // A root-level issue has no path yet when the map sees it.
          if (suggestion !== undefined) suggestions.set(keyOf(issue.path ?? [], key), suggestion);
        }
        return undefined; // rewritten per key in toFieldErrors
      }
      case 'invalid_union': {
        if (issue.inst === schema.Pause) return PAUSE_TYPE_MESSAGE;
        const expected = issue.errors.flatMap((branch) => branch.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [i.expected] : [])));
        if (expected.length === 0) return 'does not match any of the accepted forms';
        return `must be ${[...new Set(expected)].map((e) => EXPECTED[e] ?? e).join(' or ')}, not ${describeValue(issue.input)}`;
      }
      case 'invalid_key':
        return 'has an invalid key';
      case 'invalid_element':
        return 'has an invalid element';
      default:
        return undefined;
    }
  };
  return { errorMap, suggestions };
}

/** A union whose input matched one branch's type reports that branch's own problems
 * (`pause: {x: 1}` -> `pause.x: unknown field`); otherwise the union's one message stands. */
function unionIssues(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] {
  const typeMismatch = (branch: ReadonlyArray<z.core.$ZodIssue>): boolean =>
    branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0;
  const candidates = issue.errors.filter((branch) => !typeMismatch(branch));
  const [only] = candidates;
  if (candidates.length === 1 && only) return only.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
  return [issue];
}

function toFieldErrors(error: z.ZodError, prefix: ReadonlyArray<PropertyKey>, suggestions: Map<string, string>): FieldError[] {
  const errors: FieldError[] = [];
  const issues = error.issues.flatMap((issue) =>
    issue.code === 'invalid_union' ? unionIssues(issue) : [issue],
  );
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = suggestions.get(keyOf(issue.path, key));
        errors.push({
          path: formatPath([...prefix, ...issue.path, key]),
          message: suggestion === undefined ? 'unknown field' : `unknown field (did you mean "${suggestion}"?)`,
        });
      }
      continue;
    }
    errors.push({ path: formatPath([...prefix, ...issue.path]) || '(root)', message: issue.message });
  }
  return dedupe(errors);
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function run<S extends z.ZodType>(target: S, input: unknown, prefix: ReadonlyArray<PropertyKey>): Validated<z.infer<S>> {
  const { errorMap, suggestions } = messages();
  const result = target.safeParse(input, { error: errorMap });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: toFieldErrors(result.error, prefix, suggestions) };
}

/** Parses a whole MigrationPlan object (apiVersion, kind, metadata, spec, status). */
export function validatePlan(input: unknown): Validated<schema.MigrationPlan> {
  return run(schema.MigrationPlan, input, []);
}

/** Parses only a spec, reporting paths from `spec.`. */
export function validateSpec(input: unknown): Validated<schema.MigrationPlanSpec> {
  return run(schema.MigrationPlanSpec, input, ['spec']);
}

/** What the controller reads of a plan's spec before it decides anything. */
export interface SpecReading {
  /** The spec, when it is valid. */
  spec?: schema.MigrationPlanSpec;
  /** The routes to put back on stable. From a valid spec, or, when the spec broke elsewhere
   * (the steps, say), from `targets` alone if they still parse, so a rollback or a deletion can
   * still restore stable; otherwise none. */
  targets: schema.Target[];
  /** The first field error of an invalid spec. */
  error?: FieldError;
}

const BrokenSpecTargets = z.array(schema.Target).min(1);

/** The controller's spec check. Never throws, whatever the object holds. */
export function readSpec(raw: unknown): SpecReading {
  const parsed = validateSpec(raw);
  if (parsed.ok) return { spec: parsed.value, targets: parsed.value.targets };
  const error = parsed.errors[0] ?? { path: 'spec', message: 'is invalid' };
  const rawTargets = typeof raw === 'object' && raw !== null ? (raw as { targets?: unknown }).targets : undefined;
  const targets = BrokenSpecTargets.safeParse(rawTargets);
  return { targets: targets.success ? targets.data : [], error };
}
