// A REST route as data: its method and path, the zod schemas of its parameters, query and body,
// the access it needs, and its answers. The router mounts each from here, parsing with those
// schemas; /api/v1/openapi.json is generated from the same declarations. A route cannot be
// served without being described, nor validated with anything but what the document says.
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { formatPath } from '../plan/validate';
import type { AppDeps, RouteFactory } from './app';
import { authorize, noAuth, type Access, type ApiAuth } from './auth';
import { HttpError } from './errors';

export interface ResponseSpec {
  description: string;
  /** The JSON body; absent for an answer without one (or one that is not JSON). */
  schema?: z.ZodType;
  /** An answer that is not JSON (the event stream): its media type. */
  mediaType?: string;
}

/** What the OpenAPI document says of a route (the path is express's, relative to /api/v1). */
export interface RouteSpec {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** The JSON body it takes; absent: none (an empty body or `{}`). */
  body?: z.ZodType;
  /** The SubjectAccessReview verb it is authorized with; absent when the route authorizes per
   * item (the alert webhook) or not at all. */
  verb?: Access['verb'];
  /** Served without a token. */
  public?: boolean;
  /** The answers particular to this route; the error answers every route shares (400, 401,
   * 403, 413, 415, 500, 503) are added by the document generator from the fields above. */
  responses: Record<number, ResponseSpec>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Input<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: Request;
  res: Response;
}

export interface Reply {
  status: number;
  body: unknown;
}

export interface OperationDef<P extends z.ZodObject | undefined, Q extends z.ZodObject | undefined, B extends z.ZodType | undefined> {
  spec: RouteSpec & { params?: P; query?: Q; body?: B };
  /** What the caller must be allowed, from the parsed path and query; asked before `handle`
   * looks anything up, so a 403 says nothing about whether the plan exists. */
  access?: (input: { params: Out<P>; query: Out<Q> }, deps: AppDeps) => Access;
  handle(deps: AppDeps, input: Input<Out<P>, Out<Q>, Out<B>>): Promise<Reply>;
}

export interface Operation {
  readonly spec: RouteSpec;
  mount(router: Router, deps: AppDeps): void;
}

/** The field a zod issue points at: its path, or for unknown keys the first key. */
function issueField(issue: z.core.$ZodIssue, prefix: string): string {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const formatted = formatPath(path);
  return [prefix, formatted].filter((p) => p !== '').join('.');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

/** Parses one part of a request; a failure is a 400 naming the field. `what` prefixes the field
 * path for bodies only (`reason`), as people name body fields without a prefix either. */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, what: string, fieldPrefix = ''): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new HttpError(400, `invalid ${what}`);
  const field = issueField(issue, fieldPrefix) || (what === 'request body' ? '(body)' : '');
  throw new HttpError(400, `invalid ${what}: ${field ? `${field}: ` : ''}${issueMessage(issue)}`, field ? { field } : {});
}

export function authOf(deps: AppDeps): ApiAuth {
  return deps.auth ?? NO_AUTH;
}
const NO_AUTH = noAuth();

export function operation<P extends z.ZodObject | undefined = undefined, Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  def: OperationDef<P, Q, B>,
): Operation {
  const { spec } = def;
  return {
    spec,
    mount(router, deps) {
      router[spec.method](spec.path, async (req, res) => {
        const params = (spec.params ? parsePart(spec.params, req.params, 'path parameter') : undefined) as Out<P>;
        const query = (spec.query ? parsePart(spec.query, req.query, 'query parameter') : undefined) as Out<Q>;
        if (def.access) await authorize(authOf(deps), res, def.access({ params, query }, deps));
        let body: Out<B>;
        if (spec.body) {
          // A missing body reads as `{}`, so the answer names the missing field, not "expected object".
          body = parsePart(spec.body, req.body ?? {}, 'request body') as Out<B>;
        } else {
          const given: unknown = req.body;
          if (given !== undefined && !(typeof given === 'object' && given !== null && !Array.isArray(given) && Object.keys(given).length === 0)) {
            const first = typeof given === 'object' && given !== null && !Array.isArray(given) ? Object.keys(given)[0] : undefined;
            throw new HttpError(400, `this route takes no request body (or {})${first !== undefined ? `: unknown field "${first}"` : ''}`, { field: first ?? '(body)' });
          }
          body = undefined as Out<B>;
        }
        const reply = await def.handle(deps, { params, query, body, req, res });
        res.status(reply.status).json(reply.body);
      });
    },
  };
}

/** A RouteFactory serving `operations`, carrying their specs for the OpenAPI document. */
export function routeFactory(operations: readonly Operation[]): RouteFactory {
  const build = (deps: AppDeps): Router => {
    const router = Router();
    for (const op of operations) op.mount(router, deps);
    return router;
  };
  return Object.assign(build, { operations: operations.map((o) => o.spec) });
}
