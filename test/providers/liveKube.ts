// Live provider tests run against the in-process API server through a kubeconfig file, exactly
// as the controller reaches a cluster: loadKubeConfig -> Kube -> HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kube, loadKubeConfig } from '../../src/kube';
import { LocalKube } from '../../src/localkube';

export interface LiveKube {
  kube: Kube;
  server: LocalKube;
  stop(): Promise<void>;
}

/** The third-party CRDs, unchanged: ../shared/crds beside the checkout. */
const SHARED_CRDS = resolve(__dirname, '..', '..', '..', 'shared', 'crds');

/** `crds`: file names in shared/crds to serve (only those a test needs, to keep start-up quick). */
export async function startLiveKube(crds: string[] = [], namespace = 'shop'): Promise<LiveKube> {
  const server = new LocalKube({ crdFiles: crds.map((f) => join(SHARED_CRDS, f)) });
  await server.start();
  const dir = mkdtempSync(join(tmpdir(), 'providers-live-'));
  const file = join(dir, 'kubeconfig');
  server.writeKubeconfig(file);
  const kube = new Kube(loadKubeConfig({ kubeconfig: file }, { env: {}, home: dir, fsRoot: dir }));
  await kube.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  return {
    kube,
    server,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
