// Standalone runner: `trafficshift localkube` (and `node dist/localkube/main.js`) start the
// in-process API server and write a kubeconfig for kubectl and the controller.
import { LocalKube, LocalKubeOptions } from './server';

export interface RunLocalKubeOptions extends LocalKubeOptions {
  kubeconfigPath?: string;
}

/** Starts a LocalKube, writes its kubeconfig when asked, and returns the running server. */
export async function runLocalKube(options: RunLocalKubeOptions = {}): Promise<LocalKube> {
  const { kubeconfigPath, ...serverOptions } = options;
  const server = new LocalKube(serverOptions);
  await server.start();
  if (kubeconfigPath) server.writeKubeconfig(kubeconfigPath);
  return server;
}

if (require.main === module) {
  const port = Number(process.env.LOCALKUBE_PORT ?? process.argv[2] ?? 0);
  const kubeconfigPath = process.env.LOCALKUBE_KUBECONFIG ?? process.argv[3] ?? 'localkube.kubeconfig';
  runLocalKube({ port, kubeconfigPath })
    .then((server) => {
      process.stdout.write(`localkube serving on ${server.url}; kubeconfig written to ${kubeconfigPath}\n`);
      const shutdown = (): void => {
        void server.stop().then(() => process.exit(0));
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    })
    .catch((e: unknown) => {
      process.stderr.write(`localkube failed to start: ${String(e)}\n`);
      process.exit(1);
    });
}
