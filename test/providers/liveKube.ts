// Live provider tests run against the in-process API server through a kubeconfig file, exactly
// as the controller reaches a cluster: loadKubeConfig -> Kube -> HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kube, loadKubeConfig } from '../../src/kube';
import { LocalKube } from '../../src/localkube';
import { thirdPartyCrdFile, type THIRD_PARTY_CRDS } from '../../src/localkube/crd';

export interface LiveKube {
  kube: Kube;
  server: LocalKube;
  stop(): Promise<void>;
}

/** `crds`: the vendored route CRDs to serve (only those a test needs, to keep start-up quick). */
export async function startLiveKube(crds: Array<keyof typeof THIRD_PARTY_CRDS> = [], namespace = 'shop'): Promise<LiveKube> {
  const server = new LocalKube({ crdFiles: crds.map((name) => thirdPartyCrdFile(name)) });
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
