// The demo's two migrations: the route objects they move and the MigrationPlans that move them.
import type { KubeObject, ResourceRef } from '../kube';
import { API_VERSION, KIND, type Phase, type Target } from '../plan/schema';
import { PROMQL_RANGE } from './backends';

export const NAMESPACE = 'shop';
export const STABLE = 'monolith';

export const REFS = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: NAMESPACE },
  httproutes: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: NAMESPACE },
  plans: { group: 'trafficshift.io', version: 'v1alpha1', plural: 'migrationplans', namespace: NAMESPACE },
  services: { group: '', version: 'v1', plural: 'services', namespace: NAMESPACE },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespace: NAMESPACE },
} as const satisfies Record<string, ResourceRef>;

/** Where the checks read their numbers. */
export type CheckSource = { kind: 'prometheus'; address: string } | { kind: 'webhook'; canaryUrl: string };

export interface Migration {
  plan: string;
  /** The `service` label and backend name of the canary. */
  canary: string;
  /** What the demo expects the plan to end as. */
  expected: Extract<Phase, 'Succeeded' | 'RolledBack'>;
  /** The rollback validation's expected result, when the plan asks for one. */
  expectedValidation?: 'Passed';
  /** What the person does at the promotion gate, with the CLI: promote, or roll back with a reason. */
  atGate?: { action: 'promote' } | { action: 'rollback'; reason: string };
  /** The canary's Pods are not ready yet when the plan starts: the readiness gate holds it at 0
   * until the demo makes them ready. */
  startsUnready?: true;
  targets: Target[];
  objects: Array<{ ref: ResourceRef; body: KubeObject }>;
  spec(checks: CheckSource): Record<string, unknown>;
}

function ingress(name: string, service: string, host: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, annotations },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }],
    },
  };
}

/** An ingress-nginx pair: the stable Ingress and a canary Ingress for the same host at weight 0. */
function nginxPair(name: string, canary: string, host: string): { target: Target; objects: Migration['objects'] } {
  return {
    target: { provider: 'nginx', nginx: { ingress: name, canaryIngress: `${name}-canary` } },
    objects: [
      { ref: REFS.ingresses, body: ingress(name, STABLE, host) },
      {
        ref: REFS.ingresses,
        body: ingress(`${name}-canary`, canary, host, { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' }),
      },
    ],
  };
}

/** A Gateway API HTTPRoute with both backends, all traffic on stable. */
function httpRoute(name: string, canary: string, host: string): { target: Target; objects: Migration['objects'] } {
  return {
    target: { provider: 'gatewayAPI', gatewayAPI: { httpRoute: name, stableBackend: STABLE, canaryBackend: canary } },
    objects: [
      {
        ref: REFS.httproutes,
        body: {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name },
          spec: {
            parentRefs: [{ name: 'public-gateway' }],
            hostnames: [host],
            rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: STABLE, port: 80, weight: 100 }, { name: canary, port: 80, weight: 0 }] }],
          },
        },
      },
    ],
  };
}

function checks(canary: string, source: CheckSource): Record<string, unknown> {
  if (source.kind === 'webhook') {
    return {
      checks: [
        { name: 'error-rate', webhook: { url: `${source.canaryUrl}/check/error-rate`, timeout: '2s' }, max: 0.05, severity: 'critical', failureLimit: 2 },
        { name: 'latency-p99', webhook: { url: `${source.canaryUrl}/check/latency-p99`, timeout: '2s' }, max: 0.5, severity: 'warning' },
      ],
    };
  }
  const svc = `service="${canary}"`;
  const stable = `service="${STABLE}"`;
  return {
    prometheus: { address: source.address, timeout: '2s' },
    checks: [
      {
        name: 'error-rate',
        query: `sum(rate(http_requests_total{${svc},code=~"5.."}[${PROMQL_RANGE}])) / sum(rate(http_requests_total{${svc}}[${PROMQL_RANGE}]))`,
        stableQuery: `sum(rate(http_requests_total{${stable},code=~"5.."}[${PROMQL_RANGE}])) / sum(rate(http_requests_total{${stable}}[${PROMQL_RANGE}]))`,
        max: 0.05,
        severity: 'critical',
        failureLimit: 2,
      },
      {
        name: 'latency-p99',
        query: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${svc}}[${PROMQL_RANGE}])))`,
        stableQuery: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${stable}}[${PROMQL_RANGE}])))`,
        max: 0.5,
        severity: 'warning',
      },
    ],
  };
}

