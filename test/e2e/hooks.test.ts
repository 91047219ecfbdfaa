// Hooks end to end (spec.hooks): the controller process calls the test's own HTTP receiver. A
// failing afterStep smoke test rolls the plan back like a failing critical check, and an
// afterRollback hook reports it once; a failing beforeStep hook keeps the next step's weight off
// every target until it passes.
import { useE2eRun } from '../support/e2e';
import type { CheckRequest } from '../support/checkServer';
import { condition, createPlan, liveWeight, observeFor, request, waitForPhase, waitForStatus, waitForWeight } from '../support/plans';

const run = useE2eRun('hooks');

const stepNumber = (req: CheckRequest): number | undefined => (typeof req.step === 'object' ? req.step.number : undefined);
const callsOf = (plan: string, hook: string): CheckRequest[] => run.checks.received.filter((r) => r.plan?.name === plan && r.hook?.name === hook);

it('rolls back when the afterStep smoke test fails at step 2, then calls the afterRollback hook once', async () => {
  const name = 'smoke';
  const { target, recorder } = await run.target('gatewayAPI', `${name}-route`);
  // Journeys pass at step 1 (canary 10%) and fail from step 2 (canary 30%) on.
  run.checks.statusFor = (req) => (req.plan?.name === name && req.hook?.name === 'journeys' && (req.weight ?? 0) >= 30 ? 503 : 200);
  await createPlan(run.cluster, name, {
    targets: [target],
    steps: [{ weight: 10 }, { weight: 30 }, { weight: 100 }],
    hooks: [
      { name: 'journeys', when: 'afterStep', webhook: { url: `${run.checkUrl}/journeys`, timeout: '2s' }, retries: 1 },
      { name: 'report', when: 'afterRollback', webhook: { url: `${run.checkUrl}/report` } },
    ],
    rollback: { automatic: true },
  });

  const rolledBack = await waitForPhase(run.cluster, name, 'RolledBack');
  expect(rolledBack.rollback?.reason).toContain('hook journeys failed at step 2/3');
  expect(await liveWeight(run.cluster, target)).toBe(0);
  await waitForWeight(run.cluster, target, 0);
  expect(recorder.weights).toEqual([0, 10, 30, 0]);

  const status = await waitForStatus(run.cluster, name, (s) => s?.hooks?.some((h) => h.name === 'report') === true, 'the afterRollback hook recorded');
  expect(status.hooks).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'journeys', when: 'afterStep', step: 0, result: 'Pass' }),
      expect.objectContaining({ name: 'journeys', when: 'afterStep', step: 1, result: 'Fail', attempts: 2, message: expect.stringContaining('answered 503') }),
      expect.objectContaining({ name: 'report', when: 'afterRollback', result: 'Pass' }),
    ]),
  );
  // The journeys hook ran once at step 1 and twice (one retry) at step 2; the report once, about stable.
  expect(callsOf(name, 'journeys').map((r) => stepNumber(r))).toEqual([1, 2, 2]);
  await observeFor(2_000);
  const reports = callsOf(name, 'report');
  expect(reports).toHaveLength(1);
  expect(reports[0]).toMatchObject({ apiVersion: 'trafficshift.io/hook/v1', side: 'stable', weight: 0, hook: { name: 'report', when: 'afterRollback' } });
  expect(recorder.weights).toEqual([0, 10, 30, 0]);
});

it('keeps the next step off every target while its beforeStep hook fails, and writes it once the hook passes', async () => {
  const name = 'gated';
  const { target, recorder } = await run.target('nginx', `${name}-ing`);
  let loadReady = false;
  run.checks.statusFor = (req) => (req.plan?.name === name && req.hook?.name === 'load' && stepNumber(req) === 2 && !loadReady ? 500 : 200);
  await createPlan(run.cluster, name, {
    targets: [target],
    steps: [{ weight: 10 }, { weight: 50 }, { weight: 100 }],
    // No checks: the interval is how often a failed beforeStep hook is called again.
    analysis: { interval: '1s' },
    hooks: [{ name: 'load', when: 'beforeStep', webhook: { url: `${run.checkUrl}/load`, timeout: '2s' }, retries: 0 }],
  });

  const holding = await waitForStatus(run.cluster, name, (s) => s?.phase === 'Holding' && condition(s, 'Progressing')?.reason === 'HookFailed', 'Holding on the failed beforeStep hook');
  expect(holding.currentStep).toBe(1);
  expect(condition(holding, 'Progressing')?.message).toContain('hook load failed before step 2/3');
  expect(await liveWeight(run.cluster, target)).toBe(10);
  // Called again every interval, and still nothing above step 1 reaches the target.
  await observeFor(3_000);
  expect(callsOf(name, 'load').filter((r) => stepNumber(r) === 2).length).toBeGreaterThanOrEqual(2);
  expect(await liveWeight(run.cluster, target)).toBe(10);
  expect(recorder.weights).toEqual([0, 10]);

  loadReady = true;
  await waitForPhase(run.cluster, name, 'Succeeded');
  await waitForWeight(run.cluster, target, 100);
  expect(recorder.weights).toEqual([0, 10, 50, 100]);
  expect(callsOf(name, 'load').map((r) => r.weight)).toEqual(expect.arrayContaining([10, 50, 100]));
});

it('never lets a hanging hook delay a rollback: the request interrupts the call and stable is written at once', async () => {
  const name = 'hanging';
  const { target, recorder } = await run.target('istio', `${name}-vs`);
  // Step 1's hook answers at once; step 2's hangs for far longer than the test waits.
  run.checks.statusFor = () => 200;
  run.checks.delayFor = (req) => (req.plan?.name === name && stepNumber(req) === 2 ? 60_000 : 0);
  try {
    await createPlan(run.cluster, name, {
      targets: [target],
      steps: [{ weight: 20 }, { weight: 100 }],
      hooks: [{ name: 'load', when: 'beforeStep', webhook: { url: `${run.checkUrl}/load`, timeout: '5m' }, retries: 0 }],
    });
    await waitForWeight(run.cluster, target, 20);
    await waitForStatus(run.cluster, name, () => run.checks.inFlight > 0 && callsOf(name, 'load').some((r) => stepNumber(r) === 2), 'the step 2 hook under way');
    const asked = Date.now();
    await request(run.cluster, name, 'rollback', 'hook hangs');
    await waitForWeight(run.cluster, target, 0);
    expect(Date.now() - asked).toBeLessThan(10_000);
    const status = await waitForPhase(run.cluster, name, 'RolledBack');
    expect(status.rollback?.reason).toBe('hook hangs');
    // The interrupted call is not recorded as the hook's result.
    expect(status.hooks?.some((h) => h.step === 1)).toBe(false);
    expect(recorder.weights).toEqual([0, 20, 0]);
  } finally {
    run.checks.delayFor = undefined;
  }
});
