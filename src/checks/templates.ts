// Built-in PromQL for `template: error-rate | latency-p99`, chosen by the provider of the plan's
// first target (targets move in lockstep, so the first one speaks for all). Each provider's
// traffic is measured where that provider's data plane reports it, selecting the canary side only
// (or, for a rollback validation, the stable side only, by the same labels with the stable names):
//
// - nginx: ingress-nginx's own metrics. Its Lua monitor labels every request with the *main*
//   Ingress's name (`ingress`, the location that served it) and, when the canary Ingress's
//   upstream was picked, the canary upstream's name (`canary`, "" otherwise). So the canary's
//   traffic is `ingress="<stable ingress>", canary!=""` (rootfs/etc/nginx/lua/monitor.lua).
// - istio: Istio's standard metrics reported by the destination's sidecar, selected by the canary
//   host's service name and namespace. When stable and canary share one host and differ by
//   subset, the subset's name is matched against `destination_version` (Istio's convention that
//   a subset is named after the pods' `version` label).
// - gatewayAPI: Envoy cluster stats in Contour's naming, where every backend Service is its own
//   cluster with the stat name `<namespace>_<service>_<port>`. Envoy Gateway's default puts all
//   backendRefs of a rule into one cluster (`httproute/<ns>/<route>/rule/<n>`), so it has no
//   per-backend stats: there, write a `query` against the application's own metrics.
// - smi, service: the application's own `http_requests_total` / `http_request_duration_seconds`
//   (the names most client libraries use), with the `namespace` and `service` target labels that
//   the Prometheus Operator's ServiceMonitor adds. A `service` target switches one Service's
//   selector, so its canary is selected by the canarySelector's labels instead (carry them onto
//   the series with the ServiceMonitor's podTargetLabels).
//
// The rate window is a fixed 1m: four samples at the common 15s scrape interval, which rate()
// needs for a stable value; shorter windows return nothing between scrapes. A check that needs a
// different window writes its own `query`.
import type { MigrationPlanSpec, ProviderName, Target } from '../plan/schema';
import { PROVIDERS, TEMPLATES } from '../plan/schema';

export type TemplateName = (typeof TEMPLATES)[number];

export const RATE_WINDOW = '1m';

type Side = 'canary' | 'stable';

export class TemplateNotApplicable extends Error {
  override readonly name = 'TemplateNotApplicable';
}

/** A data plane's metric names: requests counted with an error matcher, and a latency histogram. */
interface MetricFamily {
  requests: string;
  errorMatcher: string;
  latencyBuckets: string;
  /** Divide the quantile by this to get seconds (1000 for histograms in milliseconds). */
  latencyDivisor: number;
}

const FAMILY: Record<ProviderName, MetricFamily> = {
  nginx: {
    requests: 'nginx_ingress_controller_requests',
    errorMatcher: 'status=~"5.."',
    latencyBuckets: 'nginx_ingress_controller_request_duration_seconds_bucket',
    latencyDivisor: 1,
  },
  istio: {
    requests: 'istio_requests_total',
    errorMatcher: 'response_code=~"5.."',
    latencyBuckets: 'istio_request_duration_milliseconds_bucket',
    latencyDivisor: 1000,
  },
  gatewayAPI: {
    requests: 'envoy_cluster_upstream_rq_xx',
    errorMatcher: 'envoy_response_code_class="5"',
    latencyBuckets: 'envoy_cluster_upstream_rq_time_bucket',
    latencyDivisor: 1000,
  },
  smi: {
    requests: 'http_requests_total',
    errorMatcher: 'code=~"5.."',
    latencyBuckets: 'http_request_duration_seconds_bucket',
    latencyDivisor: 1,
  },
  service: {
    requests: 'http_requests_total',
    errorMatcher: 'code=~"5.."',
    latencyBuckets: 'http_request_duration_seconds_bucket',
    latencyDivisor: 1,
  },
};

/** `selector` is the inside of `{...}` that picks the canary's series. */
function errorRate(f: MetricFamily, selector: string): string {
  return `sum(rate(${f.requests}{${selector},${f.errorMatcher}}[${RATE_WINDOW}])) / sum(rate(${f.requests}{${selector}}[${RATE_WINDOW}]))`;
}

function latencyP99(f: MetricFamily, selector: string): string {
  const quantile = `histogram_quantile(0.99, sum by (le) (rate(${f.latencyBuckets}{${selector}}[${RATE_WINDOW}])))`;
  return f.latencyDivisor === 1 ? quantile : `${quantile} / ${f.latencyDivisor}`;
}

const BUILD: Record<TemplateName, (f: MetricFamily, selector: string) => string> = {
  'error-rate': errorRate,
  'latency-p99': latencyP99,
};

