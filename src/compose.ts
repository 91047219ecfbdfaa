// The composition root of the controller process: builds the one Kubernetes client, the metrics,
// the controller (and with it the one plan cache), the analysis runner and the HTTP app, once,
// and hands each its dependencies. Nothing else in the process constructs these.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Express } from 'express';
import type { Logger } from 'winston';
import { alertRoutes } from './api/alerts';
import { createApp, type RouteFactory } from './api/app';
import { TrafficshiftMetrics } from './api/metrics';
import { feedPlanMetrics } from './api/planMetrics';
import { packageVersion } from './api/version';
import { createAnalysisRunner, type OutboundPolicy } from './checks';
import { Controller, controllerKube, kubeSecretReader, type LeaderElectionOptions } from './controller/controller';
import type { Kube } from './kube';

export interface ProcessSettings {
  /** Watch one namespace only; all when absent. */
  namespace?: string;
  leaderElection?: LeaderElectionOptions;
  outbound: OutboundPolicy;
  concurrency: number;
  resyncMs: number;
  log: Logger;
}

export interface ControllerProcessParts {
  version: string;
  kube: Kube;
  metrics: TrafficshiftMetrics;
  controller: Controller;
  /** Probes, /metrics and the REST API. */
  app: Express;
  /** /readyz follows this: true once the plan cache has synced, false again while stopping. */
  setReady(ready: boolean): void;
}

/** The REST routes the process serves under /api/v1. */
export const API_ROUTES: ReadonlyArray<RouteFactory> = [alertRoutes];

export function composeControllerProcess(kubeConfig: KubeConfig, settings: ProcessSettings): ControllerProcessParts {
  const { log, outbound } = settings;
  const version = packageVersion();
  const kube = controllerKube(kubeConfig);
  const metrics = new TrafficshiftMetrics({ version });
  const controller = new Controller({
    kube,
    ...(settings.namespace !== undefined ? { namespace: settings.namespace } : {}),
    ...(settings.leaderElection ? { leaderElection: settings.leaderElection } : {}),
    metrics: metrics.controller,
    outbound,
    concurrency: settings.concurrency,
    resyncMs: settings.resyncMs,
    log,
    analysis: createAnalysisRunner({ secrets: kubeSecretReader(kube), metrics: metrics.checks, outbound }),
  });
  // The plan metrics read the controller's plan cache at each scrape: one watch of plans per process.
  feedPlanMetrics(metrics, () => controller.cachedPlans());
  let ready = false;
  const app = createApp(
    { controller, kube, registry: metrics.registry, ready: () => ready, log, ...(settings.namespace !== undefined ? { namespace: settings.namespace } : {}) },
    API_ROUTES,
  );
  return {
    version,
    kube,
    metrics,
    controller,
    app,
    setReady(value) {
      ready = value;
    },
  };
}
