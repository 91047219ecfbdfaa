// The controller's HTTP face: probes, /metrics, the dashboard's pages, and (under /api/v1) the
// REST steering API.
import express, { Router, type Express, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from 'winston';
import type { Controller } from '../controller/controller';
import type { Kube } from '../kube';
import type { ApiAuth } from './auth';
import { errorHandler, HttpError, notFound } from './errors';
import { INFO_PATH, openApiDocument, OPENAPI_PATH, type DocumentInfo } from './openapi';
import type { RouteSpec } from './routes';
import type { CheckHistory } from './checkHistory';
import { dashboardRouter, defaultAssetsDir } from './dashboard';
import type { StreamSettings } from './stream';

/** What REST routes may ask of the running controller. Routes read plans from its cache
 * (`cachedPlans`, `planFeed`), never by listing them from the API server per request. */
export type SteeringController = Pick<Controller, 'enqueue' | 'noteRequest' | 'isLeader' | 'cachedPlans' | 'cachedPlan' | 'onPlanChange' | 'planFeed'>;

export interface AppDeps {
  controller: SteeringController;
  /** The controller's own client: routes act with its service account (after authorizing the caller). */
  kube: Kube;
  /** Who may call /api/v1: TokenReview + SubjectAccessReview, or noAuth for --auth=none. */
  auth: ApiAuth;
  /** The namespace the controller watches; all when absent. */
  namespace?: string;
  now?: () => number;
  registry: Registry;
  /** True once the controller's plan cache has synced; /readyz answers 503 until then. */
  ready: () => boolean;
  log?: Logger;
  /** The version the OpenAPI document and /api/v1/info carry. */
  version?: string;
  /** The values each check measured recently, for the timeline; none: the timeline shows
   * each check's latest status value. */
  checkHistory?: CheckHistory;
  /** Where the dashboard's built files are (index.html, its scripts and styles); tests give
   * their own. Default: dist/dashboard/assets (defaultAssetsDir). */
  dashboardAssets?: string;
  /** Aborts when the process stops: event streams end. */
  stopping?: AbortSignal;
  /** Event stream timings (tests shorten them). */
  stream?: StreamSettings;
}

/** Builds routes from the app's dependencies; each is mounted under /api/v1. `operations`
 * describes them for /api/v1/openapi.json (routeFactory sets it). */
export type RouteFactory = ((deps: AppDeps) => Router) & { readonly operations?: readonly RouteSpec[] };

/** Request bodies are small JSON documents (a rollback reason, an Alertmanager batch). */
const BODY_LIMIT = '1mb';

function hasBody(req: express.Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** A body that is not JSON is a 415 (express.json would leave it unread and the route would see
 * no body at all). */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method !== 'GET' && req.method !== 'HEAD' && hasBody(req) && req.is('application/json') === false) {
    const type = req.headers['content-type'];
    throw new HttpError(415, `request body must be application/json${type ? `, not ${type}` : ' (no Content-Type was sent)'}`);
  }
  next();
};

export function createApp(deps: AppDeps, routes: ReadonlyArray<RouteFactory> = []): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 2);

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.type('text/plain').send('ok');
    else res.status(503).type('text/plain').send('not ready: the plan cache has not synced yet');
  });
  app.get('/metrics', async (_req, res) => {
    const text = await deps.registry.metrics();
    res.set('content-type', deps.registry.contentType).send(text);
  });

  const api = Router();
  const info: DocumentInfo = { version: deps.version ?? '0.0.0', authMode: deps.auth.mode };
  let document: unknown;
  // Served without a token, like /healthz: it describes the API this binary serves (the same
  // document anyone can generate from the source) and nothing about the cluster or its plans,
  // and a client needs it before it has a token to call anything else with.
  api.get(OPENAPI_PATH, (_req, res) => {
    document ??= openApiDocument(routes.flatMap((r) => r.operations ?? []), info);
    res.json(document);
  });
  // Public for the same reasons: the dashboard needs it before it has a token, to say whether
  // the controller checks tokens at all.
  api.get(INFO_PATH, (_req, res) => {
    res.json({ version: info.version, authMode: info.authMode });
  });
  api.use(deps.auth.authenticate);
  api.use(requireJsonBody);
  api.use(express.json({ limit: BODY_LIMIT }));
  for (const build of routes) api.use(build(deps));
  app.use('/api/v1', api);
  app.use(dashboardRouter(deps.dashboardAssets ?? defaultAssetsDir()));

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
