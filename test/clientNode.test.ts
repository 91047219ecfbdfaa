import * as k8s from '@kubernetes/client-node';

describe('@kubernetes/client-node under jest', () => {
  it('loads the ESM-only package and builds a typed API client from a kubeconfig', () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const api = kc.makeApiClient(k8s.CoreV1Api);
    expect(typeof api.listNamespacedService).toBe('function');
    expect(k8s.PatchStrategy.MergePatch).toBe('application/merge-patch+json');
  });
});
