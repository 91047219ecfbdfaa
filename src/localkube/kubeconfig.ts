// A kubeconfig for the in-process server. Plain http needs insecure-skip-tls-verify on the
// cluster entry, or client-node refuses to build its agent (see CLIENT-NODE.md).
import * as yaml from 'js-yaml';

export function kubeconfigYaml(server: string, token: string, namespace = 'default'): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'localkube', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'localkube-admin', user: { token } }],
    contexts: [{ name: 'localkube', context: { cluster: 'localkube', user: 'localkube-admin', namespace } }],
    'current-context': 'localkube',
    preferences: {},
  });
}
