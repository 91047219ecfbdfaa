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

/** A compressed body that does not decompress. body-parser passes zlib's (and brotli's) own error
 * on with status 400 and no `type`; Node marks those with a numeric errno and a string code
 * (Z_DATA_ERROR, Z_BUF_ERROR, ERR__ERROR_FORMAT_PADDING_2...). The code, not the message, is
 * what reliably survives: http-errors rebuilds an error it does not recognise as one, keeping its
 * enumerable fields only. */
const DecodeError = z.looseObject({ status: z.literal(400), errno: z.number(), code: z.string() });

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
};

export function errorHandler(log?: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
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
    const encoding = req.headers['content-encoding'];
    const decode = DecodeError.safeParse(err);
    if (decode.success && encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      res.status(400).json({ error: `request body is not valid ${encoding.toLowerCase()}: it does not decompress (${decode.data.code})` });
      return;
    }
    log?.error('request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    res.status(500).json({ error: 'internal error; the controller log has the details' });
  };
}
