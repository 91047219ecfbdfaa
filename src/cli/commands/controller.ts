// `trafficshift controller`: the controller and its HTTP server (probes, /metrics, REST API) in
// one process. It refuses to start against a cluster it cannot reach or that lacks the CRD, so
// a broken Deployment fails its rollout instead of running blind and reporting ready.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'winston';
import { AllowedHosts, InvalidAllowedHost, type OutboundPolicy } from '../../checks';
import { AUTH_MODES, NO_AUTH_WARNING, type AuthMode } from '../../api/auth';
import { composeControllerProcess } from '../../compose';
import { ROUTINE_CONCURRENCY, URGENT_CONCURRENCY, type Controller } from '../../controller/controller';
import { createLogger, type LogFormat } from '../../controller/logger';
import { KubeConfigError, loadKubeConfig, toKubeError, type Kube, type KubeConfigSources } from '../../kube';
import { aborted, parseBoolean, parseDurationFlag, parsePort } from '../flags';
import { GROUP, PLURAL, VERSION } from '../../plan/schema';
import { plansResource } from '../../plan/ref';
import type { CliContext } from '../context';
import { onInterrupt } from '../interrupt';

export interface ControllerFlags {
  kubeconfig?: string;
  context?: string;
  port: number;
  /** One namespace, or all when absent. */
  namespace?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  leaseName: string;
  /** This replica's name in the Lease; default $POD_NAME, else the host name and a random suffix. */
  identity?: string;
  /** Milliseconds, for the three Lease timings. */
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  logFormat: LogFormat;
  concurrency: number;
  /** Milliseconds. */
  resync: number;
  /** Hosts checks and notifications may call; every host when absent. */
  allowedHosts?: AllowedHosts;
  /** Who may call the REST API: `kubernetes` (TokenReview + SubjectAccessReview) or `none`. */
  auth?: AuthMode;
}

export interface ControllerRunDeps {
  log?: Logger;
  /** Where the kubeconfig search looks ($KUBECONFIG, home, the pod's service account). */
  sources?: KubeConfigSources;
  env?: Readonly<Record<string, string | undefined>>;
  /** Called once the HTTP server listens (with the real port when --port is 0). */
  onListening?: (url: string) => void;
  /** Called once the plan cache has synced and the controller runs. */
  onReady?: (controller: Controller) => void;
}

/** Why the controller did not start; the message says what to fix. */
export class ControllerStartError extends Error {
  override readonly name = 'ControllerStartError';
}

const DEFAULT_LEASE_NAME = 'trafficshift-controller';

function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${text}" is not a whole number of at least 1`);
  return n;
}

const parseResync = (text: string): number => parseDurationFlag(text, 1000, 'resync every 1s or less often');
const parseLeaseTiming = (text: string): number => parseDurationFlag(text, 100, 'at least 100ms');

