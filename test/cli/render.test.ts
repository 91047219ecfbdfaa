// The pure pieces of the CLI's output: the progress bar, kubectl's ages and columns, the short
// target names of the one-line form, and reading the verb and resource off a failed request.
import { requestOf, serverMessage } from '../../src/cli/failures';
import { age, compactState, progressBar, shortTarget, statusLines, table, truncate } from '../../src/cli/render';
import { planView, type PlanView } from '../../src/steering/view';
import { KubeError } from '../../src/kube';
import { ApiException } from '@kubernetes/client-node';

describe('progressBar', () => {
  it.each([
    [0, 4, '[..........]'],
    [1, 4, '[###.......]'],
    [2, 4, '[#####.....]'],
    [4, 4, '[##########]'],
    [1, 1, '[##########]'],
    [0, 0, '[..........]'],
  ])('%i of %i steps: %s', (done, count, bar) => expect(progressBar(done, count)).toBe(bar));
});

describe('age', () => {
  const now = new Date('2026-05-01T12:00:00Z');
  it.each([
    ['2026-05-01T11:59:55Z', '5s'],
    ['2026-05-01T11:55:30Z', '4m30s'],
    ['2026-05-01T09:00:00Z', '3h'],
    ['2026-04-28T12:00:00Z', '3d'],
  ])('%s is %s ago, as kubectl says', (iso, text) => expect(age(iso, now)).toBe(text));
  it('says so when there is no time', () => expect(age(undefined, now)).toBe('<unknown>'));
});

describe('table', () => {
  it('pads columns three spaces apart, as kubectl does, without trailing spaces', () => {
    expect(table([['NAME', 'PHASE', 'MESSAGE'], ['checkout', 'Progressing', ''], ['a', 'Paused', 'held']])).toStrictEqual([
      'NAME       PHASE         MESSAGE',
      'checkout   Progressing',
      'a          Paused        held',
    ]);
  });
  it('truncate folds lines and marks the cut', () => expect(truncate('one\n  two three', 9)).toBe('one two …'));
});

describe('shortTarget', () => {
  it.each([
    ['gatewayAPI HTTPRoute shop/checkout', 'HTTPRoute/checkout'],
    ['nginx Ingress shop/checkout-canary', 'Ingress/checkout-canary'],
    ['istio VirtualService shop/checkout route primary', 'VirtualService/checkout:primary'],
  ])('%s -> %s', (target, short) => expect(shortTarget({ target, provider: 'nginx', weight: 0 })).toBe(short));
});

describe('requestOf and serverMessage', () => {
  const failure = (method: string, path: string, status: number, body: object): KubeError =>
    new KubeError(status, 'Forbidden', `${method} ${path}: ${status} Forbidden: x`, { cause: new ApiException(status, 'request failed', JSON.stringify(body), {}) });

  it.each([
    ['PATCH', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans/checkout', { verb: 'patch', resource: 'migrationplans.trafficshift.io', namespace: 'shop', name: 'checkout' }],
    ['GET', '/apis/trafficshift.io/v1alpha1/namespaces/shop/migrationplans', { verb: 'list', resource: 'migrationplans.trafficshift.io', namespace: 'shop' }],
    ['GET', '/apis/trafficshift.io/v1alpha1/migrationplans', { verb: 'list', resource: 'migrationplans.trafficshift.io' }],
    ['GET', '/api/v1/namespaces/shop/services/checkout', { verb: 'get', resource: 'services', namespace: 'shop', name: 'checkout' }],
  ])('%s %s', (method, path, info) => expect(requestOf(failure(method, path, 403, {}))).toStrictEqual(info));

  it('takes the message of the Status the server answered', () => {
    expect(serverMessage(failure('GET', '/api/v1/namespaces/a/pods', 403, { kind: 'Status', message: 'pods is forbidden: User "u" cannot list resource "pods"' }))).toBe(
      'pods is forbidden: User "u" cannot list resource "pods"',
    );
  });
  it('else strips the request and status from its own message', () => {
    expect(serverMessage(new KubeError(500, 'InternalError', 'GET /api/v1/pods: 500 InternalError: boom'))).toBe('boom');
  });
});

describe('hooks in the status view', () => {
  const plan = {
    apiVersion: 'trafficshift.io/v1alpha1',
    kind: 'MigrationPlan',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: {
      targets: [{ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }],
      steps: [{ weight: 10 }, { weight: 100 }],
      hooks: [{ name: 'journeys', when: 'afterStep', webhook: { url: 'http://checks.shop/journeys' } }],
    },
    status: {
      phase: 'RollingBack',
      currentStep: 0,
      canaryWeight: 10,
      hooks: [
        { name: 'journeys', when: 'afterStep', step: 0, result: 'Fail', at: '2026-05-01T11:59:50Z', attempts: 3, message: 'webhook http://checks.shop/journeys answered 503' },
        { name: 'report', when: 'afterRollback', result: 'Pass', at: '2026-05-01T11:59:55Z', attempts: 1 },
      ],
    },
  };
  const now = new Date('2026-05-01T12:00:00Z');

  it('lists each hook result in `status` and names the failed ones in the one-line form', () => {
    const view = planView(plan);
    expect(view.hooks).toHaveLength(2);
    const lines = statusLines(view, now);
    const at = lines.indexOf('Hooks:');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 4)).toStrictEqual([
      '  NAME       WHEN            STEP   RESULT   ATTEMPTS   AGE   MESSAGE',
      '  journeys   afterStep       1      Fail     3          10s   webhook http://checks.shop/journeys answered 503',
      '  report     afterRollback   -      Pass     1          5s',
    ]);
    expect(compactState(view)).toContain('hooks failed journeys(afterStep step 1)');
  });

  it('shows no Hooks section for a plan without hook results', () => {
    const view = planView({ ...plan, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 10 } });
    expect(view.hooks).toEqual([]);
    expect(statusLines(view, now)).not.toContain('Hooks:');
  });
});

