// Kubernetes Status bodies. Every failure the server answers goes through StatusError, so the
// shape (kind, apiVersion, status, message, reason, details, code) is the same as a real
// kube-apiserver's and clients that parse it (client-node, kubectl) read the right fields.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): StatusBody {
    // Field order as the real server serializes it: details before code.
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: withoutEmptyStrings(this.details) } : {}),
      code: this.code,
    };
  }
}

/** Go's `omitempty`: a core resource's Status has no `group` key at all, not `"group": ""`. */
function withoutEmptyStrings(details: StatusDetails): StatusDetails {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== '')) as StatusDetails;
}

/** Identifies a resource the way apimachinery's GroupResource prints: `plural.group`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export const errors = {
  badRequest: (message: string) => new StatusError(400, 'BadRequest', message),
  unauthorized: () => new StatusError(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (gr: GroupResource, name: string | undefined, message: string) =>
    new StatusError(
      403,
      'Forbidden',
      `${qualified(gr)}${name ? ` "${name}"` : ''} is forbidden: ${message}`,
      { ...(name ? { name } : {}), group: gr.group, kind: gr.resource },
    ),
  notFound: (gr: GroupResource, name: string) =>
    new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
      name,
      group: gr.group,
      kind: gr.resource,
    }),
  pathNotFound: () => new StatusError(404, 'NotFound', 'the server could not find the requested resource', {}),
  methodNotAllowed: () =>
    new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
  notAcceptable: (accepted: string[]) =>
    new StatusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`),
  alreadyExists: (gr: GroupResource, name: string) =>
    new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
      name,
      group: gr.group,
      kind: gr.resource,
    }),
  conflict: (gr: GroupResource, name: string, why: string) =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    }),
  staleResourceVersion: (gr: GroupResource, name: string) =>
    errors.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    ),
  expired: (message: string) => new StatusError(410, 'Expired', message),
  gone: (message: string) => new StatusError(410, 'Gone', message),
  unsupportedMediaType: (accepted: string[]) =>
    new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
  invalid: (kind: string, group: string, name: string, causes: FieldError[]) => {
    const rendered = causes.map(renderFieldError);
    const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
      name,
      group,
      kind,
      causes: causes.map((c) => ({ reason: c.reason, message: renderFieldErrorBody(c), field: c.field })),
    });
  },
  internal: (message: string) =>
    new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
      causes: [{ message }],
    }),
};

/** One field error, as apimachinery's field.Error: reason + field path + bad value + detail. */
export interface FieldError {
  reason:
    | 'FieldValueInvalid'
    | 'FieldValueTypeInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueForbidden'
    | 'FieldValueDuplicate';
  field: string;
  value?: unknown;
  detail?: string;
}

const REASON_TEXT: Record<FieldError['reason'], string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
};

/** A value printed as Go's %#v prints it (a slice or struct in a field error), given verbatim. */
export class GoLiteral {
  constructor(readonly text: string) {}
}

/** Go's `[]string{"a", "b"}`. */
export function goStringSlice(values: string[]): GoLiteral {
  return new GoLiteral(`[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`);
}

/** Go's field.Error prints strings quoted, numbers bare, nil as null. */
export function renderValue(value: unknown): string {
  if (value instanceof GoLiteral) return value.text;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function renderFieldErrorBody(e: FieldError): string {
  const head = REASON_TEXT[e.reason];
  const withValue =
    e.reason === 'FieldValueInvalid' || e.reason === 'FieldValueTypeInvalid' || e.reason === 'FieldValueNotSupported' || e.reason === 'FieldValueDuplicate' || e.reason === 'FieldValueTooMany'
      ? `${head}: ${renderValue(e.value)}`
      : head;
  return e.detail ? `${withValue}: ${e.detail}` : withValue;
}

export function renderFieldError(e: FieldError): string {
  return `${e.field}: ${renderFieldErrorBody(e)}`;
}
