// The composition root of the controller process: builds the one Kubernetes client, the metrics,
// the controller (and with it the one plan cache), the analysis runner and the HTTP app, once,
// and hands each its dependencies. Nothing else in the process constructs these.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Express } from 'express';
import type { Logger } from 'winston';
import { alertRoutes } from './api/alerts';
import { CheckHistory, recordingCheckMetrics } from './api/checkHistory';
import { dashboardApiRoutes } from './api/dashboardApi';
import { createApp, type RouteFactory } from './api/app';
import { kubernetesAuth, noAuth, type ApiAuth, type AuthMode } from './api/auth';
import { TrafficshiftMetrics } from './api/metrics';
import { feedPlanMetrics } from './api/planMetrics';
import { followPlans, PlanDiff } from './api/planChanges';
import { planRoutes } from './api/plans';
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
  /** Who may call the REST API: `kubernetes` (TokenReview + SubjectAccessReview, the default) or
   * `none` (a laptop; every request is logged as a warning). */
  auth?: AuthMode;
}

export interface ControllerProcessParts {
  version: string;
  kube: Kube;
  metrics: TrafficshiftMetrics;
  controller: Controller;
  /** Who may call /api/v1. */
  auth: ApiAuth;
  /** Probes, /metrics and the REST API. */
  app: Express;
  /** /readyz follows this: true once the plan cache has synced, false again while stopping. */
  setReady(ready: boolean): void;
  /** The recent values of every check, per plan (the dashboard's timeline). */
  checkHistory: CheckHistory;
  /** Ends the dashboard's event streams and stops following the plan cache. */
  stop(): void;
}

/** The REST routes the process serves under /api/v1. */
export const API_ROUTES: ReadonlyArray<RouteFactory> = [planRoutes, alertRoutes, dashboardApiRoutes];

export function composeControllerProcess(kubeConfig: KubeConfig, settings: ProcessSettings): ControllerProcessParts {
  const { log, outbound } = settings;
  const version = packageVersion();
  const metrics = new TrafficshiftMetrics({ version });
  const checkHistory = new CheckHistory();
  const kube = controllerKube(kubeConfig, metrics.kube);
  const controller = new Controller({
    kube,
    ...(settings.namespace !== undefined ? { namespace: settings.namespace } : {}),
    ...(settings.leaderElection ? { leaderElection: settings.leaderElection } : {}),
    metrics: metrics.controller,
    outbound,
    concurrency: settings.concurrency,
    resyncMs: settings.resyncMs,
    log,
    analysis: createAnalysisRunner({ secrets: kubeSecretReader(kube), metrics: recordingCheckMetrics(metrics.checks, checkHistory), outbound }),
  });
  // A plan's check history goes with the plan.
  const stopping = new AbortController();
  const diff = new PlanDiff();
  void followPlans(
    controller,
    diff,
    (changes) => {
      for (const change of changes) if (change.kind === 'deleted') checkHistory.forget(change.plan);
    },
    stopping.signal,
  );
  // The plan metrics read the controller's plan cache at each scrape: one watch of plans per process.
  feedPlanMetrics(metrics, () => controller.cachedPlans());
  let ready = false;
  // The REST API asks the cluster who the caller is and what they may do, through the
  // controller's own client (its RBAC includes tokenreviews and subjectaccessreviews create).
  const auth = settings.auth === 'none' ? noAuth(log) : kubernetesAuth(kube, { log });
  const app = createApp(
    { controller, kube, auth, registry: metrics.registry, ready: () => ready, log, version, checkHistory, stopping: stopping.signal, ...(settings.namespace !== undefined ? { namespace: settings.namespace } : {}) },
    API_ROUTES,
  );
  return {
    version,
    kube,
    metrics,
    controller,
    auth,
    app,
    setReady(value) {
      ready = value;
    },
    checkHistory,
    stop: () => stopping.abort(),
  };
}
