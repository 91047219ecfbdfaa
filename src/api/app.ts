// The controller's HTTP face: probes, /metrics, and (under /api/v1) the REST steering API.
import express, { type Express, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from 'winston';
import type { Controller } from '../controller/controller';
import type { Kube } from '../kube';
import { errorHandler, notFound } from './errors';

/** What REST routes may ask of the running controller. Routes read plans from its cache
 * (`cachedPlans`), never by listing them from the API server per request. */
export type SteeringController = Pick<Controller, 'enqueue' | 'noteRequest' | 'isLeader' | 'cachedPlans'>;

export interface AppDeps {
  controller: SteeringController;
  /** The controller's own client: routes act with its service account (after authorizing the caller). */
  kube: Kube;
  /** The namespace the controller watches; all when absent. */
  namespace?: string;
  now?: () => number;
  registry: Registry;
  /** True once the controller's plan cache has synced; /readyz answers 503 until then. */
  ready: () => boolean;
  log?: Logger;
}

/** Builds routes from the app's dependencies; each is mounted under /api/v1. */
export type RouteFactory = (deps: AppDeps) => Router;

/** Request bodies are small JSON documents (a rollback reason, an Alertmanager batch). */
const BODY_LIMIT = '1mb';

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

  app.use('/api/v1', express.json({ limit: BODY_LIMIT }));
  for (const build of routes) app.use('/api/v1', build(deps));

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
