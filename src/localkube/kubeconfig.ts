// A kubeconfig for the in-process server. Over TLS the cluster entry carries the server's CA, so
// clients verify it as they verify a real cluster. Plain http needs insecure-skip-tls-verify on
// the cluster entry instead, or client-node refuses to build its agent (see CLIENT-NODE.md).
import * as yaml from 'js-yaml';

export interface KubeconfigOptions {
  /** The server's CA (TLS): trusted instead of skipping verification. */
  caPem?: string;
  /** The name of the user entry. Default localkube-admin. */
  user?: string;
}

export function kubeconfigYaml(server: string, token: string, namespace = 'default', options: KubeconfigOptions = {}): string {
  const { caPem, user = 'localkube-admin' } = options;
  const cluster = caPem !== undefined
    ? { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') }
    : { server, 'insecure-skip-tls-verify': true };
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'localkube', cluster }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'localkube', context: { cluster: 'localkube', user, namespace } }],
    'current-context': 'localkube',
    preferences: {},
  });
}