describe('statusLines', () => {
  const now = new Date('2026-05-01T12:00:00Z');
  it('shows a rollback validation against stable with its checks', () => {
    const view: PlanView = {
      namespace: 'shop', name: 'checkout-v2', phase: 'RolledBack', paused: false,
      step: { number: 2, count: 3, label: 'step 2/3: canary 30%', weight: 0, promotionGate: false },
      canaryWeight: 0, targets: [], checks: [], hooks: [], events: [], pendingRequests: {}, conditions: [],
      rollback: {
        reason: 'error-rate breached', triggeredAt: '2026-05-01T11:58:00Z', completedAt: '2026-05-01T11:58:01Z', recoverySeconds: 1,
        validation: {
          result: 'Failed', startedAt: '2026-05-01T11:58:01Z', completedAt: '2026-05-01T11:58:31Z', rounds: 1, passedRounds: 0, breachedRounds: 1,
          checks: [{ name: 'error-rate', severity: 'critical', value: 0.2, threshold: '<= 0.05', result: 'Fail', consecutiveFailures: 1, at: '2026-05-01T11:58:31Z' }],
          message: 'stable failed its checks: error-rate=0.2 breaches <= 0.05 (1/1) (0/1 rounds passed)',
        },
      },
    };
    const lines = statusLines(view, now);
    expect(lines).toContain('Validation:  Failed against stable (0/1 rounds passed): stable failed its checks: error-rate=0.2 breaches <= 0.05 (1/1) (0/1 rounds passed)');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}error-rate +0\.2 +<= 0\.05 +Fail +89s$/));
  });

  it('shows what the readiness gate saw of each canary backend, and stable\'s ready endpoints after a rollback', () => {
    const view = planView({
      apiVersion: 'trafficshift.io/v1alpha1',
      kind: 'MigrationPlan',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { targets: [{ provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } }], steps: [{ weight: 10 }, { weight: 100 }] },
      status: {
        phase: 'RolledBack',
        currentStep: 0,
        canaryWeight: 0,
        readiness: { stableReadyAtStart: 3, canary: { weight: 10, backends: [{ service: 'shop/checkout-v2', ready: 0, required: 1 }, { service: 'payments.example.com', external: true }] } },
        rollback: { reason: 'incident', triggeredAt: '2026-05-01T11:59:00Z', completedAt: '2026-05-01T11:59:01Z', recoverySeconds: 1, stableReadyEndpoints: 0 },
      },
    });
    const lines = statusLines(view, now);
    expect(lines).toContain('Readiness:   canary 10%: shop/checkout-v2 0/1 ready, payments.example.com outside the cluster (not counted)');
    expect(lines).toContainEqual(expect.stringMatching(/^Rollback: +"incident" \(60s ago, done in 1s, stable has 0 ready endpoints \(!\)\)$/));
  });
});
