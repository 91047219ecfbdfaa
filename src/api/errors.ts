// How the REST API answers failures: always JSON `{"error": "..."}` with a status that says whose
// fault it was. Routes throw HttpError (or let body parsing fail); one handler writes the answer.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from 'winston';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** Extra JSON fields for the body, e.g. the field path of a bad request. */
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
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

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
};

export function errorHandler(log?: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HttpError) {
      res.status(err.status).json({ ...err.details, error: err.message });
      return;
    }
    const body = BodyParserError.safeParse(err);
    if (body.success) {
      const what = BODY_MESSAGES[body.data.type] ?? 'bad request body';
      res.status(body.data.status).json({ error: `${what}: ${body.data.message}` });
      return;
    }
    log?.error('request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    res.status(500).json({ error: 'internal error; the controller log has the details' });
  };
}
