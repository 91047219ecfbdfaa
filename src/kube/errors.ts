// Every failure of a Kubernetes call becomes one KubeError with an HTTP status and a reason, so
// callers branch on `status`/`reason` and never guess from an error's class or message. The
// shapes this folds together are those client-node 1.4 produces, each seen by running it:
// ApiException (code + raw-text body, body undefined on 401), watch errors (plain Error with
// .statusCode), and node-fetch network errors (string `code` such as ECONNREFUSED).
import { z } from 'zod';

export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    /** The HTTP status; 0 when no response arrived (network failure, abort, client-side bug). */
    readonly status: number,
    /** A Kubernetes StatusReason (`NotFound`, `Conflict`, `Invalid`...) or, with status 0,
     * `Unreachable`, `Aborted` or `ClientError`. */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The metav1.Status object a server answers failures with; every field optional because
 * proxies and half-implemented servers send less. */
const StatusBody = z.looseObject({
  kind: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

const REASON_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function reasonForStatus(status: number): string {
  return REASON_BY_STATUS[status] ?? 'Unknown';
}

/** Node/undici/node-fetch error codes that mean the request never got an HTTP answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT',
  'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function numberField(value: object, key: string): number | undefined {
  const v: unknown = Reflect.get(value, key);
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function stringField(value: object, key: string): string | undefined {
  const v: unknown = Reflect.get(value, key);
  return typeof v === 'string' ? v : undefined;
}

function parseStatusBody(body: unknown): z.infer<typeof StatusBody> | undefined {
  let candidate: unknown = body;
  if (typeof body === 'string') {
    try {
      candidate = JSON.parse(body);
    } catch {
      return body.trim() === '' ? undefined : { message: body.trim() };
    }
  } else if (Buffer.isBuffer(body)) {
    return parseStatusBody(body.toString('utf8'));
  }
  const parsed = StatusBody.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Turns any failure of a Kubernetes call into a KubeError. `context` (such as
 * `GET /api/v1/namespaces/shop/services/checkout`) prefixes the message so the log line says
 * which request failed. A KubeError passes through (with the context added when given).
 */
export function toKubeError(err: unknown, context?: string): KubeError {
  const prefix = context ? `${context}: ` : '';
  if (err instanceof KubeError) {
    if (!context || err.message.startsWith(prefix)) return err;
    return new KubeError(err.status, err.reason, `${prefix}${err.message}`, { cause: err.cause ?? err });
  }
  if (typeof err === 'object' && err !== null) {
    // ApiException from the generated clients: `.code` is the status, `.body` the raw text.
    const code = numberField(err, 'code');
    if (code !== undefined && code >= 100 && code < 600) {
      const status = parseStatusBody(Reflect.get(err, 'body'));
      const reason = status?.reason && status.reason !== '' ? status.reason : reasonForStatus(code);
      const message = status?.message ?? (code === 401 ? 'Unauthorized: the credentials were not accepted' : `HTTP ${code}`);
      return new KubeError(code, reason, `${prefix}${code} ${reason}: ${message}`, { cause: err });
    }
    // Watch failures: a plain Error whose message is the status text.
    const statusCode = numberField(err, 'statusCode');
    if (statusCode !== undefined) {
      const reason = reasonForStatus(statusCode);
      const text = err instanceof Error ? err.message : '';
      return new KubeError(statusCode, reason, `${prefix}${statusCode} ${reason}${text ? `: ${text}` : ''}`, { cause: err });
    }
    const name = stringField(err, 'name');
    if (name === 'AbortError') {
      return new KubeError(0, 'Aborted', `${prefix}request aborted`, { cause: err });
    }
    // node-fetch wraps socket errors in a FetchError whose `code` (and `errno`) carry the
    // system code; undici nests it in `cause`.
    const sysCode = stringField(err, 'code') ?? stringField(err, 'errno') ?? causeCode(err);
    if (sysCode !== undefined && (NETWORK_CODES.has(sysCode) || name === 'FetchError')) {
      const text = err instanceof Error ? err.message : sysCode;
      return new KubeError(0, 'Unreachable', `${prefix}API server unreachable (${sysCode}): ${text}`, { cause: err });
    }
  }
  const text = err instanceof Error ? err.message : String(err);
  return new KubeError(0, 'ClientError', `${prefix}${text}`, { cause: err });
}

function causeCode(err: object): string | undefined {
  const cause: unknown = Reflect.get(err, 'cause');
  return typeof cause === 'object' && cause !== null ? stringField(cause, 'code') : undefined;
}

export function isNotFound(err: unknown): boolean {
  return toKubeError(err).status === 404;
}

export function isConflict(err: unknown): boolean {
  return toKubeError(err).status === 409;
}

/** 410 Gone: a watch or list asked for a resourceVersion the server no longer has. */
export function isGone(err: unknown): boolean {
  return toKubeError(err).status === 410;
}
