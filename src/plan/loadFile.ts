// From the text of a YAML file to a report on every MigrationPlan in it: the document each one
// is, the line it starts on, and its field errors with the line each points at. Pure: reading the
// file is the caller's business, so `trafficshift validate` and tests share this.
import * as yaml from 'js-yaml';
import { GROUP, KIND } from './schema';
import { type FieldError, parsePath, validatePlan } from './validate';

export class YamlSyntaxError extends Error {
  constructor(readonly reason: string, readonly line: number, readonly column: number, options?: { cause?: unknown }) {
    super(`YAML syntax error at line ${line}, column ${column}: ${reason}`, options);
    this.name = 'YamlSyntaxError';
  }
}

export interface YamlDocument {
  /** 1-based position of the document in its file. */
  index: number;
  /** 1-based line where the document's content starts. */
  line: number;
  value: unknown;
  /** 1-based line of the node at `path`, or of the nearest object or list above it. */
  lineOf(path: ReadonlyArray<string | number>): number;
}

/** Every document in a YAML stream; empty documents (a trailing `---`) are left out. Throws
 * YamlSyntaxError with the line and column. */
export function parseYamlDocuments(text: string): YamlDocument[] {
  // js-yaml reports positions only through its listener: each node opens at the line of its key
  // (or its `- `), so the line of every object and list is kept against the object itself.
  const lines = new WeakMap<object, number>();
  const openLines: number[] = [];
  let values: unknown[];
  try {
    values = yaml.loadAll(text, undefined, {
      listener(event, state) {
        if (event === 'open') {
          openLines.push(state.line);
          return;
        }
        const line = openLines.pop();
        const result: unknown = state.result;
        if (line !== undefined && result !== null && typeof result === 'object') lines.set(result, line + 1);
      },
    });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      throw new YamlSyntaxError(err.reason, (err.mark?.line ?? 0) + 1, (err.mark?.column ?? 0) + 1, { cause: err });
    }
    throw err;
  }
  const documents: YamlDocument[] = [];
  values.forEach((value, i) => {
    if (value === null || value === undefined) return;
    const line = typeof value === 'object' ? (lines.get(value) ?? 1) : 1;
    documents.push({
      index: i + 1,
      line,
      value,
      lineOf(path) {
        let found = line;
        let node: unknown = value;
        for (const part of path) {
          if (node === null || typeof node !== 'object') break;
          node = (node as Record<string | number, unknown>)[part];
          if (node !== null && typeof node === 'object') found = lines.get(node) ?? found;
        }
        return found;
      },
    });
  });
  return documents;
}

export interface LocatedError extends FieldError {
  /** 1-based line of the field, or of the nearest object or list around it. */
  line: number;
}

interface DocumentBase {
  /** 1-based position of the document in its file. */
  document: number;
  line: number;
  kind: string | null;
  name: string | null;
}

export type DocumentReport =
  | (DocumentBase & { status: 'valid' })
  | (DocumentBase & { status: 'invalid'; errors: LocatedError[] })
  | (DocumentBase & { status: 'skipped'; reason: string });

export interface FileReport {
  file: string;
  documents: DocumentReport[];
  /** Set when the file could not be read or parsed; `documents` is then empty. */
  failure?: { message: string; line?: number; column?: number };
}

function field(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  return (value as Record<string, unknown>)[key];
}

function stringField(value: unknown, key: string): string | null {
  const found = field(value, key);
  return typeof found === 'string' ? found : null;
}

function checkDocument(doc: YamlDocument): DocumentReport {
  const kind = stringField(doc.value, 'kind');
  const apiVersion = stringField(doc.value, 'apiVersion');
  const name = stringField(field(doc.value, 'metadata'), 'name');
  const base: DocumentBase = { document: doc.index, line: doc.line, kind, name };
  const invalid = (errors: FieldError[]): DocumentReport => ({
    ...base,
    status: 'invalid',
    errors: errors.map((e) => ({ ...e, line: doc.lineOf(parsePath(e.path)) })),
  });
  if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    return invalid([{ path: '(root)', message: `must be a Kubernetes object, not ${Array.isArray(doc.value) ? 'a list' : `the value ${JSON.stringify(doc.value)}`}` }]);
  }
  // A missing kind is a plan with its header lost far more often than some other object.
  if (kind === null) return invalid([{ path: 'kind', message: `is required (a plan starts with apiVersion: ${GROUP}/… and kind: ${KIND})` }]);
  if (kind !== KIND) {
    // trafficshift.io has one kind, so another one under it is a typo, not some other object.
    if (apiVersion?.split('/')[0] === GROUP) return invalid([{ path: 'kind', message: `must be "${KIND}", the only kind in ${GROUP}` }]);
    return { ...base, status: 'skipped', reason: `kind ${kind} is not a ${KIND}` };
  }
  const result = validatePlan(doc.value);
  return result.ok ? { ...base, status: 'valid' } : invalid(result.errors);
}

/** Checks every document of one file's text. */
export function checkPlanText(file: string, text: string): FileReport {
  let documents: YamlDocument[];
  try {
    documents = parseYamlDocuments(text);
  } catch (err) {
    if (err instanceof YamlSyntaxError) {
      return { file, documents: [], failure: { message: `YAML syntax error: ${err.reason}`, line: err.line, column: err.column } };
    }
    throw err;
  }
  return { file, documents: documents.map(checkDocument) };
}

/** Whether a report holds no failure and no invalid document. */
export function isClean(report: FileReport): boolean {
  return report.failure === undefined && report.documents.every((d) => d.status !== 'invalid');
}