export function parseAllowedHosts(text: string): AllowedHosts {
  try {
    return AllowedHosts.parse(text);
  } catch (error) {
    if (error instanceof InvalidAllowedHost) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** --lease-namespace, else the pod's own namespace, else the kubeconfig context's, else default. */
export function leaseNamespace(flags: Pick<ControllerFlags, 'leaseNamespace'>, kubeConfig: KubeConfig, env: Readonly<Record<string, string | undefined>>): string {
  if (flags.leaseNamespace) return flags.leaseNamespace;
  if (env['POD_NAMESPACE']) return env['POD_NAMESPACE'];
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || 'default';
}

/** One list of plans before anything starts: proves the server answers, we may read plans, and
 * the CRD is installed. The informer would otherwise retry these forever, never ready. */
async function preflight(kube: Kube, server: string, namespace: string | undefined): Promise<void> {
  const scope = namespace === undefined ? 'in all namespaces' : `in namespace ${namespace}`;
  try {
    await kube.list(plansResource(namespace));
  } catch (error) {
    const e = toKubeError(error);
    if (e.status === 0) throw new ControllerStartError(`cannot reach the Kubernetes API server at ${server}: ${e.message}`, { cause: e });
    if (e.status === 404) {
      throw new ControllerStartError(`the API server at ${server} does not serve ${PLURAL}.${GROUP}/${VERSION}: install the CRD first (kubectl apply -f manifests/crd.yaml)`, { cause: e });
    }
    if (e.status === 401 || e.status === 403) {
      throw new ControllerStartError(`the API server at ${server} refused to list ${PLURAL} ${scope} (${e.status} ${e.reason}): ${e.message}`, { cause: e });
    }
    throw new ControllerStartError(`listing ${PLURAL} ${scope} at ${server} failed (${e.status} ${e.reason}): ${e.message}`, { cause: e });
  }
}

async function listen(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new ControllerStartError(error.code === 'EADDRINUSE' ? `port ${port} is already in use (--port)` : `cannot listen on port ${port}: ${error.message}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections (Prometheus scrapes, probes) would hold close() open.
  server.closeAllConnections();
  await closed;
}

function outboundPolicy(flags: Pick<ControllerFlags, 'allowedHosts'>): OutboundPolicy {
  return flags.allowedHosts === undefined ? {} : { allowedHosts: flags.allowedHosts };
}

/**
 * Runs until `stop` aborts, then finishes the writes in flight, releases the lease and closes the
 * server. Resolves to the exit code: 0 after a clean stop, 1 when it could not start.
 */
export async function runController(flags: ControllerFlags, ctx: CliContext, stop: AbortSignal, deps: ControllerRunDeps = {}): Promise<number> {
  const log = deps.log ?? createLogger(flags.logFormat);
  const env = deps.env ?? process.env;
  let kubeConfig: KubeConfig;
  try {
    const opts = { ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) };
    kubeConfig = deps.sources ? loadKubeConfig(opts, deps.sources) : loadKubeConfig(opts);
  } catch (error) {
    if (!(error instanceof KubeConfigError)) throw error;
    ctx.stderr.write(`error: ${error.message}\n`);
    return 1;
  }
  const apiServer = kubeConfig.getCurrentCluster()?.server ?? '(no server)';
  const leaderElection = flags.leaderElect
    ? {
        namespace: leaseNamespace(flags, kubeConfig, env),
        name: flags.leaseName,
        ...((flags.identity ?? env['POD_NAME']) ? { identity: (flags.identity ?? env['POD_NAME']) as string } : {}),
        leaseDurationMs: flags.leaseDuration,
        renewDeadlineMs: flags.renewDeadline,
        retryPeriodMs: flags.retryPeriod,
      }
    : undefined;
  const parts = composeControllerProcess(kubeConfig, {
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(leaderElection ? { leaderElection } : {}),
    outbound: outboundPolicy(flags),
    concurrency: flags.concurrency,
    resyncMs: flags.resync,
    log,
    auth: flags.auth ?? 'kubernetes',
  });
  const { kube, controller, version } = parts;
  const server = http.createServer(parts.app);

  try {
    await preflight(kube, apiServer, flags.namespace);
    const port = await listen(server, flags.port);
    log.info('trafficshift controller starting', {
      version,
      apiServer,
      namespace: flags.namespace ?? '(all)',
      leaderElection: flags.leaderElect ? `on (lease ${leaseNamespace(flags, kubeConfig, env)}/${flags.leaseName}, identity ${controller.identity})` : 'off',
      allowedHosts: flags.allowedHosts?.toString() ?? '(any)',
      port,
    });
    log.info(`REST API auth: ${parts.auth.mode === 'none' ? '--auth=none, every request is served unchecked' : 'kubernetes: bearer token checked with TokenReview, access with SubjectAccessReview (list/get to read, patch to steer)'}`);
    if (parts.auth.mode === 'none') log.warn(NO_AUTH_WARNING);
    if (flags.allowedHosts === undefined) {
      log.warn('no --allowed-hosts: checks and notifications may call any host a plan names; set it to the hosts they need');
    }
    deps.onListening?.(`http://127.0.0.1:${port}`);
  } catch (error) {
    await closeServer(server);
    if (!(error instanceof ControllerStartError)) throw error;
    ctx.stderr.write(`error: ${error.message}\n`);
    return 1;
  }

  // The cache syncs in the background; a stop request during the sync still shuts down cleanly.
  const done = new AbortController();
  stop.addEventListener('abort', () => done.abort(), { once: true });
  if (stop.aborted) done.abort();
  let startFailure: unknown;
  void controller.start().then(
    () => {
      if (done.signal.aborted) return;
      parts.setReady(true);
      log.info('plan cache synced: ready', { leader: controller.isLeader });
      deps.onReady?.(controller);
    },
    (error: unknown) => {
      startFailure = error;
      done.abort();
    },
  );
  await aborted(done.signal);

  log.info('stopping: finishing the writes in flight and releasing the lease');
  parts.setReady(false);
  parts.stop();
  await controller.stop();
  await closeServer(server);
  kube.close();
  if (startFailure !== undefined) {
    ctx.stderr.write(`error: the controller failed to start: ${startFailure instanceof Error ? startFailure.message : String(startFailure)}\n`);
    return 1;
  }
  log.info('stopped');
  return 0;
}

export function controllerCommand(ctx: CliContext): Command {
  return new Command('controller')
    .description('run the controller and its HTTP server (probes, /metrics, REST API) until SIGTERM or SIGINT')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .addOption(new Option('--port <port>', 'HTTP port for probes, /metrics and the REST API (0 picks a free one)').default(8080).argParser(parsePort))
    .option('--namespace <name>', 'watch plans in this namespace only (default: all namespaces)')
    .addOption(new Option('--leader-elect [enabled]', 'take a Lease before writing, so that only one replica writes').default(false).argParser(parseBoolean))
    .option('--lease-namespace <name>', 'namespace of the Lease (default: $POD_NAMESPACE, else the kubeconfig context\'s namespace, else default)')
    .option('--lease-name <name>', 'name of the Lease', DEFAULT_LEASE_NAME)
    .option('--identity <name>', 'this replica\'s name in the Lease (default: $POD_NAME, else the host name and a random suffix)')
    .addOption(new Option('--lease-duration <duration>', 'how long a Lease holds without renewal; a follower takes over after it').default(15_000, '15s').argParser(parseLeaseTiming))
    .addOption(new Option('--renew-deadline <duration>', 'the leader stops writing when it could not renew for this long (below --lease-duration)').default(10_000, '10s').argParser(parseLeaseTiming))
    .addOption(new Option('--retry-period <duration>', 'how often to try to take or renew the Lease').default(2_000, '2s').argParser(parseLeaseTiming))
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .addOption(
      new Option('--concurrency <n>', `plans reconciled at once for routine work (check rounds, steps); rollbacks and deletions have ${URGENT_CONCURRENCY} workers of their own on top`)
        .default(ROUTINE_CONCURRENCY)
        .argParser(parseConcurrency),
    )
    .addOption(new Option('--resync <duration>', 'reconcile every plan at least this often, repairing hand edits of targets').default(30_000, '30s').argParser(parseResync))
    .addOption(
      new Option('--auth <mode>', 'who may call the REST API: kubernetes (bearer tokens, checked with TokenReview and SubjectAccessReview, so cluster RBAC decides) or none (no checks, for a laptop: warns at start-up and on every request)')
        .choices([...AUTH_MODES])
        .default('kubernetes'),
    )
    .addOption(
      new Option(
        '--allowed-hosts <list>',
        'hosts that checks and notifications may call, comma-separated: names (prom.monitoring.svc), *.suffix wildcards, IP addresses and CIDRs (10.0.0.0/8, fd00::/8); names are never resolved (default: any host)',
      ).argParser(parseAllowedHosts),
    )
    .action(async (flags: ControllerFlags) => {
      const signals = onInterrupt(ctx, { message: 'exiting without waiting for the shutdown', exitCode: 1 });
      try {
        ctx.setExitCode(await runController(flags, ctx, signals.signal));
      } finally {
        signals.dispose();
      }
    });
}
