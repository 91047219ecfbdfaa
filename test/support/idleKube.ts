// A client that is never called, for tests of routes that must not reach an API server. Its
// kubeconfig lives in memory, so no temp file is left behind.
import { KubeConfig } from '@kubernetes/client-node';
import { Kube } from '../../src/kube';

export function idleKube(): Kube {
  const config = new KubeConfig();
  config.loadFromString('apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
  return new Kube(config);
}
