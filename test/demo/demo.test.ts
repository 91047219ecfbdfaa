// The whole demo in-process, gated on the backends' webhook endpoints (so it runs without a
// Prometheus binary): the real controller must promote the first plan to 100% on both routes and
// roll every route of the second back to 0.
import { runDemo, type DemoResult } from '../../src/demo/main';
import { migrations } from '../../src/demo/plans';

async function demo(): Promise<{ result: DemoResult; printed: string }> {
  let printed = '';
  const result = await runDemo({ out: { write: (text: string) => (printed += text) }, usePrometheus: false });
  return { result, printed };
}

function expectOutcome({ result, printed }: { result: DemoResult; printed: string }): void {
  const [checkout, payments, search] = result.migrations;
  try {
    expect(result.checks).toBe('webhook');
    expect(checkout).toMatchObject({ plan: 'checkout-v2', phase: 'Succeeded', weights: [100, 100] });
    expect(payments).toMatchObject({ plan: 'payments-v2', phase: 'RolledBack', weights: [0, 0] });
    expect(payments?.rollback?.recoverySeconds).toBeGreaterThanOrEqual(0);
    // Then the same checks, asked about the stable side, confirmed the monolith for 3s.
    expect(payments?.rollback?.validation).toBe('Passed');
    expect(printed).toMatch(/payments-v2 +RolledBack .*validating monolith: Passed/);
    expect(printed).toContain('monolith validated against the checks: Passed');
    // The person's rollback went through the CLI, as typed, and the CLI said when it was done.
    expect(search).toMatchObject({ plan: 'search-v2', phase: 'RolledBack', weights: [0, 0], rollback: { reason: 'support reports search results without prices' } });
    expect(printed).toContain('$ trafficshift promote checkout-v2 -n shop');
    expect(printed).toContain('$ trafficshift rollback search-v2 --reason "support reports search results without prices" -n shop');
    expect(printed).toMatch(/rolled back shop\/search-v2/);
    expect(result.ok).toBe(true);
  } catch (error) {
    // The run's own account is the quickest way to see why it went another way.
    console.log(printed);
    throw error;
  }
}

describe('make demo', () => {
  it('runs migration 1 to Succeeded at 100% (promoted with the CLI), rolls migration 2 back on its check and migration 3 by a person with the CLI, to 0 on every route, an HTTPRoute among them', async () => {
    // The weights are read back from the route objects, so [100, 100] means the HTTPRoute (the
    // vendored Gateway API CRD, served by the in-process API server) really moved.
    expect(migrations().map((m) => m.targets.map((t) => t.provider))).toStrictEqual([
      ['nginx', 'gatewayAPI'],
      ['nginx', 'gatewayAPI'],
      ['nginx', 'gatewayAPI'],
    ]);
    expectOutcome(await demo());
  }, 120_000);
});
