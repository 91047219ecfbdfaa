// Progress summaries (a notification's `every`) and the snapshot notify actions carry. The clock
// lives in the status, so a restarted controller or a new leader sends neither twice nor never.
import { decide, type Decision } from '../../src/engine';
import type { MigrationPlanStatus } from '../../src/plan/schema';
import { at, canary, iso, notifications, obs, weights } from './fixtures';

const gated = (notificationList: unknown[]) =>
  canary({ steps: [{ weight: 10, pause: {} }, { weight: 100 }], analysis: undefined, successCriteria: undefined, notifications: notificationList });
const every15m = gated([{ url: 'https://chat.example/hook', events: ['Started', 'RolledBack', 'Succeeded'], every: '15m' }]);
const progress = (d: Decision) => d.actions.find((a) => a.kind === 'notify' && a.event === 'Progress');

/** Started at 0, the 10% step landed at 1: waiting for promotion. */
function waiting(spec = every15m): MigrationPlanStatus {
  const started = decide(spec, undefined, obs(0));
  expect(notifications(started)).toEqual(['Started']);
  const landed = decide(spec, started.status, obs(1, { targets: weights(10, 10) }));
  expect(landed.status.phase).toBe('WaitingForPromotion');
  return landed.status;
}

describe('progress notifications', () => {
  it('count from the start of the run, once per interval, and ask to be called when one is due', () => {
    const status = waiting();
    expect(status.progressNotificationsSince).toBe(iso(0));
    const before = decide(every15m, status, obs(899, { targets: weights(10, 10) }));
    expect(progress(before)).toBeUndefined();
    expect(before.nextEvaluationAt).toBe(at(900));

    const due = decide(every15m, before.status, obs(900, { targets: weights(10, 10) }));
    expect(progress(due)).toMatchObject({ event: 'Progress', notifications: [0], message: expect.stringContaining('WaitingForPromotion at step 1/2: canary 10%') });
    expect(due.status.lastProgressNotificationAt).toBe(iso(900));
    expect(due.nextEvaluationAt).toBe(at(1800));

    // The controller's next pass, or another reconcile in the same interval: nothing more.
    const again = decide(every15m, due.status, obs(901, { targets: weights(10, 10) }));
    expect(progress(again)).toBeUndefined();
    expect(decide(every15m, again.status, obs(1799, { targets: weights(10, 10) })).actions.filter((a) => a.kind === 'notify')).toEqual([]);
  });

  it('after a restart that missed a due time, one summary, then back on the interval', () => {
    const status: MigrationPlanStatus = { ...waiting(), lastProgressNotificationAt: iso(900) };
    const late = decide(every15m, status, obs(2000, { targets: weights(10, 10) }));
    expect(notifications(late)).toEqual(['Progress']);
    expect(late.nextEvaluationAt).toBe(at(2700));
    expect(notifications(decide(every15m, late.status, obs(2001, { targets: weights(10, 10) })))).toEqual([]);
  });

  it('a status another replica wrote with this interval\'s summary sends nothing', () => {
    const status: MigrationPlanStatus = { ...waiting(), lastProgressNotificationAt: iso(900) };
    expect(notifications(decide(every15m, status, obs(1000, { targets: weights(10, 10) })))).toEqual([]);
  });

  it('each entry on its own interval', () => {
    const spec = gated([
      { url: 'https://chat.example/a', events: ['Started'], every: '15m' },
      { url: 'https://chat.example/b', events: ['Started'] },
      { url: 'https://chat.example/c', events: ['Started'], every: '1h' },
    ]);
    let status = waiting(spec);
    const sent: Array<[number, number[] | undefined]> = [];
    for (let sec = 60; sec <= 3600; sec += 60) {
      const d = decide(spec, status, obs(sec, { targets: weights(10, 10) }));
      const p = progress(d);
      if (p?.kind === 'notify') sent.push([sec, p.notifications]);
      status = d.status;
    }
    expect(sent).toEqual([[900, [0]], [1800, [0]], [2700, [0]], [3600, [0, 2]]]);
  });

  it('stop when the plan leaves the running phases', () => {
    const status = waiting();
    const rollingBack = decide(every15m, status, obs(100, { targets: weights(10, 10), requests: { rollback: { value: 'stop' } } }));
    expect(rollingBack.status.phase).toBe('RollingBack');
    expect(rollingBack.status.progressNotificationsSince).toBeUndefined();
    expect(rollingBack.status.lastProgressNotificationAt).toBeUndefined();
    // A rollback slow to land is no progress to report (its own alerts cover it).
    const stuck = decide(every15m, rollingBack.status, obs(2000, { targets: weights(10, 0) }));
    expect(stuck.status.phase).toBe('RollingBack');
    expect(notifications(stuck)).toEqual([]);
    const rolledBack = decide(every15m, stuck.status, obs(2001, { targets: weights(0, 0) }));
    expect(rolledBack.status.phase).toBe('RolledBack');
    expect(notifications(rolledBack)).toEqual(['RtoMissed', 'RolledBack']);
    expect(rolledBack.nextEvaluationAt).toBeUndefined();
  });

  it('leave a plan without `every` untouched', () => {
    const spec = gated([{ url: 'https://chat.example/hook', events: ['Started'] }]);
    const started = decide(spec, undefined, obs(0));
    expect(started.status.progressNotificationsSince).toBeUndefined();
    const landed = decide(spec, started.status, obs(1, { targets: weights(10, 10) }));
    expect(landed.nextEvaluationAt).toBeUndefined();
  });
});

describe('notify actions carry a snapshot', () => {
  it('of the phase, step, each target\'s weight and the checks', () => {
    const d = decide(canary(), undefined, obs(0));
    const started = d.actions.find((a) => a.kind === 'notify');
    expect(started).toMatchObject({
      event: 'Started',
      snapshot: {
        phase: 'Progressing',
        step: 'step 1/4: canary 5%',
        canaryWeight: 0,
        targets: [
          { provider: 'nginx', name: 'checkout-canary', weight: 0 },
          { provider: 'gatewayAPI', name: 'checkout', weight: 0 },
        ],
        checks: [],
      },
    });
  });

  it('and the reason of a rollback', () => {
    const status: MigrationPlanStatus = { ...waiting(), checks: [{ name: 'error-rate', severity: 'critical', value: 0.2, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(50) }] };
    const d = decide(every15m, status, obs(100, { targets: weights(10, 10), requests: { rollback: { value: 'pager says no' } } }));
    const rollingBack = d.actions.find((a) => a.kind === 'notify');
    expect(rollingBack).toMatchObject({
      event: 'RollingBack',
      snapshot: { phase: 'RollingBack', reason: expect.stringContaining('pager says no'), checks: [{ name: 'error-rate', value: 0.2, threshold: '<= 0.01', result: 'Fail', severity: 'critical' }] },
    });
  });
});