/**
 * Three migrations between the monolith and a new service, each over two routes moved in
 * lockstep: an ingress-nginx pair and an HTTPRoute. The first is promoted by a person at its gate,
 * the second breaches its error-rate check and rolls back by itself, the third is rolled back by a
 * person at its gate with the CLI's one command. Pauses are seconds, not minutes, so the demo ends
 * within a minute.
 */
export function migrations(): Migration[] {
  const routes = (base: string, canary: string) => {
    const host = `${base}.shop.example.com`;
    const first = nginxPair(base, canary, host);
    const second = httpRoute(base, canary, host);
    return { targets: [first.target, second.target], objects: [...first.objects, ...second.objects] };
  };
  const checkout = routes('checkout', 'checkout-svc');
  const payments = routes('payments', 'payments-svc');
  const search = routes('search', 'search-svc');
  return [
    {
      plan: 'checkout-v2',
      canary: 'checkout-svc',
      expected: 'Succeeded',
      atGate: { action: 'promote' },
      startsUnready: true,
      ...checkout,
      spec: (source) => ({
        description: 'Move checkout traffic from the monolith to checkout-svc',
        strategy: 'Canary',
        targets: checkout.targets,
        steps: [{ weight: 10, pause: '2s' }, { weight: 25, pause: '2s' }, { weight: 50, pause: {} }, { weight: 100 }],
        analysis: { interval: '1s', noData: 'hold', ...checks('checkout-svc', source) },
        rollback: { automatic: true, rto: '5s' },
        successCriteria: { bakeTime: '3s' },
      }),
    },
    {
      plan: 'payments-v2',
      canary: 'payments-svc',
      expected: 'RolledBack',
      expectedValidation: 'Passed',
      ...payments,
      spec: (source) => ({
        description: 'Move payments traffic from the monolith to payments-svc',
        strategy: 'Canary',
        targets: payments.targets,
        steps: [{ weight: 10, pause: '2s' }, { weight: 25, pause: '2s' }, { weight: 50, pause: '2s' }, { weight: 100 }],
        analysis: { interval: '1s', noData: 'hold', ...checks('payments-svc', source) },
        // After the rollback, the same checks confirm the monolith carries everything well.
        rollback: { automatic: true, rto: '5s', validation: { duration: '3s' } },
        successCriteria: { bakeTime: '3s' },
      }),
    },
    {
      plan: 'search-v2',
      canary: 'search-svc',
      expected: 'RolledBack',
      // Its checks pass: what the person saw is something no metric here measures.
      atGate: { action: 'rollback', reason: 'support reports search results without prices' },
      ...search,
      spec: (source) => ({
        description: 'Move search traffic from the monolith to search-svc',
        strategy: 'Canary',
        targets: search.targets,
        steps: [{ weight: 10, pause: '2s' }, { weight: 25, pause: {} }, { weight: 100 }],
        analysis: { interval: '1s', noData: 'hold', ...checks('search-svc', source) },
        rollback: { automatic: true, rto: '5s' },
        successCriteria: { bakeTime: '3s' },
      }),
    },
  ];
}

/** The EndpointSlice the EndpointSlice controller would keep for a backend Service (the demo's
 * in-process API server runs no controllers): `ready` ready endpoints. */
export function endpointSlice(service: string, ready: number): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-demo`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: ready }, (_, i) => ({ addresses: [`10.244.0.${i + 1}`], conditions: { ready: true } })),
  };
}

/** Every backend's Service and EndpointSlice: the monolith and each canary, ready unless the
 * migration starts unready. */
export function backendObjects(all: readonly Migration[]): Array<{ ref: ResourceRef; body: KubeObject }> {
  const backends = [{ name: STABLE, ready: 2 }, ...all.map((m) => ({ name: m.canary, ready: m.startsUnready ? 0 : 2 }))];
  return backends.flatMap(({ name, ready }) => [
    { ref: REFS.services, body: { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } } },
    { ref: REFS.endpointslices, body: endpointSlice(name, ready) },
  ]);
}

export function planObject(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: NAMESPACE }, spec };
}
