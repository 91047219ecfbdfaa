// The backend Services the bench's Ingresses name ('old' and 'new'), each with a ready
// EndpointSlice: the readiness gate would otherwise hold every plan at 0, and the in-process API
// server runs no EndpointSlice controller to make them.
import type { Kube } from '../kube';

export const BENCH_BACKENDS = ['old', 'new'] as const;

export async function createReadyBackends(kube: Kube, namespace: string, names: readonly string[] = BENCH_BACKENDS): Promise<void> {
  for (const [i, name] of names.entries()) {
    await kube.create({ group: '', version: 'v1', plural: 'services', namespace }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await kube.create({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespace }, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-bench`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: [`10.244.${i + 1}.1`], conditions: { ready: true } }],
    });
  }
}
