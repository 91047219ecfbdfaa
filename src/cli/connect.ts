// How the steering commands reach the cluster: straight through the user's kubeconfig, as
// kubectl does, so the API server's RBAC decides what each person may do and no port-forward to
// the controller is needed. The flags are kubectl's: --kubeconfig, --context, -n, -A.
import type { KubeConfig } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { Kube, KubeConfigError, loadKubeConfig, type KubeConfigSources } from '../kube';
import type { PlanRef } from '../plan/ref';
import type { CliContext } from './context';
import { describeFailure, oneLine } from './failures';

/** Recorded in managedFields: `kubectl get mp -o yaml --show-managed-fields` says who wrote. */
export const CLI_FIELD_MANAGER = 'trafficshift-cli';

export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
}

export interface Connection {
  kube: Kube;
  kubeConfig: KubeConfig;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  /** The kubeconfig user entry's name, for messages and the default rollback reason. */
  user: string;
  ref(name: string): PlanRef;
}

/** Adds --kubeconfig, --context and -n (and -A with `allNamespaces`) to a command. */
export function withConnectionOptions(cmd: Command, options: { allNamespaces?: boolean } = {}): Command {
  cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .option('-n, --namespace <name>', "the plan's namespace (default: the context's namespace, else default)");
  if (options.allNamespaces) cmd.addOption(new Option('-A, --all-namespaces', 'plans in every namespace').default(false));
  return cmd;
}

/** Loads the kubeconfig and makes the client. Throws KubeConfigError when there is none to use. */
export function connect(flags: ConnectionFlags, sources?: KubeConfigSources): Connection {
  const opts = { ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) };
  const kubeConfig = sources ? loadKubeConfig(opts, sources) : loadKubeConfig(opts);
  const namespace = flags.namespace || kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || 'default';
  const kube = new Kube(kubeConfig, { fieldManager: CLI_FIELD_MANAGER });
  return {
    kube,
    kubeConfig,
    namespace,
    server: kubeConfig.getCurrentCluster()?.server ?? '(no server)',
    user: kubeConfig.getCurrentUser()?.name ?? 'unknown user',
    ref: (name) => ({ namespace, name }),
  };
}

/**
 * Connects, runs `work`, and turns every failure the cluster or the kubeconfig can cause (bad
 * kubeconfig, unreachable server, 401, 403, unknown plan) into one line on stderr and exit 1.
 * Anything else is a bug and propagates to main, which prints it as one line too.
 */
export async function withConnection(ctx: CliContext, flags: ConnectionFlags, work: (conn: Connection) => Promise<number>, sources?: KubeConfigSources): Promise<number> {
  let conn: Connection;
  try {
    conn = connect(flags, sources);
  } catch (error) {
    if (!(error instanceof KubeConfigError)) throw error;
    // js-yaml adds a snippet of the file below its first line; the first line says it all.
    ctx.stderr.write(`error: ${error.message.split('\n')[0]?.trim()}\n`);
    return 1;
  }
  try {
    return await work(conn);
  } catch (error) {
    const line = describeFailure(error, conn);
    if (line === undefined) throw error;
    ctx.stderr.write(`${oneLine(line)}\n`);
    return 1;
  } finally {
    conn.kube.close();
  }
}
