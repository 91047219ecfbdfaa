// The whole demo in-process, gated on the backends' webhook endpoints (so it runs without a
// Prometheus binary): the real controller must promote the first plan to 100% on both routes and
// roll every route of the second back to 0.
import { runDemo, type DemoResult } from '../../src/demo/main';
import { findSharedCrdDir } from '../../src/localkube/crd';

async function demo(): Promise<{ result: DemoResult; printed: string }> {
  let printed = '';
  const result = await runDemo({ out: { write: (text: string) => (printed += text) }, usePrometheus: false });
  return { result, printed };
}

function expectOutcome({ result, printed }: { result: DemoResult; printed: string }): void {
  const [checkout, payments] = result.migrations;
  try {
    expect(result.checks).toBe('webhook');
    expect(checkout).toMatchObject({ plan: 'checkout-v2', phase: 'Succeeded', weights: [100, 100] });
    expect(payments).toMatchObject({ plan: 'payments-v2', phase: 'RolledBack', weights: [0, 0] });
    expect(payments?.rollback?.recoverySeconds).toBeGreaterThanOrEqual(0);
    expect(result.ok).toBe(true);
  } catch (error) {
    // The run's own account is the quickest way to see why it went another way.
    console.log(printed);
    throw error;
  }
}

describe('make demo', () => {
  it('runs migration 1 to Succeeded at 100% and rolls migration 2 back to 0 on every route', async () => {
    const run = await demo();
    expectOutcome(run);
    // The HTTPRoute CRD comes from ../shared/crds, beside a checkout of this repository.
    expect(run.result.gatewayApi).toBe(findSharedCrdDir() !== undefined);
  }, 120_000);

  it('works without the shared third-party CRDs, on two nginx pairs', async () => {
    const saved = process.env['TRAFFICSHIFT_SHARED_CRDS'];
    process.env['TRAFFICSHIFT_SHARED_CRDS'] = '/nonexistent/shared/crds';
    try {
      const run = await demo();
      expectOutcome(run);
      expect(run.result.gatewayApi).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['TRAFFICSHIFT_SHARED_CRDS'];
      else process.env['TRAFFICSHIFT_SHARED_CRDS'] = saved;
    }
  }, 120_000);
});
