// The built-in PromQL, rendered whole for every provider.
import { MigrationPlanSpec, type Target } from '../../src/plan/schema';
import { renderTemplate, TEMPLATE_DOCS, TemplateNotApplicable } from '../../src/checks/templates';

function specWith(target: Target, strategy: 'Canary' | 'BlueGreen' = 'Canary') {
  return MigrationPlanSpec.parse({
    strategy,
    targets: [target],
    steps: strategy === 'Canary' ? [{ weight: 10 }, { weight: 100 }] : [{ weight: 100 }],
  });
}

describe('renderTemplate', () => {
  it('nginx selects canary-routed requests of the main Ingress', () => {
    const spec = specWith({ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } });
    expect({
      errorRate: renderTemplate('error-rate', spec, 'shop'),
      latency: renderTemplate('latency-p99', spec, 'shop'),
    }).toStrictEqual({
      errorRate:
        'sum(rate(nginx_ingress_controller_requests{namespace="shop",ingress="checkout",canary!="",status=~"5.."}[1m])) / ' +
        'sum(rate(nginx_ingress_controller_requests{namespace="shop",ingress="checkout",canary!=""}[1m]))',
      latency:
        'histogram_quantile(0.99, sum by (le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",ingress="checkout",canary!=""}[1m])))',
    });
  });

  it('istio selects the canary host by service name and namespace, latency in seconds', () => {
    const spec = specWith({
      provider: 'istio',
      istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: 'monolith' }, canaryDestination: { host: 'checkout-svc' } },
    });
    expect({
      errorRate: renderTemplate('error-rate', spec, 'shop'),
      latency: renderTemplate('latency-p99', spec, 'shop'),
    }).toStrictEqual({
      errorRate:
        'sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout-svc",response_code=~"5.."}[1m])) / ' +
        'sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout-svc"}[1m]))',
      latency:
        'histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout-svc"}[1m]))) / 1000',
    });
  });

  it.each([
    ['checkout-svc.payments', 'destination_service_namespace="payments",destination_service_name="checkout-svc"'],
    ['checkout-svc.payments.svc.cluster.local', 'destination_service_namespace="payments",destination_service_name="checkout-svc"'],
    ['api.example.com', 'destination_service="api.example.com"'],
  ])('istio host %s is matched as %s', (host, selector) => {
    const spec = specWith({
      provider: 'istio',
      istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: 'monolith' }, canaryDestination: { host } },
    });
    expect(renderTemplate('latency-p99', spec, 'shop')).toStrictEqual(
      `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",${selector}}[1m]))) / 1000`,
    );
  });

  it('istio subsets of one host are told apart by destination_version', () => {
    const spec = specWith({
      provider: 'istio',
      istio: {
        virtualService: 'reviews',
        route: 'primary',
        stableDestination: { host: 'reviews', subset: 'v1' },
        canaryDestination: { host: 'reviews', subset: 'v2' },
      },
    });
    expect(renderTemplate('error-rate', spec, 'shop')).toStrictEqual(
      'sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="reviews",destination_version="v2",response_code=~"5.."}[1m])) / ' +
        'sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="reviews",destination_version="v2"}[1m]))',
    );
  });

  it('gatewayAPI selects the canary backend by its Envoy cluster (Contour naming), latency in seconds', () => {
    const spec = specWith({ provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } });
    expect({
      errorRate: renderTemplate('error-rate', spec, 'shop'),
      latency: renderTemplate('latency-p99', spec, 'shop'),
    }).toStrictEqual({
      errorRate:
        'sum(rate(envoy_cluster_upstream_rq_xx{envoy_cluster_name=~"shop_checkout-svc_[0-9a-zA-Z-]+",envoy_response_code_class="5"}[1m])) / ' +
        'sum(rate(envoy_cluster_upstream_rq_xx{envoy_cluster_name=~"shop_checkout-svc_[0-9a-zA-Z-]+"}[1m]))',
      latency:
        'histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"shop_checkout-svc_[0-9a-zA-Z-]+"}[1m]))) / 1000',
    });
  });

  it('gatewayAPI escapes regex metacharacters of the backend name', () => {
    const spec = specWith({ provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout.v2' } });
    expect(renderTemplate('latency-p99', spec, 'shop')).toStrictEqual(
      'histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"shop_checkout\\\\.v2_[0-9a-zA-Z-]+"}[1m]))) / 1000',
    );
  });

  it('smi uses the application metrics of the canary Service', () => {
    const spec = specWith({ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } });
    expect({
      errorRate: renderTemplate('error-rate', spec, 'shop'),
      latency: renderTemplate('latency-p99', spec, 'shop'),
    }).toStrictEqual({
      errorRate:
        'sum(rate(http_requests_total{namespace="shop",service="checkout-svc",code=~"5.."}[1m])) / ' +
        'sum(rate(http_requests_total{namespace="shop",service="checkout-svc"}[1m]))',
      latency: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="checkout-svc"}[1m])))',
    });
  });

  it('service selects the canary pods by the canarySelector labels, sanitized and sorted', () => {
    const spec = specWith(
      { provider: 'service', service: { name: 'checkout', stableSelector: { app: 'monolith' }, canarySelector: { 'app.kubernetes.io/name': 'checkout-svc', app: 'checkout' } } },
      'BlueGreen',
    );
    expect(renderTemplate('error-rate', spec, 'shop')).toStrictEqual(
      'sum(rate(http_requests_total{namespace="shop",app="checkout",app_kubernetes_io_name="checkout-svc",code=~"5.."}[1m])) / ' +
        'sum(rate(http_requests_total{namespace="shop",app="checkout",app_kubernetes_io_name="checkout-svc"}[1m]))',
    );
  });

  describe('for the stable side (a rollback validation)', () => {
    it('nginx selects the main Ingress requests stable served', () => {
      const spec = specWith({ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } });
      expect(renderTemplate('error-rate', spec, 'shop', 'stable')).toStrictEqual(
        'sum(rate(nginx_ingress_controller_requests{namespace="shop",ingress="checkout",canary="",status=~"5.."}[1m])) / ' +
          'sum(rate(nginx_ingress_controller_requests{namespace="shop",ingress="checkout",canary=""}[1m]))',
      );
    });
    it('istio selects the stable host, and the stable subset when both share a host', () => {
      const hosts = specWith({
        provider: 'istio',
        istio: { virtualService: 'checkout', route: 'primary', stableDestination: { host: 'monolith' }, canaryDestination: { host: 'checkout-svc.shop.svc.cluster.local' } },
      });
      expect(renderTemplate('latency-p99', hosts, 'shop', 'stable')).toStrictEqual(
        'histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service_name="monolith"}[1m]))) / 1000',
      );
      const subsets = specWith({
        provider: 'istio',
        istio: { virtualService: 'reviews', route: 'primary', stableDestination: { host: 'reviews', subset: 'v1' }, canaryDestination: { host: 'reviews', subset: 'v2' } },
      });
      expect(renderTemplate('error-rate', subsets, 'shop', 'stable')).toContain('destination_service_name="reviews",destination_version="v1"}');
    });
    it('gatewayAPI and smi select the stable backend', () => {
      const gw = specWith({ provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } });
      expect(renderTemplate('latency-p99', gw, 'shop', 'stable')).toStrictEqual(
        'histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"shop_monolith_[0-9a-zA-Z-]+"}[1m]))) / 1000',
      );
      const smi = specWith({ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } });
      expect(renderTemplate('latency-p99', smi, 'shop', 'stable')).toStrictEqual(
        'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="monolith"}[1m])))',
      );
    });
    it('service selects the stable pods by the stableSelector labels', () => {
      const spec = specWith({ provider: 'service', service: { name: 'checkout', stableSelector: { 'app.kubernetes.io/name': 'monolith' }, canarySelector: { app: 'checkout' } } }, 'BlueGreen');
      expect(renderTemplate('error-rate', spec, 'shop', 'stable')).toStrictEqual(
        'sum(rate(http_requests_total{namespace="shop",app_kubernetes_io_name="monolith",code=~"5.."}[1m])) / ' +
          'sum(rate(http_requests_total{namespace="shop",app_kubernetes_io_name="monolith"}[1m]))',
      );
    });
  });

  it('escapes quotes and backslashes in label values', () => {
    const spec = specWith(
      { provider: 'service', service: { name: 'checkout', stableSelector: { app: 'monolith' }, canarySelector: { app: 'a"b\\c' } } },
      'BlueGreen',
    );
    expect(renderTemplate('latency-p99', spec, 'shop')).toStrictEqual(
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",app="a\\"b\\\\c"}[1m])))',
    );
  });

  it('uses the first target when several move in lockstep', () => {
    const spec = MigrationPlanSpec.parse({
      targets: [
        { provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } },
        { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } },
      ],
      steps: [{ weight: 100 }],
    });
    expect(renderTemplate('latency-p99', spec, 'shop')).toStrictEqual(
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="checkout-svc"}[1m])))',
    );
  });

  it('refuses a target whose provider block is missing', () => {
    const spec = specWith({ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } });
    const broken = { ...spec, targets: [{ provider: 'smi' as const }] };
    expect(() => renderTemplate('error-rate', broken, 'shop')).toThrow(TemplateNotApplicable);
  });
});

describe('TEMPLATE_DOCS', () => {
  it('lists every provider and template once, with placeholders', () => {
    expect(TEMPLATE_DOCS.map((d) => `${d.provider}/${d.template}`)).toStrictEqual([
      'nginx/error-rate', 'nginx/latency-p99',
      'gatewayAPI/error-rate', 'gatewayAPI/latency-p99',
      'istio/error-rate', 'istio/latency-p99',
      'smi/error-rate', 'smi/latency-p99',
      'service/error-rate', 'service/latency-p99',
    ]);
    expect(TEMPLATE_DOCS.find((d) => d.provider === 'nginx' && d.template === 'error-rate')?.promql).toStrictEqual(
      'sum(rate(nginx_ingress_controller_requests{namespace="<namespace>",ingress="<nginx.ingress>",canary!="",status=~"5.."}[1m])) / ' +
        'sum(rate(nginx_ingress_controller_requests{namespace="<namespace>",ingress="<nginx.ingress>",canary!=""}[1m]))',
    );
  });
});
