// `trafficshift localkube`: the in-process Kubernetes API server `make demo` runs on, standing
// alone for trying the controller, kubectl and the CLI without a cluster. State lives in memory.
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { runLocalKube } from '../../localkube';
import type { CliContext } from '../context';
import { aborted, parsePort } from '../flags';

export interface LocalkubeFlags {
  port: number;
  kubeconfigOut: string;
  /** HTTPS with a CA made at start (in the kubeconfig), as clusters serve. */
  tls?: boolean;
}

/** Serves until `stop` aborts; resolves to the exit code. */
export async function runLocalkube(flags: LocalkubeFlags, ctx: CliContext, stop: AbortSignal): Promise<number> {
  let server;
  try {
    server = await runLocalKube({ port: flags.port, kubeconfigPath: flags.kubeconfigOut, ...(flags.tls ? { tls: true } : {}) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? `port ${flags.port} is already in use (--port)` : error instanceof Error ? error.message : String(error);
    ctx.stderr.write(`error: localkube did not start: ${reason}\n`);
    return 1;
  }
  const kubeconfig = flags.kubeconfigOut;
  // A relative path, as typed, reads better in the commands below than an absolute one.
  const shown = path.isAbsolute(kubeconfig) || kubeconfig.startsWith('.') ? kubeconfig : `./${kubeconfig}`;
  ctx.stdout.write(
    [
      `localkube: an in-process Kubernetes API server on ${server.url} (state in memory; Ctrl-C stops it)`,
      `kubeconfig written to ${shown}`,
      '',
      'Try:',
      `  kubectl --kubeconfig ${shown} get crd`,
      `  kubectl --kubeconfig ${shown} create namespace shop`,
      `  kubectl --kubeconfig ${shown} apply -f manifests/examples/nginx-canary.yaml   # after creating its Ingresses`,
      `  kubectl --kubeconfig ${shown} get mp -A`,
      `  trafficshift controller --kubeconfig ${shown} --port 8080`,
      '',
    ].join('\n'),
  );
  await aborted(stop);
  await server.stop();
  ctx.stdout.write('localkube stopped\n');
  return 0;
}

export function localkubeCommand(ctx: CliContext): Command {
  return new Command('localkube')
    .description('run an in-process Kubernetes API server (with the MigrationPlan and route CRDs) and write a kubeconfig for it')
    .addOption(new Option('--port <port>', 'port to listen on, on 127.0.0.1 (0 picks a free one)').default(0).argParser(parsePort))
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig', 'localkube.kubeconfig')
    .option('--tls', 'serve HTTPS with a certificate authority made at start, written into the kubeconfig (kubectl then sends its token)')
    .action(async (flags: LocalkubeFlags) => {
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        ctx.setExitCode(await runLocalkube(flags, ctx, abort.signal));
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
