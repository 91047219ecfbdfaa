import type { z } from 'zod';
import * as schema from './schema';

export interface FieldError {
  /** Dotted path from the object's root, e.g. `spec.steps[2].weight`. */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function toFieldErrors(error: z.ZodError, prefix: ReadonlyArray<PropertyKey>): FieldError[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return { path: formatPath([...prefix, ...issue.path]) || '(root)', message };
  });
}

function run<S extends z.ZodType>(schema: S, input: unknown, prefix: ReadonlyArray<PropertyKey>): Validated<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: toFieldErrors(result.error, prefix) };
}

/** Parses a whole MigrationPlan object (apiVersion, kind, metadata, spec, status). */
export function validatePlan(input: unknown): Validated<schema.MigrationPlan> {
  return run(schema.MigrationPlan, input, []);
}

/** Parses only a spec, reporting paths from `spec.`. */
export function validateSpec(input: unknown): Validated<schema.MigrationPlanSpec> {
  return run(schema.MigrationPlanSpec, input, ['spec']);
}