/** A PromQL double-quoted string literal's content. */
function quote(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A regex-literal fragment inside a PromQL string: RE2 metacharacters escaped, then quoted. */
function quoteRegexLiteral(value: string): string {
  return quote(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

/** Kubernetes label keys (`app.kubernetes.io/name`) as Prometheus relabelling spells them. */
function promLabelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function matchers(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([label, value]) => `${label}="${quote(value)}"`).join(',');
}

/** `checkout-svc`, `checkout-svc.shop` or `checkout-svc.shop.svc.cluster.local` -> name and
 * namespace; any other host (a ServiceEntry's `api.example.com`) is matched whole. */
function istioHostMatchers(host: string, planNamespace: string): Array<[string, string]> {
  if (!host.includes('.')) return [['destination_service_namespace', planNamespace], ['destination_service_name', host]];
  const inCluster = /^([^.]+)\.([^.]+)(?:\.svc(?:\..+)?)?$/.exec(host);
  if (inCluster) return [['destination_service_namespace', inCluster[2] as string], ['destination_service_name', inCluster[1] as string]];
  return [['destination_service', host]];
}

function missingBlock(t: Target): never {
  throw new TemplateNotApplicable(`target has provider ${t.provider} but no ${t.provider} block`);
}

/** The label selector for one side's series of a target: the canary's while a plan runs, the
 * stable backend's in a rollback validation (the same matchers with the stable names). */
function sideSelector(t: Target, namespace: string, side: Side): string {
  const stable = side === 'stable';
  switch (t.provider) {
    case 'nginx': {
      const nginx = t.nginx ?? missingBlock(t);
      // `canary` is the canary upstream's name when it served the request, "" when stable did.
      return `${matchers([['namespace', namespace], ['ingress', nginx.ingress]])},canary${stable ? '=' : '!='}""`;
    }
    case 'istio': {
      const istio = t.istio ?? missingBlock(t);
      const [mine, other] = stable ? [istio.stableDestination, istio.canaryDestination] : [istio.canaryDestination, istio.stableDestination];
      const pairs: Array<[string, string]> = [['reporter', 'destination'], ...istioHostMatchers(mine.host, namespace)];
      if (mine.subset !== undefined && mine.host === other.host) pairs.push(['destination_version', mine.subset]);
      return matchers(pairs);
    }
    case 'gatewayAPI': {
      const gw = t.gatewayAPI ?? missingBlock(t);
      const backend = stable ? gw.stableBackend : gw.canaryBackend;
      return `envoy_cluster_name=~"${quoteRegexLiteral(`${namespace}_${backend}_`)}[0-9a-zA-Z-]+"`;
    }
    case 'smi': {
      const smi = t.smi ?? missingBlock(t);
      return matchers([['namespace', namespace], ['service', stable ? smi.stableBackend : smi.canaryBackend]]);
    }
    case 'service': {
      const svc = t.service ?? missingBlock(t);
      const labels = Object.entries(stable ? svc.stableSelector : svc.canarySelector)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [promLabelName(k), v] as const);
      return matchers([['namespace', namespace], ...labels]);
    }
  }
}

/** The PromQL of a built-in template for a plan in `namespace`, measuring `side` (the canary
 * unless said otherwise). Throws TemplateNotApplicable. */
export function renderTemplate(template: TemplateName, spec: MigrationPlanSpec, namespace: string, side: Side = 'canary'): string {
  const target = spec.targets[0];
  if (target === undefined) throw new TemplateNotApplicable(`template ${template} needs a target, and the plan has none`);
  return BUILD[template](FAMILY[target.provider], sideSelector(target, namespace, side));
}

/** The same selectors with placeholders, for the README's table. */
const DOC_SELECTOR: Record<ProviderName, string> = {
  nginx: 'namespace="<namespace>",ingress="<nginx.ingress>",canary!=""',
  istio: 'reporter="destination",destination_service_namespace="<namespace>",destination_service_name="<canaryDestination.host>"',
  gatewayAPI: 'envoy_cluster_name=~"<namespace>_<canaryBackend>_[0-9a-zA-Z-]+"',
  smi: 'namespace="<namespace>",service="<canaryBackend>"',
  service: 'namespace="<namespace>",<canarySelector labels>',
};

export interface TemplateDoc {
  provider: ProviderName;
  template: TemplateName;
  promql: string;
}

export const TEMPLATE_DOCS: readonly TemplateDoc[] = PROVIDERS.flatMap((provider) =>
  TEMPLATES.map((template) => ({ provider, template, promql: BUILD[template](FAMILY[provider], DOC_SELECTOR[provider]) })),
);
