// Rollback validation end to end: after an automatic rollback, the plan's webhook check runs
// against stable (payload side: stable) for rollback.validation.duration. A healthy stable
// passes it, a broken one fails it at once; either way the plan stays RolledBack at canary 0.
import { waitFor } from '../support/cluster';
import { CATCH_UP_MS } from '../support/deadlines';
import { useE2eRun } from '../support/e2e';
import { createPlan, liveWeight, waitForPhase, waitForStatus, webhookAnalysis } from '../support/plans';
import type { CheckRequest } from '../support/checkServer';
import type { MigrationPlanStatus } from '../../src/plan/schema';

const run = useE2eRun('validation');

/** The check's answer for `name`: the canary breaks from weight 30 on; stable answers `stable`. */
function answers(name: string, stable: number, seen: CheckRequest[]): (req: CheckRequest) => number {
  return (req) => {
    if (req.plan?.name !== name) return 0;
    seen.push(req);
    if (req.side === 'stable') return stable;
    return (req.weight ?? 0) >= 30 ? 1 : 0;
  };
}

async function eventReasons(name: string, wanted: string): Promise<unknown[]> {
  let reasons: unknown[] = [];
  // Events are recorded after the status they tell of, so the last one may still be on its way.
  await waitFor(async () => {
    const { items } = await run.cluster.kube.list({ group: '', version: 'v1', plural: 'events', namespace: run.cluster.namespace }, { fieldSelector: `involvedObject.name=${name}` });
    reasons = items.map((e) => e['reason']);
    return reasons.includes(wanted);
  }, CATCH_UP_MS, `Event ${wanted}`).catch(() => undefined);
  return reasons;
}

const validation = (s: MigrationPlanStatus | undefined) => s?.rollback?.validation;

it('passes a rollback validation against a healthy stable, measuring stable only, with traffic kept on stable', async () => {
  const name = 'healthy';
  const { target } = await run.target('nginx', `${name}-nginx`);
  const seen: CheckRequest[] = [];
  run.checks.valueFor = answers(name, 0.01, seen);
  await createPlan(run.cluster, name, {
    targets: [target],
    steps: [{ weight: 10 }, { weight: 30 }, { weight: 100 }],
    analysis: webhookAnalysis(run.checkUrl),
    rollback: { automatic: true, validation: { duration: '3s' } },
  });

  const rolledBack = await waitForPhase(run.cluster, name, 'RolledBack');
  expect(validation(rolledBack)?.startedAt).toBe(rolledBack.rollback?.completedAt);
  const done = await waitForStatus(run.cluster, name, (s) => validation(s)?.result !== undefined && validation(s)?.result !== 'Running', 'the validation done');
  expect(done.phase).toBe('RolledBack');
  expect(validation(done)).toMatchObject({ result: 'Passed', breachedRounds: 0, message: expect.stringContaining('stable passed every check for 3s') });
  const v = validation(done);
  expect(v?.rounds).toBeGreaterThanOrEqual(3);
  expect(v?.passedRounds).toBe(v?.rounds);
  expect(v?.checks).toEqual([expect.objectContaining({ name: 'smoke', value: 0.01, result: 'Pass' })]);
  expect(Date.parse(v?.completedAt ?? '') - Date.parse(v?.startedAt ?? '')).toBeGreaterThanOrEqual(3000);
  // The stable rounds asked about stable, at canary 0; the canary's record stayed as it was.
  const stableCalls = seen.filter((r) => r.side === 'stable');
  expect(stableCalls.length).toBe(v?.rounds);
  expect(stableCalls.every((r) => r.weight === 0 && r.check === 'smoke')).toBe(true);
  expect(seen.filter((r) => r.side !== 'stable').every((r) => r.side === 'canary')).toBe(true);
  expect(done.lastRound?.verdict).toBe('Fail');
  expect(await liveWeight(run.cluster, target)).toBe(0);
  expect(await eventReasons(name, 'RollbackValidated')).toEqual(expect.arrayContaining(['RolledBack', 'RollbackValidated']));
});

it('fails a rollback validation at once against a broken stable, loudly, and still holds canary 0', async () => {
  const name = 'broken';
  const { target } = await run.target('gatewayAPI', `${name}-route`);
  const seen: CheckRequest[] = [];
  run.checks.valueFor = answers(name, 0.5, seen);
  await createPlan(run.cluster, name, {
    targets: [target],
    steps: [{ weight: 10 }, { weight: 30 }, { weight: 100 }],
    analysis: webhookAnalysis(run.checkUrl),
    rollback: { automatic: true, validation: { duration: '1m' } },
  });

  await waitForPhase(run.cluster, name, 'RolledBack');
  const done = await waitForStatus(run.cluster, name, (s) => validation(s)?.result !== undefined && validation(s)?.result !== 'Running', 'the validation done');
  expect(done.phase).toBe('RolledBack');
  // failureLimit 1 (the default): the first breaching round ends it, long before the minute is up.
  expect(validation(done)).toMatchObject({ result: 'Failed', rounds: 1, passedRounds: 0, breachedRounds: 1, message: expect.stringContaining('smoke=0.5 breaches <= 0.05') });
  expect(Date.parse(validation(done)?.completedAt ?? '') - Date.parse(validation(done)?.startedAt ?? '')).toBeLessThan(30_000);
  expect(await liveWeight(run.cluster, target)).toBe(0);
  expect(await eventReasons(name, 'RollbackValidationFailed')).toEqual(expect.arrayContaining(['RolledBack', 'RollbackValidationFailed']));
});
