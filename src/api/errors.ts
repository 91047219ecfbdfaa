// How the REST API answers failures: one JSON shape, `{"error": "...", "reason": "...", "field"?: "..."}`,
// for every failure under /api/v1 and for the 404 of an unknown route. `error` is for people,
// `reason` (CamelCase, the Kubernetes StatusReason where one fits) for programs, and `field` names
// the part of a bad request (a body field path, a query parameter, a path parameter). Routes
// throw HttpError (or let body parsing fail); one handler writes the answer, and a stack trace
// never reaches a caller.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from 'winston';
import { KubeError } from '../kube';
import { PlanNotFound } from '../steering/requests';

/** The reason each status answers with unless a route names a more precise one. */
export const REASON_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonFor(status: number): string {
  return REASON_BY_STATUS[status] ?? (status >= 500 ? 'InternalError' : 'BadRequest');
}

/** The body of every failure. Some answers carry more (a 504 names the targets still carrying
 * traffic); these three fields are always there (field only for a bad request). */
export const ErrorBody = z
  .object({
    error: z.string().meta({ description: 'What went wrong, for people.' }),
    reason: z.string().meta({ description: 'CamelCase machine reason: BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotPromotable, Timeout...' }),
    field: z.string().optional().meta({ description: 'For a 400: the field path of the bad part of the request (a body path such as `reason`, or a parameter name).' }),
  })
  .meta({ description: 'Every failure under /api/v1 answers with this shape.' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly reason: string;
  constructor(
    readonly status: number,
    message: string,
    /** `reason` overrides the status's reason, `field` names the bad part; anything else is
     * added to the body as it is (a 504's `targets`). */
    readonly details: Readonly<{ reason?: string; field?: string } & Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = details.reason ?? reasonFor(status);
  }

  body(): ErrorBody & Record<string, unknown> {
    const { reason: _reason, field, ...extra } = this.details;
    return { error: this.message, reason: this.reason, ...(field !== undefined ? { field } : {}), ...extra };
  }
}

/** What body-parser's errors carry (express.json): an HTTP status and a type naming the failure. */
const BodyParserError = z.looseObject({ type: z.string(), status: z.number().int().min(400).max(499), message: z.string() });

const BODY_MESSAGES: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'request body is not valid JSON',
  'entity.too.large': 'request body is too large',
  'encoding.unsupported': 'request body has an unsupported content encoding',
  'charset.unsupported': 'request body has an unsupported charset',
  'request.aborted': 'the request was aborted while its body was read',
  'entity.verify.failed': 'request body failed verification',
};

/** A compressed body that does not decompress. body-parser passes zlib's (and brotli's) own error
 * on with status 400 and no `type`; Node marks those with a numeric errno and a string code
 * (Z_DATA_ERROR, Z_BUF_ERROR, ERR__ERROR_FORMAT_PADDING_2...). The code, not the message, is
 * what reliably survives: http-errors rebuilds an error it does not recognise as one, keeping its
 * enumerable fields only. */
const DecodeError = z.looseObject({ status: z.literal(400), errno: z.number(), code: z.string() });

/** Any other client error express or its router raises: a 4xx whose message is meant to be
 * shown (http-errors' `expose`), or one that is not (the router's "Failed to decode param", a
 * path that does not URL-decode), answered with the status alone. */
const ClientError = z.looseObject({ status: z.number().int().min(400).max(499), expose: z.boolean().optional(), message: z.string() });

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json(new HttpError(404, `no route for ${req.method} ${req.path}`).body());
};

/**
 * The HttpError a failure answers with. Known failures keep their meaning (a plan that is gone is
 * a 404, a conflicting write a 409, an API server that does not answer a 503); anything else is a
 * 500 that says nothing but that the log has the details.
 */
export function toHttpError(err: unknown, req: { headers: Record<string, string | string[] | undefined> }): { error: HttpError; log: boolean } {
  if (err instanceof HttpError) return { error: err, log: err.status >= 500 };
  if (err instanceof PlanNotFound) return { error: new HttpError(404, err.message), log: false };
  const body = BodyParserError.safeParse(err);
  if (body.success) {
    const what = BODY_MESSAGES[body.data.type] ?? 'bad request body';
    return { error: new HttpError(body.data.status, `${what}: ${body.data.message}`), log: false };
  }
  const encodingHeader = req.headers['content-encoding'];
  const encoding = typeof encodingHeader === 'string' ? encodingHeader.toLowerCase() : undefined;
  const decode = DecodeError.safeParse(err);
  if (decode.success && encoding !== undefined && encoding !== 'identity') {
    return { error: new HttpError(400, `request body is not valid ${encoding}: it does not decompress (${decode.data.code})`), log: false };
  }
  if (err instanceof KubeError) {
    if (err.status === 409) return { error: new HttpError(409, `the plan changed while it was being written; try again: ${err.message}`), log: false };
    if (err.status === 0 || err.status === 429 || err.status >= 500) {
      return { error: new HttpError(503, 'the Kubernetes API server did not answer; try again', { reason: 'ServiceUnavailable' }), log: true };
    }
    return { error: new HttpError(500, 'internal error; the controller log has the details'), log: true };
  }
  const client = ClientError.safeParse(err);
  if (client.success) {
    const { status, expose, message } = client.data;
    return { error: new HttpError(status, expose === true ? message : `the request is malformed (${reasonFor(status)})`), log: false };
  }
  return { error: new HttpError(500, 'internal error; the controller log has the details'), log: true };
}

export function errorHandler(log?: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const { error, log: worthLogging } = toHttpError(err, req);
    if (worthLogging) {
      log?.error('request failed', { method: req.method, path: req.path, status: error.status, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
    if (error.status === 401) res.set('WWW-Authenticate', 'Bearer');
    res.status(error.status).json(error.body());
  };
}
