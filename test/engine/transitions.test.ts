// One row per transition: the plan's phase and what was observed, then what the engine decided.
import { analysisDue, decide, hooksDue, roundDue, type AnalysisRound, type Decision, type HookResult, type Observations } from '../../src/engine';
import { ENGINE_EVENTS } from '../../src/engine/events';
import { duplicatePairs, TRANSITIONS } from '../../src/engine/transitions';
import type { MigrationPlanSpec, MigrationPlanStatus, Phase, RollbackValidationStatus } from '../../src/plan/schema';
import {
  at, atStep, blueGreen, canary, condition, eventReasons, iso, lastHistory, missing, notifications, obs, round, weights, writes,
} from './fixtures';

interface Row {
  name: string;
  spec?: MigrationPlanSpec | undefined;
  status?: MigrationPlanStatus | undefined;
  obs: Observations;
  phase: Phase;
  writes?: Array<[number, number[]]>;
  /** The row is a request the engine records first and then acts on: its first decision writes
   * nothing and asks to be called again at once; phase, writes and `then` judge the second. */
  recordsFirst?: { event: string };
  then?: (d: Decision, first?: Decision) => void;
}

const plan = canary();
/** The canary and stable backends' ready endpoints, as the controller counts them. */
const ready = (canaryReady: number, stableReady = 10): Observations['readiness'] => ({
  canary: [{ service: 'shop/checkout-svc', ready: canaryReady }],
  stable: [{ service: 'shop/monolith', ready: stableReady }],
});
const noAuto = canary({ rollback: { automatic: false } });
const noDataFail = canary({ analysis: { ...plan.analysis, noData: 'fail', checks: [{ name: 'error-rate', query: 'q', max: 0.01, failureLimit: 1 }] } });
const windowed = canary({ schedule: { timeZone: 'UTC', windows: [{ days: ['Wed'], start: '09:00', end: '10:00' }] } }); // T0 is Wed 10:00 UTC: just closed
const openWindow = canary({ schedule: { timeZone: 'UTC', windows: [{ days: ['Wed'], start: '10:00', end: '11:00' }] } });
const hold = canary({ onDrift: 'Hold' });
const holdNoChecks = canary({ onDrift: 'Hold', analysis: undefined, successCriteria: undefined });
const validatedFields = {
  analysis: {
    interval: '30s',
    prometheus: { address: 'http://prometheus:9090' },
    checks: [
      { name: 'error-rate', query: 'q1', stableQuery: 's1', max: 0.01, severity: 'critical', failureLimit: 2 },
      { name: 'latency', template: 'latency-p99', max: 0.5, severity: 'warning' },
      { name: 'saturation', query: 'q3', max: 0.9, severity: 'info' }, // no stableQuery: left out of the validation
    ],
  },
};
const validated = canary({ ...validatedFields, rollback: { automatic: true, validation: { duration: '2m' } } });
/** RolledBack at 4s with a 2m validation running (rounds at 34, 64, 94 and 124). */
function validating(v: Partial<RollbackValidationStatus> = {}): MigrationPlanStatus {
  return {
    ...rolledBack,
    rollback: { reason: 'error-rate breached', triggeredAt: iso(0), completedAt: iso(4), recoverySeconds: 4, validation: { result: 'Running', startedAt: iso(4), rounds: 0, passedRounds: 0, breachedRounds: 0, ...v } },
  };
}
const stableRound = (sec: number, results: Parameters<typeof round>[1] = {}): AnalysisRound => {
  const r = round(sec, results);
  return { ...r, side: 'stable', outcomes: r.outcomes.filter((o) => o.name !== 'saturation') };
};
const bg = blueGreen();
const bgGate = blueGreen({ steps: [{ weight: 100, pause: {} }] });
const bgPause = blueGreen({ steps: [{ weight: 100, pause: '5m' }] });
const HOOKS = [
  { name: 'load', when: 'beforeStep', webhook: { url: 'http://loadgen.shop/start' } },
  { name: 'journeys', when: 'afterStep', webhook: { url: 'http://checks.shop/journeys', timeout: '30s' } },
  { name: 'report', when: 'afterRollback', webhook: { url: 'http://report.shop/rollback' } },
  { name: 'announce', when: 'afterSuccess', webhook: { url: 'http://report.shop/success' } },
];
const hooked = canary({ hooks: HOOKS });
const hookedNoAuto = canary({ hooks: HOOKS, rollback: { automatic: false } });
const hookResult = (name: string, when: HookResult['when'], step: number, result: 'Pass' | 'Fail', sec: number): HookResult => ({
  name, when, step, result, attempts: result === 'Pass' ? 1 : 3, completedAt: at(sec), ...(result === 'Fail' ? { message: 'webhook answered 503: journey checkout broke' } : {}),
});
const hookRecord = (name: string, when: HookResult['when'], step: number, result: 'Pass' | 'Fail', sec: number) => ({
  name, when, step, result, at: iso(sec), attempts: 1, ...(result === 'Fail' ? { message: 'webhook answered 503' } : {}),
});
const hookNames = (spec: MigrationPlanSpec, status: MigrationPlanStatus, sec: number): string[] => hooksDue(spec, status, at(sec)).map((c) => `${c.hook.name}@${c.step}:${c.weight}/${c.side}`);
/** Step 2 decided (advanced from 5 to 25), its weight not written yet. */
const enteringStep2 = (extra: Partial<MigrationPlanStatus> = {}): MigrationPlanStatus => ({
  ...atStep(1, 25, 0), canaryWeight: 5, stepStartedAt: undefined, hooks: [hookRecord('load', 'beforeStep', 0, 'Pass', 0), hookRecord('journeys', 'afterStep', 0, 'Pass', 0)], ...extra,
});

const rolledBack: MigrationPlanStatus = {
  phase: 'RolledBack', currentStep: 1, canaryWeight: 0, stepStartedAt: iso(0),
  lastRound: { at: iso(0), verdict: 'Fail', message: 'error-rate breached' },
  checks: [{ name: 'error-rate', severity: 'critical', value: 0.2, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 2, at: iso(0) }],
  rollback: { reason: 'error-rate breached', triggeredAt: iso(0), completedAt: iso(3), recoverySeconds: 3 },
  history: [{ at: iso(0), event: 'RollingBack', weight: 0, message: 'rolling back' }],
};

const rows: Row[] = [
  // ---- Pending ----
  {
    name: 'Pending, every target ok -> Progressing at step 1, writes 5 to both targets, Started',
    status: undefined, obs: obs(0), phase: 'Progressing', writes: [[5, [0, 1]]],
    then: (d) => {
      expect(d.status.currentStep).toBe(0);
      expect(notifications(d)).toEqual(['Started']);
      expect(d.status.stepStartedAt).toBeUndefined();
    },
  },
  {
    name: 'Progressing at step 1 after a restart with one target already at 5 -> writes 5 only to the other',
    status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0 }, obs: obs(1, { targets: weights(5, 0) }), phase: 'Progressing', writes: [[5, [1]]],
    then: (d) => expect(eventReasons(d)).not.toContain('DriftRepaired'),
  },
  {
    name: 'Pending, spec.paused -> stays Pending, writes nothing',
    spec: canary({ paused: true }), obs: obs(0), phase: 'Pending', writes: [],
    then: (d) => expect(condition(d, 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused' }),
  },
  {
    name: 'Pending, outside every change window -> stays Pending, OutsideChangeWindow, asks again at the next minute',
    spec: windowed, obs: obs(15), phase: 'Pending', writes: [],
    then: (d) => {
      expect(condition(d, 'Progressing')).toMatchObject({ status: 'False', reason: 'OutsideChangeWindow' });
      expect(d.nextEvaluationAt).toBe(at(60));
    },
  },
  {
    name: 'Pending, inside the change window -> Progressing',
    spec: openWindow, obs: obs(15), phase: 'Progressing', writes: [[5, [0, 1]]],
  },
  {
    name: 'Pending, a target not found -> stays Pending, Stalled TargetNotFound naming the object, writes nothing',
    obs: obs(0, { targets: [missing(), { ok: true, weight: 0 }] }), phase: 'Pending', writes: [],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetNotFound', message: expect.stringContaining('checkout-canary') }),
  },

  // ---- a broken spec never blocks a rollback when the targets are known ----
  {
    name: 'Failed (invalid spec) at canary 40, rollback request, targets readable -> RollingBack and writes 0 to every target',
    spec: undefined, status: { phase: 'Failed', currentStep: 0, canaryWeight: 40 },
    obs: obs(5, { targets: weights(40, 40), specError: { path: 'spec.steps[1].weight', message: 'must be greater' }, requests: { rollback: { value: 'bad canary' } } }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
    then: (d) => expect(d.status.rollback?.reason).toBe('bad canary'),
  },
  {
    name: 'RollingBack with an invalid spec, every target at 0 -> RolledBack',
    spec: undefined, status: { phase: 'RollingBack', currentStep: 0, canaryWeight: 40, rollback: { reason: 'bad canary', triggeredAt: iso(5) } },
    obs: obs(6, { targets: weights(0, 0), specError: { path: 'spec.steps[1].weight', message: 'must be greater' } }),
    phase: 'RolledBack', writes: [],
    then: (d) => expect(d.status.rollback?.recoverySeconds).toBe(1),
  },
  {
    name: 'Failed (invalid spec), rollback request, targets unknown -> stays Failed, nothing written',
    spec: undefined, status: { phase: 'Failed', currentStep: 0, canaryWeight: 40 },
    obs: obs(5, { targets: [], specError: { path: 'spec.targets', message: 'is required' }, requests: { rollback: { value: 'bad canary' } } }),
    phase: 'Failed', writes: [],
  },

  // ---- a step lands, rounds run ----
  {
    name: 'Progressing at step 1, both targets now hold 5 -> stepStartedAt is set and the first round is due at once',
    status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0 }, obs: obs(2, { targets: weights(5, 5) }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.stepStartedAt).toBe(iso(2));
      expect(analysisDue(plan, d.status, at(2))).toBe(true);
      expect(d.nextEvaluationAt).toBe(at(2));
    },
  },
  {
    name: 'Progressing at step 3 (no pause), a round passes before a full interval at the new weight -> no advance yet; the next round is due an interval after landing',
    status: atStep(2, 50, 0, { lastRound: { at: iso(-5), verdict: 'Pass' } }), obs: obs(25, { targets: weights(50, 50), round: round(25) }),
    phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(2);
      expect(condition(d, 'Progressing')).toMatchObject({ reason: 'WaitingForAnalysis' });
      expect(d.nextEvaluationAt).toBe(at(55));
    },
  },
  {
    name: 'a step lands after a round at the old weight -> the next round is due a whole interval after landing, not an interval after that round',
    status: { phase: 'Progressing', currentStep: 1, canaryWeight: 5, lastRound: { at: iso(-1), verdict: 'Pass' } }, obs: obs(0, { targets: weights(25, 25) }),
    phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.stepStartedAt).toBe(iso(0));
      expect(analysisDue(plan, d.status, at(29))).toBe(false);
      expect(analysisDue(plan, d.status, at(30))).toBe(true);
      expect(d.nextEvaluationAt).toBe(at(30));
    },
  },
  {
    name: 'Progressing, the round right after the weight landed has no data yet (noData: hold) -> stays Progressing, waiting for data: no Holding, no Warning',
    status: atStep(0, 5, 0, { lastRound: undefined }), obs: obs(1, { targets: weights(5, 5), round: round(1, { 'error-rate': 'NoData', latency: 'NoData' }) }),
    phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.lastRound?.verdict).toBe('Hold');
      expect(condition(d, 'Progressing')).toMatchObject({ reason: 'WaitingForAnalysis' });
      expect(d.actions.filter((a) => a.kind === 'event' && a.type === 'Warning')).toEqual([]);
    },
  },
  {
    name: 'Progressing, still no data a full interval after the weight landed -> Holding',
    status: atStep(0, 5, 0, { lastRound: undefined }), obs: obs(30, { targets: weights(5, 5), round: round(30, { 'error-rate': 'NoData' }) }),
    phase: 'Holding', writes: [],
  },
  {
    name: 'Progressing, a breach right after the weight landed -> Holding at once (only no data waits)',
    status: atStep(0, 5, 0, { lastRound: undefined }), obs: obs(1, { targets: weights(5, 5), round: round(1, { latency: ['Fail', 0.9] }) }),
    phase: 'Holding', writes: [],
  },
  {
    name: 'Progressing at step 1, one target still at 0 -> not landed, the write is repeated for that target only',
    status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0 }, obs: obs(2, { targets: weights(5, 0) }), phase: 'Progressing', writes: [[5, [1]]],
    then: (d) => expect(d.status.stepStartedAt).toBeUndefined(),
  },
  {
    name: 'Progressing at step 3 (no pause), a round passes -> advances to step 4 and writes 100',
    status: atStep(2, 50, 0, { lastRound: { at: iso(0), verdict: 'Pass' } }), obs: obs(30, { targets: weights(50, 50), round: round(30) }),
    phase: 'Progressing', writes: [[100, [0, 1]]],
    then: (d) => {
      expect(d.status.currentStep).toBe(3);
      expect(d.status.stepStartedAt).toBeUndefined();
      expect(notifications(d)).toEqual(['StepAdvanced']);
    },
  },
  {
    name: 'Progressing at step 1 (pause 1m), a round passes before the pause is over -> stays, asks again at the next round',
    status: atStep(0, 5, 0), obs: obs(30, { targets: weights(5, 5), round: round(30) }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(0);
      expect(d.nextEvaluationAt).toBe(at(60));
    },
  },
  {
    name: 'Progressing at step 1, the pause is over and a round passed -> advances to step 2',
    status: atStep(0, 5, 0, { lastRound: { at: iso(60), verdict: 'Pass' } }), obs: obs(61, { targets: weights(5, 5) }), phase: 'Progressing', writes: [[25, [0, 1]]],
  },
  {
    name: 'Progressing at step 3, the only passing round is older than the step -> no advance',
    status: atStep(2, 50, 100, { lastRound: { at: iso(90), verdict: 'Pass' } }), obs: obs(110, { targets: weights(50, 50) }), phase: 'Progressing', writes: [],
  },
  {
    name: 'Progressing at step 2, critical check breaches once (limit 2) -> Holding, no advance',
    status: atStep(1, 25, 0), obs: obs(150, { targets: weights(25, 25), round: round(150, { 'error-rate': ['Fail', 0.05] }) }),
    phase: 'Holding', writes: [],
    then: (d) => {
      expect(d.status.lastRound?.verdict).toBe('Hold');
      expect(d.status.checks?.find((c) => c.name === 'error-rate')).toMatchObject({ result: 'Fail', consecutiveFailures: 1, threshold: '<= 0.01', severity: 'critical' });
      expect(notifications(d)).toEqual(['Holding']);
    },
  },
  {
    name: 'Progressing at step 2, critical check reaches failureLimit, automatic -> RollingBack and writes 0 to every target',
    status: atStep(1, 25, 0, { checks: [{ name: 'error-rate', value: 0.05, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(30) }] }),
    obs: obs(60, { targets: weights(25, 25), round: round(59, { 'error-rate': ['Fail', 0.05] }) }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
    then: (d) => {
      expect(d.status.rollback).toMatchObject({ triggeredAt: iso(59), reason: expect.stringContaining('error-rate') });
      expect(d.status.lastRound?.verdict).toBe('Fail');
      expect(notifications(d)).toEqual(['RollingBack']);
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'RollingBack' }));
    },
  },
  {
    name: 'Progressing at step 2, critical check reaches failureLimit, automatic off -> Holding, Stalled CheckFailing, weight stays',
    spec: noAuto, status: atStep(1, 25, 0, { checks: [{ name: 'error-rate', value: 0.05, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(30) }] }),
    obs: obs(60, { targets: weights(25, 25), round: round(60, { 'error-rate': ['Fail', 0.05] }) }), phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'CheckFailing' }),
  },
  {
    name: 'Holding on a failing critical check (automatic off), a later round passes -> Progressing',
    spec: noAuto, status: atStep(1, 25, 0, { phase: 'Holding', lastRound: { at: iso(60), verdict: 'Fail' } }),
    obs: obs(90, { targets: weights(25, 25), round: round(90) }), phase: 'Progressing', writes: [],
    then: (d) => expect(condition(d, 'Stalled')?.status).toBe('False'),
  },
  {
    name: 'Progressing, a warning check breaches -> Holding, weight stays, failures tracked for display',
    status: atStep(1, 25, 0), obs: obs(30, { targets: weights(25, 25), round: round(30, { latency: ['Fail', 0.9] }) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(d.status.checks?.find((c) => c.name === 'latency')?.consecutiveFailures).toBe(1);
      expect(lastHistory(d)?.event).toBe('Holding');
    },
  },
  {
    name: 'Holding on a warning, the next round passes after the pause -> advances (hold cleared)',
    status: atStep(0, 5, 0, { phase: 'Holding', lastRound: { at: iso(30), verdict: 'Hold' } }), obs: obs(61, { targets: weights(5, 5), round: round(61) }),
    phase: 'Progressing', writes: [[25, [0, 1]]],
  },
  {
    name: 'Progressing, critical check returns NoData with noData: hold -> Holding, failure count unchanged',
    status: atStep(1, 25, 0, { checks: [{ name: 'error-rate', value: 0.05, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(0) }] }),
    obs: obs(30, { targets: weights(25, 25), round: round(30, { 'error-rate': 'NoData' }) }), phase: 'Holding', writes: [],
    then: (d) => expect(d.status.checks?.find((c) => c.name === 'error-rate')).toMatchObject({ result: 'NoData', consecutiveFailures: 1 }),
  },
  {
    name: 'Progressing, critical check returns NoData with noData: fail (limit 1) -> RollingBack',
    spec: noDataFail, status: atStep(1, 25, 0), obs: obs(30, { targets: weights(25, 25), round: round(30, { 'error-rate': 'NoData' }) }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'Progressing, a check errors with noData: hold -> Holding, never a pass',
    status: atStep(2, 50, 0), obs: obs(30, { targets: weights(50, 50), round: round(30, { latency: 'Error' }) }), phase: 'Holding', writes: [],
  },
  {
    name: 'Progressing at step 3, only the info check fails -> recorded only, advances',
    status: atStep(2, 50, 0), obs: obs(30, { targets: weights(50, 50), round: round(30, { saturation: ['Fail', 0.99] }) }),
    phase: 'Progressing', writes: [[100, [0, 1]]],
    then: (d) => expect(d.status.checks?.find((c) => c.name === 'saturation')).toMatchObject({ result: 'Fail', consecutiveFailures: 1 }),
  },

  // ---- promotion gate ----
  {
    name: 'Progressing at the gate step (100, pause {}), round passes -> WaitingForPromotion',
    status: atStep(3, 100, 0), obs: obs(30, { targets: weights(100, 100), round: round(30) }), phase: 'WaitingForPromotion', writes: [],
    then: (d) => expect(notifications(d)).toEqual(['WaitingForPromotion']),
  },
  {
    name: 'WaitingForPromotion, promote request -> Promoted (consumed), then the step completes and the bake starts',
    status: atStep(3, 100, 0, { phase: 'WaitingForPromotion', lastRound: { at: iso(30), verdict: 'Pass' } }),
    obs: obs(40, { targets: weights(100, 100), requests: { promote: { value: 'alice-1' } } }), phase: 'Progressing', writes: [], recordsFirst: { event: 'Promoted' },
    then: (d) => {
      expect(d.status.handledRequests?.promote).toBe('alice-1');
      expect(d.status.promotedStep).toBe(3);
      expect(d.status.bakeStartedAt).toBe(iso(40));
    },
  },
  {
    name: 'Progressing at step 1 (pause 1m), promote request -> Promoted, then the pause is waived and it advances',
    status: atStep(0, 5, 0, { lastRound: { at: iso(30), verdict: 'Pass' } }), obs: obs(40, { targets: weights(5, 5), requests: { promote: { value: 'p' } } }), phase: 'Progressing', writes: [[25, [0, 1]]],
    recordsFirst: { event: 'Promoted' },
  },
  {
    name: 'Pending (paused), promote request -> consumed and ignored with a history note',
    spec: canary({ paused: true }), obs: obs(0, { requests: { promote: { value: 'p' } } }), phase: 'Pending', writes: [],
    then: (d) => {
      expect(d.status.handledRequests?.promote).toBe('p');
      expect(lastHistory(d)).toMatchObject({ event: 'PromoteIgnored' });
    },
  },

  // ---- pause / resume ----
  {
    name: 'Progressing with a complete step, spec.paused -> Paused, no advance',
    spec: canary({ paused: true }), status: atStep(2, 50, 0), obs: obs(30, { targets: weights(50, 50), round: round(30) }), phase: 'Paused', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(2);
      expect(notifications(d)).toEqual(['Paused']);
    },
  },
  {
    name: 'Paused, critical check reaches failureLimit -> RollingBack (pause never stops a rollback)',
    spec: canary({ paused: true }), status: atStep(1, 25, 0, { phase: 'Paused', checks: [{ name: 'error-rate', value: 1, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(0) }] }),
    obs: obs(30, { targets: weights(25, 25), round: round(30, { 'error-rate': ['Fail', 0.5] }) }), phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'Paused, rollback request -> RollingBack with the request as reason',
    spec: canary({ paused: true }), status: atStep(1, 25, 0, { phase: 'Paused' }),
    obs: obs(30, { targets: weights(25, 25), requests: { rollback: { value: 'bad release', requestedAt: at(29) } } }), phase: 'RollingBack', writes: [[0, [0, 1]]],
    then: (d) => {
      expect(d.status.rollback).toEqual({ reason: 'bad release', triggeredAt: iso(29) });
      expect(d.status.handledRequests?.rollback).toBe('bad release');
    },
  },
  {
    name: 'Paused, spec.paused false again -> Progressing, Resumed',
    status: atStep(1, 25, 0, { phase: 'Paused' }), obs: obs(30, { targets: weights(25, 25) }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(notifications(d)).toEqual(['Resumed']);
      expect(d.nextEvaluationAt).toBe(at(30));
    },
  },

  // ---- change windows ----
  {
    name: 'Progressing with a complete step, outside the change window -> Holding OutsideChangeWindow, no advance, rounds still due',
    spec: windowed, status: atStep(2, 50, 0), obs: obs(30, { targets: weights(50, 50), round: round(30) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(condition(d, 'Progressing')).toMatchObject({ status: 'False', reason: 'OutsideChangeWindow' });
      expect(d.nextEvaluationAt).toBe(at(60));
    },
  },
  {
    name: 'Holding outside the window, the window opens -> advances',
    spec: canary({ schedule: { timeZone: 'UTC', windows: [{ days: ['Wed'], start: '10:01', end: '11:00' }] } }),
    status: atStep(2, 50, 0, { phase: 'Holding', lastRound: { at: iso(30), verdict: 'Pass' } }), obs: obs(60, { targets: weights(50, 50) }),
    phase: 'Progressing', writes: [[100, [0, 1]]],
  },
  {
    name: 'Holding outside the window, critical check reaches its limit -> RollingBack (windows never stop a rollback)',
    spec: windowed, status: atStep(2, 50, 0, { phase: 'Holding', checks: [{ name: 'error-rate', value: 1, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(0) }] }),
    obs: obs(30, { targets: weights(50, 50), round: round(30, { 'error-rate': 'Fail' }) }), phase: 'RollingBack', writes: [[0, [0, 1]]],
  },

  // ---- bake and success ----
  {
    name: 'Progressing at the last step (no gate), round passed -> bake starts',
    spec: canary({ steps: [{ weight: 50 }, { weight: 100 }] }), status: atStep(1, 100, 0), obs: obs(30, { targets: weights(100, 100), round: round(30) }),
    phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.bakeStartedAt).toBe(iso(30));
      expect(d.nextEvaluationAt).toBe(at(30)); // a zero bake would complete at once
    },
  },
  {
    name: 'Baking, bake time not over -> Progressing',
    status: atStep(3, 100, 0, { bakeStartedAt: iso(30), lastRound: { at: iso(300), verdict: 'Pass' } }), obs: obs(310, { targets: weights(100, 100) }), phase: 'Progressing', writes: [],
  },
  {
    name: 'Baking, bake time over and a round passed since the bake began -> Succeeded',
    status: atStep(3, 100, 0, { bakeStartedAt: iso(30) }), obs: obs(630, { targets: weights(100, 100), round: round(630) }), phase: 'Succeeded', writes: [],
    then: (d) => {
      expect(notifications(d)).toEqual(['Succeeded']);
      expect(condition(d, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
      expect(d.nextEvaluationAt).toBeUndefined();
    },
  },
  {
    name: 'Baking, bake time over but the latest round held -> Holding, not Succeeded',
    status: atStep(3, 100, 0, { bakeStartedAt: iso(30) }), obs: obs(630, { targets: weights(100, 100), round: round(630, { latency: 'Fail' }) }), phase: 'Holding', writes: [],
  },
  {
    name: 'Succeeded, a person edits a target -> no write ever again',
    status: { phase: 'Succeeded', currentStep: 3, canaryWeight: 100 }, obs: obs(1000, { targets: weights(100, 40) }), phase: 'Succeeded', writes: [],
  },
  {
    name: 'Succeeded, rollback request -> consumed and ignored: Succeeded is final',
    status: { phase: 'Succeeded', currentStep: 3, canaryWeight: 100 }, obs: obs(1000, { targets: weights(100, 100), requests: { rollback: { value: 'oops' } } }),
    phase: 'Succeeded', writes: [],
    then: (d) => {
      expect(d.status.handledRequests?.rollback).toBe('oops');
      expect(lastHistory(d)).toMatchObject({ event: 'RollbackIgnored', message: expect.stringContaining('final') });
    },
  },

  // ---- BlueGreen ----
  {
    name: 'BlueGreen Pending -> Progressing with the preview at canary 0, the first round due at once',
    spec: bg, obs: obs(0, { targets: weights(0) }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.stepStartedAt).toBe(iso(0));
      expect(analysisDue(bg, d.status, at(0))).toBe(true);
    },
  },
  {
    name: 'BlueGreen preview, round passes -> switches to 100 in one write',
    spec: bg, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, stepStartedAt: iso(0) },
    obs: obs(30, { targets: weights(0), round: { completedAt: at(30), outcomes: [{ name: 'error-rate', value: 0, result: 'Pass' }] } }),
    phase: 'Progressing', writes: [[100, [0]]],
    then: (d) => {
      expect(eventReasons(d)).toContain('Switched');
      expect(d.status.bakeStartedAt).toBe(iso(30));
    },
  },
  {
    name: 'BlueGreen preview, round fails -> RollingBack without ever switching',
    spec: bg, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, stepStartedAt: iso(0) },
    obs: obs(1, { targets: weights(0), round: { completedAt: at(1), outcomes: [{ name: 'error-rate', value: 0.5, result: 'Fail' }] } }),
    phase: 'RollingBack', writes: [],
  },
  {
    name: 'BlueGreen preview with pause {}, round passed -> WaitingForPromotion; no switch',
    spec: bgGate, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, stepStartedAt: iso(0), lastRound: { at: iso(30), verdict: 'Pass' } },
    obs: obs(31, { targets: weights(0) }), phase: 'WaitingForPromotion', writes: [],
  },
  {
    name: 'BlueGreen WaitingForPromotion, promote -> switches to 100',
    spec: bgGate, status: { phase: 'WaitingForPromotion', currentStep: 0, canaryWeight: 0, stepStartedAt: iso(0), lastRound: { at: iso(30), verdict: 'Pass' } },
    obs: obs(35, { targets: weights(0), requests: { promote: { value: 'go' } } }), phase: 'Progressing', writes: [[100, [0]]], recordsFirst: { event: 'Promoted' },
  },
  {
    name: 'BlueGreen preview with pause 5m not over -> holds the preview',
    spec: bgPause, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, stepStartedAt: iso(0), lastRound: { at: iso(90), verdict: 'Pass' } },
    obs: obs(100, { targets: weights(0) }), phase: 'Progressing', writes: [],
    then: (d) => expect(d.nextEvaluationAt).toBe(at(120)),
  },
  {
    name: 'BlueGreen switched, 100 not yet observed -> stays, repeats the write, not Succeeded',
    spec: bg, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, bakeStartedAt: iso(1), lastRound: { at: iso(1), verdict: 'Pass' }, history: [{ at: iso(1), event: 'Switched', weight: 100, message: 'switched' }] },
    obs: obs(400, { targets: weights(0) }), phase: 'Progressing', writes: [[100, [0]]],
  },
  {
    name: 'BlueGreen switched, 100 landed, bake over, a round passed at 100 -> Succeeded',
    spec: bg, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 100, bakeStartedAt: iso(1), stepStartedAt: iso(2), lastRound: { at: iso(1), verdict: 'Pass' } },
    obs: obs(301, { targets: weights(100), round: { completedAt: at(301), outcomes: [{ name: 'error-rate', value: 0, result: 'Pass' }] } }), phase: 'Succeeded', writes: [],
  },

  // ---- rolling back ----
  {
    name: 'RollingBack, one target still holds 25 -> writes 0 to that target only, stays RollingBack',
    status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(1, { targets: weights(0, 25) }),
    phase: 'RollingBack', writes: [[0, [1]]],
  },
  {
    name: 'RollingBack, every target holds 0 -> RolledBack with completedAt and recoverySeconds',
    status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(4, { targets: weights(0, 0) }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback).toEqual({ reason: 'x', triggeredAt: iso(0), completedAt: iso(4), recoverySeconds: 4 });
      expect(notifications(d)).toEqual(['RolledBack']);
      expect(eventReasons(d)).not.toContain('RecoveryObjectiveMissed');
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'RolledBack' });
    },
  },
  {
    name: 'RollingBack for 45s with rto 30s -> RolledBack and a RecoveryObjectiveMissed Warning',
    status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(45, { targets: weights(0, 0) }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.recoverySeconds).toBe(45);
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'RecoveryObjectiveMissed' }));
      expect(notifications(d)).toEqual(['RtoMissed', 'RolledBack']);
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'notify', event: 'RtoMissed', snapshot: expect.objectContaining({ phase: 'RolledBack', reason: 'x', recoverySeconds: 45 }) }));
    },
  },
  {
    name: 'RollingBack with a target not found -> stays RollingBack, Stalled, writes 0 to the other',
    status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(4, { targets: [missing(), { ok: true, weight: 25 }] }),
    phase: 'RollingBack', writes: [[0, [1]]],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetNotFound' }),
  },
  {
    name: 'RollingBack with a target a person made unreadable (TargetInvalid) -> writes 0 to it too',
    status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } },
    obs: obs(4, { targets: [{ ok: false, reason: 'TargetInvalid', message: 'Ingress shop/checkout-canary: canary-weight is "lots"' }, { ok: true, weight: 25 }] }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'RolledBack, a person sets a target to 30 -> writes 0 again (drift repaired)',
    status: rolledBack, obs: obs(100, { targets: weights(0, 30) }), phase: 'RolledBack', writes: [[0, [1]]],
    then: (d) => expect(lastHistory(d)).toMatchObject({ event: 'DriftRepaired', weight: 0 }),
  },
  {
    name: 'RolledBack, promote and a passing round arrive -> nothing moves above 0',
    status: rolledBack, obs: obs(100, { targets: weights(0, 0), round: round(100), requests: { promote: { value: 'p' } } }), phase: 'RolledBack', writes: [],
  },
  {
    name: 'Pending, rollback request -> RollingBack, then RolledBack once every target holds 0',
    obs: obs(0, { requests: { rollback: { value: 'abort' } } }), phase: 'RollingBack', writes: [],
    then: (d) => {
      const next = decide(plan, d.status, obs(1, { requests: { rollback: { value: 'abort' } } }));
      expect(next.status.phase).toBe('RolledBack');
    },
  },
  {
    name: 'Progressing, a rollback request already handled -> nothing happens',
    status: atStep(1, 25, 0, { handledRequests: { rollback: 'old' } }), obs: obs(10, { targets: weights(25, 25), requests: { rollback: { value: 'old' } } }),
    phase: 'Progressing', writes: [],
  },

  // ---- retry ----
  {
    name: 'RolledBack, retry -> Pending at step 1 with rounds and failures cleared, history and rollback kept',
    status: rolledBack, obs: obs(100, { requests: { retry: { value: 'r1' } } }), phase: 'Pending', writes: [],
    then: (d) => {
      expect(d.status).toMatchObject({ currentStep: 0, handledRequests: { retry: 'r1' } });
      expect(d.status.lastRound).toBeUndefined();
      expect(d.status.stepStartedAt).toBeUndefined();
      expect(d.status.checks?.[0]?.consecutiveFailures).toBe(0);
      expect(d.status.rollback?.reason).toBe('error-rate breached');
      expect(d.status.history?.[0]?.event).toBe('RollingBack');
      expect(d.nextEvaluationAt).toBe(at(100));
      // What resolves a PagerDuty incident the rollback opened.
      expect(notifications(d)).toEqual(['Retrying']);
      const started = decide(plan, d.status, obs(100, { requests: { retry: { value: 'r1' } } }));
      expect(started.status.phase).toBe('Progressing');
      expect(started.status.rollback).toBeUndefined();
      expect(writes(started)).toEqual([[5, [0, 1]]]);
    },
  },
  {
    name: 'Progressing, retry request -> consumed with a history note, nothing else',
    status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 25), requests: { retry: { value: 'r' } } }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.handledRequests?.retry).toBe('r');
      expect(lastHistory(d)?.event).toBe('RetryIgnored');
      expect(d.status.currentStep).toBe(1);
    },
  },

  // ---- a status the controller did not write ----
  {
    name: 'Progressing with status.currentStep 9999 written by hand while the targets hold 5 -> Holding, Stalled StatusInconsistent, nothing written',
    status: atStep(9999, 5, 0), obs: obs(600, { targets: weights(5, 5) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'StatusInconsistent', message: expect.stringContaining('will not write 100%') });
      expect(eventReasons(d)).toEqual(['StatusInconsistent']);
    },
  },
  {
    name: 'a status moved by hand one step on, past a promotion gate, with no StepAdvanced in its history -> Holding StatusInconsistent, nothing written',
    status: { ...atStep(0, 5, 0), currentStep: 1 }, obs: obs(10, { targets: weights(5, 5) }), phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'StatusInconsistent', message: expect.stringContaining('history records no decision') }),
  },
  {
    name: 'at step 3 (50) after a person lowered every target to 0 by hand -> Holding StatusInconsistent, traffic is not raised again',
    status: atStep(2, 50, 0), obs: obs(600, { targets: weights(0, 0) }), phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'StatusInconsistent' }),
  },
  {
    name: 'Holding StatusInconsistent, a person sets the targets back to the step weight -> Progressing again',
    status: { ...atStep(2, 50, 0), phase: 'Holding' }, obs: obs(600, { targets: weights(50, 50) }), phase: 'Progressing', writes: [],
  },
  {
    name: 'at step 3 (50) with the targets one step below (a write that did not land yet) -> writes 50, no inconsistency',
    status: atStep(2, 50, 0), obs: obs(600, { targets: weights(25, 25) }), phase: 'Progressing', writes: [[50, [0, 1]]],
  },

  // ---- deletion ----
  {
    name: 'Deleting at step 2 -> RollingBack "plan deleted", writes 0, finalizer stays',
    status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 25), deleting: true }), phase: 'RollingBack', writes: [[0, [0, 1]]],
    then: (d) => {
      expect(d.status.rollback).toEqual({ reason: 'plan deleted', triggeredAt: iso(10) });
      expect(d.finalizerDone).toBe(false);
    },
  },
  {
    name: 'Deleting, every target holds 0 or is gone -> finalizer done',
    status: { phase: 'RollingBack', rollback: { reason: 'plan deleted', triggeredAt: iso(0) } }, obs: obs(10, { targets: [{ ok: true, weight: 0 }, missing()], deleting: true }),
    phase: 'RollingBack', writes: [],
    then: (d) => expect(d.finalizerDone).toBe(true),
  },
  {
    name: 'Deleting while a canary route lost its stable Ingress and still holds 10 -> writes 0 to it, finalizer stays',
    status: { phase: 'RollingBack', rollback: { reason: 'plan deleted', triggeredAt: iso(0) } },
    obs: obs(10, { targets: [{ ok: false, reason: 'TargetNotFound', message: 'stable Ingress shop/checkout not found', weight: 10 }, { ok: true, weight: 0 }], deleting: true }),
    phase: 'RollingBack', writes: [[0, [0]]],
    then: (d) => expect(d.finalizerDone).toBe(false),
  },
  {
    name: 'Deleting, the canary route without its stable Ingress now holds 0 -> finalizer done',
    status: { phase: 'RollingBack', rollback: { reason: 'plan deleted', triggeredAt: iso(0) } },
    obs: obs(10, { targets: [{ ok: false, reason: 'TargetNotFound', message: 'stable Ingress shop/checkout not found', weight: 0 }, { ok: true, weight: 0 }], deleting: true }),
    phase: 'RollingBack', writes: [],
    then: (d) => expect(d.finalizerDone).toBe(true),
  },
  {
    name: 'Deleting a Succeeded plan -> finalizer done, no writes',
    status: { phase: 'Succeeded', canaryWeight: 100, currentStep: 3 }, obs: obs(10, { targets: weights(100, 100), deleting: true }), phase: 'Succeeded', writes: [],
    then: (d) => expect(d.finalizerDone).toBe(true),
  },

  // ---- invalid spec ----
  {
    name: 'Pending with an invalid spec -> Failed, Stalled InvalidSpec with the path, no writes',
    spec: undefined, obs: obs(0, { specError: { path: 'spec.steps[1].weight', message: 'must be greater than 5' } }), phase: 'Failed', writes: [],
    then: (d) => {
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: 'spec.steps[1].weight: must be greater than 5' });
      expect(notifications(d)).toEqual(['Failed']);
      expect(d.nextEvaluationAt).toBeUndefined();
    },
  },
  {
    name: 'Progressing at step 2 with an invalid spec and a drifted target -> Failed, traffic stays where it is',
    spec: undefined, status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60), specError: { path: 'spec.steps', message: 'x' } }), phase: 'Failed', writes: [],
  },
  {
    name: 'Failed before the start, spec valid again -> Pending',
    status: { phase: 'Failed', canaryWeight: 0 }, obs: obs(10), phase: 'Pending', writes: [],
  },
  {
    name: 'Failed before the start with a target a person set to 10, spec valid again -> Pending, no write; the next call writes step 1 (never 0 in between)',
    status: { phase: 'Failed', canaryWeight: 10 }, obs: obs(10, { targets: weights(10, 10) }), phase: 'Pending', writes: [],
    then: (d) => {
      expect(d.nextEvaluationAt).toBe(at(10));
      expect(writes(decide(plan, d.status, obs(10, { targets: weights(10, 10) })))).toEqual([[5, [0, 1]]]);
    },
  },
  {
    name: 'Failed at step 2 (canary 25), spec valid again -> Progressing at step 2',
    status: atStep(1, 25, 0, { phase: 'Failed' }), obs: obs(10, { targets: weights(25, 25) }), phase: 'Progressing', writes: [],
    then: (d) => expect(d.status.currentStep).toBe(1),
  },
  {
    name: 'RollingBack with an invalid spec -> stays RollingBack, still writes 0 (a rollback is never undone)',
    spec: undefined, status: { phase: 'RollingBack', rollback: { reason: 'x', triggeredAt: iso(0) } },
    obs: obs(10, { targets: weights(25, 0), specError: { path: 'spec.steps', message: 'x' } }), phase: 'RollingBack', writes: [[0, [0]]],
  },

  // ---- targets ----
  {
    name: 'Progressing, a target turns invalid -> Holding, Stalled TargetInvalid, no writes at all',
    status: atStep(1, 25, 0), obs: obs(10, { targets: [{ ok: false, reason: 'TargetInvalid', message: 'HTTPRoute shop/checkout: rules[0].backendRefs has no backend monolith' }, { ok: true, weight: 5 }] }),
    phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetInvalid', message: expect.stringContaining('backendRefs') }),
  },
  {
    name: 'Holding on a missing target, the target is back -> Progressing',
    status: atStep(1, 25, 0, { phase: 'Holding' }), obs: obs(10, { targets: weights(25, 25) }), phase: 'Progressing', writes: [],
    then: (d) => expect(condition(d, 'Stalled')?.status).toBe('False'),
  },

  // ---- drift ----
  {
    name: 'Progressing at step 2 (25 landed), a person sets one target to 60 -> writes 25 back to it, DriftRepaired',
    status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60) }), phase: 'Progressing', writes: [[25, [1]]],
    then: (d) => {
      expect(lastHistory(d)).toMatchObject({ event: 'DriftRepaired', weight: 25 });
      expect(eventReasons(d)).toContain('DriftRepaired');
      expect(d.status.canaryWeight).toBe(25);
    },
  },
  {
    name: 'Progressing at step 2 (25 landed), the spec edits step 2 to 30 (new generation) -> writes 30, the step starts again, not a drift',
    spec: canary({ steps: [{ weight: 5, pause: '1m' }, { weight: 30, pause: '2m' }, { weight: 50 }, { weight: 100, pause: {} }] }),
    status: atStep(1, 25, 0, { observedGeneration: 1 }), obs: obs(10, { targets: weights(25, 25), generation: 2 }), phase: 'Progressing', writes: [[30, [0, 1]]],
    then: (d) => {
      expect(d.status.stepStartedAt).toBeUndefined();
      expect(eventReasons(d)).not.toContain('DriftRepaired');
    },
  },

  // ---- drift under onDrift: Hold: nothing writes over it; a rollback still writes 0 ----
  {
    name: 'Hold: Progressing at step 2 (25 landed), a person sets one target to 60 -> Holding, writes nothing, DriftDetected naming the target, Stalled TargetDrifted',
    spec: hold, status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(lastHistory(d)).toMatchObject({ event: 'DriftDetected', message: expect.stringContaining('targets[1] holds canary 60%') });
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'DriftDetected', message: expect.stringContaining('step 2/4: canary 25%') }));
      expect(eventReasons(d)).not.toContain('DriftRepaired');
      expect(notifications(d)).toEqual(['Holding']);
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetDrifted', message: expect.stringContaining('60%') });
      expect(condition(d, 'Ready')).toMatchObject({ status: 'False', reason: 'Holding', message: expect.stringContaining('onDrift is Hold') });
      expect(d.status.currentStep).toBe(1);
    },
  },
  {
    name: 'Hold: still drifted on the next reconciles -> no second Event or history entry, still no write',
    spec: hold, status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60) }), phase: 'Holding', writes: [],
    then: (d) => {
      let next = d;
      for (const sec of [20, 200, 400]) {
        next = decide(hold, next.status, obs(sec, { targets: weights(25, 60), round: round(sec) }));
        expect(next.status.phase).toBe('Holding');
        expect(writes(next)).toEqual([]);
        expect(eventReasons(next)).toEqual([]);
        expect(notifications(next)).toEqual([]);
      }
      expect(next.status.history?.filter((h) => h.event === 'DriftDetected')).toHaveLength(1);
      expect(next.status.currentStep).toBe(1);
    },
  },
  {
    name: 'Hold: the drifted weight changes again (60 -> 70) -> one new DriftDetected for the new weight',
    spec: hold, status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60) }), phase: 'Holding', writes: [],
    then: (d) => {
      const next = decide(hold, d.status, obs(20, { targets: weights(25, 70) }));
      expect(eventReasons(next)).toEqual(['DriftDetected']);
      expect(lastHistory(next)?.message).toContain('70%');
      expect(writes(next)).toEqual([]);
    },
  },
  {
    name: 'Hold: the targets hold the step weight again -> goes on (Progressing), the step starts again from then, no write',
    spec: hold, status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60) }), phase: 'Holding', writes: [],
    then: (d) => {
      const back = decide(hold, d.status, obs(30, { targets: weights(25, 25) }));
      expect(back.status.phase).toBe('Progressing');
      expect(writes(back)).toEqual([]);
      expect(back.status.stepStartedAt).toBe(iso(30));
      expect(condition(back, 'Stalled')?.status).toBe('False');
      // The step's 2m pause counts from its return; a round an interval later passes, then it advances.
      const early = decide(hold, back.status, obs(100, { targets: weights(25, 25), round: round(100) }));
      expect(early.status.currentStep).toBe(1);
      const done = decide(hold, early.status, obs(151, { targets: weights(25, 25), round: round(151) }));
      expect(done.status.currentStep).toBe(2);
      expect(writes(done)).toEqual([[50, [0, 1]]]);
    },
  },
  {
    name: 'Hold: a target lowered to 0 at step 3 -> TargetDrifted (not StatusInconsistent), no write',
    spec: hold, status: atStep(2, 50, 0), obs: obs(10, { targets: weights(0, 50) }), phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Stalled')).toMatchObject({ reason: 'TargetDrifted' }),
  },
  {
    name: 'Hold: WaitingForPromotion at step 4 (100 landed), a target set to 80 -> Holding, no write; back at 100 -> WaitingForPromotion again',
    spec: hold, status: atStep(3, 100, 0, { phase: 'WaitingForPromotion', bakeStartedAt: iso(0) }), obs: obs(10, { targets: weights(100, 80) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(eventReasons(d)).toEqual(['DriftDetected']);
      const back = decide(holdNoChecks, d.status, obs(20, { targets: weights(100, 100) }));
      expect(writes(back)).toEqual([]);
      expect(back.status.phase).not.toBe('Holding');
    },
  },
  {
    name: 'Hold: Paused by spec, a target drifts -> Holding with TargetDrifted, no write; back -> Paused',
    spec: canary({ onDrift: 'Hold', paused: true }), status: atStep(1, 25, 0, { phase: 'Paused' }), obs: obs(10, { targets: weights(25, 60) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(eventReasons(d)).toEqual(['DriftDetected']);
      const back = decide(canary({ onDrift: 'Hold', paused: true }), d.status, obs(20, { targets: weights(25, 25) }));
      expect(back.status.phase).toBe('Paused');
      expect(writes(back)).toEqual([]);
    },
  },
  {
    name: 'Hold: a step not landed yet (targets at 5, step 2 wants 25) -> writes 25: the plan\'s own step is no drift',
    spec: hold, status: atStep(1, 25, 0, { stepStartedAt: undefined, canaryWeight: 5 }), obs: obs(10, { targets: weights(5, 5) }), phase: 'Progressing', writes: [[25, [0, 1]]],
  },
  {
    name: 'Hold: promote while drifted -> Promoted (the pause is waived) but nothing written; it advances once the weight is back',
    spec: holdNoChecks, status: atStep(1, 25, 0, { phase: 'Holding' }), obs: obs(10, { targets: weights(25, 60), requests: { promote: { value: 'p1' } } }),
    phase: 'Holding', writes: [],
    then: (d) => {
      expect(eventReasons(d)).toContain('Promoted');
      const again = decide(holdNoChecks, d.status, obs(10, { targets: weights(25, 60), requests: { promote: { value: 'p1' } } }));
      expect(again.status.phase).toBe('Holding');
      expect(writes(again)).toEqual([]);
      // The drift is reported again once after the promote, so the person sees why nothing moved.
      expect(eventReasons(again)).toEqual(['DriftDetected']);
      expect(eventReasons(decide(holdNoChecks, again.status, obs(15, { targets: weights(25, 60), requests: { promote: { value: 'p1' } } })))).toEqual([]);
      const back = decide(holdNoChecks, again.status, obs(20, { targets: weights(25, 25), requests: { promote: { value: 'p1' } } }));
      expect(back.status.currentStep).toBe(2);
      expect(writes(back)).toEqual([[50, [0, 1]]]);
    },
  },
  {
    name: 'Hold: rollback request while drifted -> RollingBack, writes 0 to every target',
    spec: hold, status: atStep(1, 25, 0, { phase: 'Holding' }), obs: obs(10, { targets: weights(25, 60), requests: { rollback: { value: 'abort' } } }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'Hold: a critical check fails while drifted -> automatic rollback writes 0 to every target',
    spec: hold, status: atStep(1, 25, 0, { phase: 'Holding', checks: [{ name: 'error-rate', severity: 'critical', value: 0.2, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(5) }] }),
    obs: obs(40, { targets: weights(25, 60), round: round(40, { 'error-rate': ['Fail', 0.3] }) }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'Hold: RollingBack and a person raised a target -> still writes 0 to it (a rollback is no drift repair)',
    spec: hold, status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(4, { targets: weights(0, 40) }),
    phase: 'RollingBack', writes: [[0, [1]]],
    then: (d) => expect(eventReasons(d)).not.toContain('DriftDetected'),
  },
  {
    name: 'Hold: RolledBack, a person sets a target to 30 -> writes nothing, DriftDetected once, Stalled TargetDrifted',
    spec: hold, status: rolledBack, obs: obs(100, { targets: weights(0, 30) }), phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(lastHistory(d)).toMatchObject({ event: 'DriftDetected', message: expect.stringContaining('targets[1] holds canary 30%') });
      expect(eventReasons(d)).toEqual(['DriftDetected']);
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'TargetDrifted' });
      const next = decide(hold, d.status, obs(200, { targets: weights(0, 30) }));
      expect(next.actions).toEqual([]);
      expect(next.status.phase).toBe('RolledBack');
    },
  },
  {
    name: 'Hold: RolledBack with one target raised to 30 -> status.canaryWeight shows the observed weight',
    spec: canary({ onDrift: 'Hold', targets: [{ provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } }] }),
    status: rolledBack, obs: obs(100, { targets: weights(30) }), phase: 'RolledBack', writes: [],
    then: (d) => expect(d.status.canaryWeight).toBe(30),
  },
  {
    name: 'Hold: a RolledBack plan with a raised target is deleted -> writes 0 (the finalizer restores stable)',
    spec: hold, status: rolledBack, obs: obs(100, { targets: weights(0, 30), deleting: true }), phase: 'RolledBack', writes: [[0, [1]]],
    then: (d) => expect(d.finalizerDone).toBe(false),
  },
  {
    name: 'Hold: an active drifted plan is deleted -> RollingBack, writes 0 to every target',
    spec: hold, status: atStep(1, 25, 0, { phase: 'Holding' }), obs: obs(10, { targets: weights(25, 60), deleting: true }), phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'Repair (the default) after a Hold episode: the same drift is written back',
    spec: canary({ onDrift: 'Repair' }), status: atStep(1, 25, 0), obs: obs(10, { targets: weights(25, 60) }), phase: 'Progressing', writes: [[25, [1]]],
    then: (d) => {
      expect(plan.onDrift).toBe('Repair');
      expect(eventReasons(d)).toEqual(['DriftRepaired']);
    },
  },
  // ---- hooks (engine/hooks.ts) ----
  {
    name: 'hooks: Pending -> Progressing at step 1, but its beforeStep hook has not run: nothing is written, the hook is due now',
    spec: hooked, status: undefined, obs: obs(0), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(0);
      expect(d.status.stepStartedAt).toBeUndefined();
      expect(hookNames(hooked, d.status, 0)).toEqual(['load@0:5/canary']);
      expect(d.nextEvaluationAt).toBe(at(0));
    },
  },
  {
    name: 'hooks: beforeStep pending -> stays Progressing, WaitingForHook, no write, the step does not land',
    spec: hooked, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, history: [{ at: iso(0), event: 'Started', weight: 5, message: 'started' }] },
    obs: obs(1), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(condition(d, 'Progressing')).toMatchObject({ reason: 'WaitingForHook' });
      expect(d.status.stepStartedAt).toBeUndefined();
    },
  },
  {
    name: 'hooks: beforeStep passed -> the step weight is written, the result recorded with an Event',
    spec: hooked, status: { phase: 'Progressing', currentStep: 0, canaryWeight: 0, history: [{ at: iso(0), event: 'Started', weight: 5, message: 'started' }] },
    obs: obs(2, { hooks: [hookResult('load', 'beforeStep', 0, 'Pass', 2)] }), phase: 'Progressing', writes: [[5, [0, 1]]],
    then: (d) => {
      expect(d.status.hooks).toEqual([{ name: 'load', when: 'beforeStep', step: 0, result: 'Pass', at: iso(2), attempts: 1 }]);
      expect(eventReasons(d)).toContain('HookPassed');
      expect(hookNames(hooked, d.status, 2)).toEqual([]);
    },
  },
  {
    name: 'hooks: beforeStep failed -> Holding (HookFailed), nothing written, called again an interval later; never a rollback',
    spec: hooked, status: enteringStep2(), obs: obs(100, { targets: weights(5, 5), hooks: [hookResult('load', 'beforeStep', 1, 'Fail', 100)] }),
    phase: 'Holding', writes: [],
    then: (d) => {
      expect(condition(d, 'Progressing')).toMatchObject({ status: 'False', reason: 'HookFailed', message: expect.stringContaining('load') });
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'False' });
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'HookFailed', message: expect.stringContaining('journey checkout broke') }));
      expect(d.status.rollback).toBeUndefined();
      expect(d.nextEvaluationAt).toBe(at(130));
      expect(hookNames(hooked, d.status, 129)).toEqual([]);
      expect(hookNames(hooked, d.status, 130)).toEqual(['load@1:25/canary']);
      // Passing on the next try writes the step.
      // Failing again on its retry: the record is updated, no second Event.
      const still = decide(hooked, d.status, obs(130, { targets: weights(5, 5), hooks: [hookResult('load', 'beforeStep', 1, 'Fail', 130)] }));
      expect(still.status.phase).toBe('Holding');
      expect(eventReasons(still)).toEqual([]);
      expect(still.status.hooks?.find((h) => h.name === 'load' && h.step === 1)?.at).toBe(iso(130));
      expect(still.nextEvaluationAt).toBe(at(160));
      const again = decide(hooked, still.status, obs(160, { targets: weights(5, 5), hooks: [hookResult('load', 'beforeStep', 1, 'Pass', 160)] }));
      expect(again.status.phase).toBe('Progressing');
      expect(writes(again)).toEqual([[25, [0, 1]]]);
    },
  },
  {
    name: 'hooks: while beforeStep fails, a target someone raised is set back to the previous step (Repair); none is raised',
    spec: hooked, status: enteringStep2({ phase: 'Holding', hooks: [hookRecord('load', 'beforeStep', 1, 'Fail', 100)] }),
    obs: obs(110, { targets: weights(5, 60) }), phase: 'Holding', writes: [[5, [1]]],
    then: (d) => expect(eventReasons(d)).toContain('DriftRepaired'),
  },
  {
    name: 'hooks: afterStep due once the weight landed, and the step waits for it even with passing rounds and its pause over',
    spec: hooked, status: atStep(0, 5, 0, { hooks: [hookRecord('load', 'beforeStep', 0, 'Pass', 0)] }),
    obs: obs(90, { targets: weights(5, 5), round: round(90) }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(0);
      expect(condition(d, 'Progressing')).toMatchObject({ reason: 'WaitingForHook' });
      expect(hookNames(hooked, d.status, 90)).toEqual(['journeys@0:5/canary']);
    },
  },
  {
    name: 'hooks: afterStep passed and checks pass -> the step completes; the next step waits for its beforeStep hook',
    spec: hooked, status: atStep(0, 5, 0, { hooks: [hookRecord('load', 'beforeStep', 0, 'Pass', 0)] }),
    obs: obs(90, { targets: weights(5, 5), round: round(90), hooks: [hookResult('journeys', 'afterStep', 0, 'Pass', 90)] }), phase: 'Progressing', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(1);
      expect(eventReasons(d)).toEqual(expect.arrayContaining(['HookPassed', 'StepAdvanced']));
      expect(hookNames(hooked, d.status, 90)).toEqual(['load@1:25/canary']);
    },
  },
  {
    name: 'hooks: afterStep failed, automatic -> RollingBack and writes 0 to every target, like a failing critical check',
    spec: hooked, status: atStep(1, 25, 0, { hooks: [hookRecord('load', 'beforeStep', 1, 'Pass', 0)] }),
    obs: obs(5, { targets: weights(25, 25), hooks: [hookResult('journeys', 'afterStep', 1, 'Fail', 5)] }), phase: 'RollingBack', writes: [[0, [0, 1]]],
    then: (d) => {
      expect(d.status.rollback).toMatchObject({ triggeredAt: iso(5), reason: expect.stringContaining('hook journeys failed at step 2/4') });
      expect(notifications(d)).toEqual(['RollingBack']);
    },
  },
  {
    name: 'hooks: afterStep failed, automatic off -> Holding (HookFailed), weight stays, called again an interval later',
    spec: hookedNoAuto, status: atStep(1, 25, 0, { hooks: [hookRecord('load', 'beforeStep', 1, 'Pass', 0)] }),
    obs: obs(5, { targets: weights(25, 25), hooks: [hookResult('journeys', 'afterStep', 1, 'Fail', 5)] }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(condition(d, 'Progressing')).toMatchObject({ reason: 'HookFailed' });
      expect(hookNames(hookedNoAuto, d.status, 35)).toEqual(['journeys@1:25/canary']);
    },
  },
  {
    name: 'hooks: afterRollback runs once after the rollback landed; its failure is reported and changes nothing else',
    spec: hooked, status: rolledBack, obs: obs(10, { hooks: [hookResult('report', 'afterRollback', 1, 'Fail', 10)] }), phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(hookNames(hooked, rolledBack, 10)).toEqual(['report@1:0/stable']);
      expect(d.status.hooks).toEqual([expect.objectContaining({ name: 'report', when: 'afterRollback', result: 'Fail' })]);
      expect(d.status.hooks?.[0]).not.toHaveProperty('step');
      expect(eventReasons(d)).toEqual(['HookFailed']);
      expect(hookNames(hooked, d.status, 1000)).toEqual([]);
      expect(d.nextEvaluationAt).toBeUndefined();
      expect(writes(decide(hooked, d.status, obs(2000)))).toEqual([]);
    },
  },
  {
    name: 'hooks: afterSuccess runs once after Succeeded and never again',
    spec: hooked, status: { phase: 'Succeeded', currentStep: 3, canaryWeight: 100 }, obs: obs(10, { targets: weights(100, 100), hooks: [hookResult('announce', 'afterSuccess', 3, 'Pass', 10)] }), phase: 'Succeeded', writes: [],
    then: (d) => {
      expect(hookNames(hooked, { phase: 'Succeeded', currentStep: 3, canaryWeight: 100 }, 10)).toEqual(['announce@3:100/canary']);
      expect(hookNames(hooked, d.status, 10_000)).toEqual([]);
      expect(d.nextEvaluationAt).toBeUndefined();
    },
  },
  {
    name: 'hooks: a retry forgets the step hooks (they run again) and keeps the afterRollback result',
    spec: hooked, status: { ...rolledBack, hooks: [hookRecord('load', 'beforeStep', 0, 'Pass', 0), { name: 'report', when: 'afterRollback', result: 'Pass', at: iso(4) }] },
    obs: obs(20, { requests: { retry: { value: 'again' } } }), phase: 'Pending', writes: [],
    then: (d) => {
      expect(d.status.hooks).toEqual([expect.objectContaining({ name: 'report' })]);
      const started = decide(hooked, d.status, obs(20, { requests: { retry: { value: 'again' } } }));
      expect(started.status.phase).toBe('Progressing');
      expect(writes(started)).toEqual([]);
      expect(hookNames(hooked, started.status, 20)).toEqual(['load@0:5/canary']);
    },
  },

  // ---- rollback validation: the checks against stable after RolledBack ----
  {
    name: 'Validation: RollingBack lands -> RolledBack with rollback.validation Running, first stable round an interval later',
    spec: validated, status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(4),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toEqual({ result: 'Running', startedAt: iso(4), rounds: 0, passedRounds: 0, breachedRounds: 0, message: 'validating stable for 2m' });
      expect(d.nextEvaluationAt).toBe(at(34));
      expect(roundDue(validated, d.status, at(33))).toBeUndefined();
      expect(roundDue(validated, d.status, at(34))).toBe('stable');
    },
  },
  {
    name: 'Validation: no rollback.validation in the spec -> RolledBack with none, nothing more is due',
    status: { phase: 'RollingBack', currentStep: 1, canaryWeight: 25, rollback: { reason: 'x', triggeredAt: iso(0) } }, obs: obs(4),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toBeUndefined();
      expect(d.nextEvaluationAt).toBeUndefined();
      expect(roundDue(plan, d.status, at(400))).toBeUndefined();
    },
  },
  {
    name: 'Validation: a passing stable round mid-window -> still Running, counted, the query check without stableQuery left out',
    spec: validated, status: validating(), obs: obs(34, { round: stableRound(34) }), phase: 'RolledBack', writes: [],
    then: (d) => {
      const v = d.status.rollback?.validation;
      expect(v).toMatchObject({ result: 'Running', rounds: 1, passedRounds: 1, breachedRounds: 0, lastRoundAt: iso(34) });
      expect(v?.checks?.map((c) => [c.name, c.value])).toEqual([['error-rate', 0.001], ['latency', 0.2]]);
      expect(d.actions.filter((a) => a.kind !== 'setWeight')).toEqual([]);
      expect(d.nextEvaluationAt).toBe(at(64));
      // A stable round never touches the canary's analysis record.
      expect(d.status.lastRound).toEqual(validating().lastRound);
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'RolledBack', message: expect.stringContaining('validating stable (1/1 rounds passed)') });
    },
  },
  {
    name: 'Validation: the last round at the end of the window passes, every round passed -> Passed, RollbackValidated',
    spec: validated, status: validating({ rounds: 3, passedRounds: 3, lastRoundAt: iso(94) }), obs: obs(124, { round: stableRound(124) }), phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toMatchObject({ result: 'Passed', rounds: 4, passedRounds: 4, completedAt: iso(124), message: expect.stringContaining('4/4 rounds passed') });
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Normal', reason: 'RollbackValidated' }));
      expect(notifications(d)).toEqual(['RollbackValidated']);
      expect(lastHistory(d)).toMatchObject({ event: 'RollbackValidated', weight: 0 });
      expect(d.nextEvaluationAt).toBeUndefined();
      expect(roundDue(validated, d.status, at(500))).toBeUndefined();
    },
  },
  {
    name: 'Validation: the final round comes at the end even when it is less than an interval after the last',
    spec: canary({ ...validatedFields, rollback: { automatic: true, validation: { duration: '45s' } } }), status: validating({ rounds: 1, passedRounds: 1, lastRoundAt: iso(34) }), obs: obs(40),
    phase: 'RolledBack', writes: [],
    then: (d) => expect(d.nextEvaluationAt).toBe(at(49)),
  },
  {
    name: 'Validation: a critical check reaches its failureLimit against stable -> Failed at once, RollbackValidationFailed',
    spec: validated,
    status: validating({ rounds: 1, passedRounds: 0, breachedRounds: 1, lastRoundAt: iso(34), checks: [{ name: 'error-rate', severity: 'critical', value: 0.2, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(34) }] }),
    obs: obs(64, { round: stableRound(64, { 'error-rate': ['Fail', 0.3] }) }), phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toMatchObject({ result: 'Failed', rounds: 2, breachedRounds: 2, completedAt: iso(64), message: expect.stringContaining('error-rate=0.3 breaches <= 0.01 (2/2)') });
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'RollbackValidationFailed' }));
      expect(notifications(d)).toEqual(['RollbackValidationFailed']);
      expect(d.nextEvaluationAt).toBeUndefined();
      expect(condition(d, 'Stalled')).toMatchObject({ status: 'True', reason: 'RolledBack', message: expect.stringContaining('stable failed its checks') });
    },
  },
  {
    name: 'Validation: a breach below the failureLimit stays Running, and fails the validation at the end',
    spec: validated, status: validating(), obs: obs(34, { round: stableRound(34, { 'error-rate': ['Fail', 0.3] }) }), phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toMatchObject({ result: 'Running', rounds: 1, passedRounds: 0, breachedRounds: 1 });
      const end = decide(validated, { ...d.status, rollback: { ...d.status.rollback!, validation: { ...d.status.rollback!.validation!, rounds: 3, passedRounds: 2, lastRoundAt: iso(94) } } }, obs(124, { round: stableRound(124) }));
      expect(end.status.rollback?.validation).toMatchObject({ result: 'Failed', message: expect.stringContaining('breached its thresholds in 1 of 4 rounds') });
      expect(eventReasons(end)).toContain('RollbackValidationFailed');
    },
  },
  {
    name: 'Validation: nothing measured against stable over the whole window -> NoData, a Warning RollbackValidationNoData',
    spec: validated, status: validating({ rounds: 3, passedRounds: 0, lastRoundAt: iso(94) }), obs: obs(124, { round: stableRound(124, { 'error-rate': 'NoData', latency: 'NoData' }) }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toMatchObject({ result: 'NoData', rounds: 4, passedRounds: 0, breachedRounds: 0, message: expect.stringContaining('could not be confirmed') });
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'RollbackValidationNoData' }));
      expect(notifications(d)).toEqual(['RollbackValidationFailed']);
    },
  },
  {
    name: 'Validation: the final round comes in while a target is missing -> the result is recorded all the same',
    spec: validated, status: validating({ rounds: 3, passedRounds: 3, lastRoundAt: iso(94) }), obs: obs(124, { round: stableRound(124), targets: [missing(), { ok: true, weight: 0 }] }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation?.result).toBe('Passed');
      expect(eventReasons(d)).toEqual(['RollbackValidated']);
    },
  },
  {
    name: 'Validation: a promote request takes the call of the final round -> the result follows in the next call, asked for at once',
    spec: validated, status: validating({ rounds: 3, passedRounds: 3, lastRoundAt: iso(94) }), obs: obs(124, { round: stableRound(124), requests: { promote: { value: 'p' } } }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(eventReasons(d)).toEqual(['PromoteIgnored']);
      expect(d.status.rollback?.validation).toMatchObject({ result: 'Running', rounds: 4 });
      expect(d.nextEvaluationAt).toBe(at(124));
      const next = decide(validated, d.status, obs(124, { requests: { promote: { value: 'p' } } }));
      expect(next.status.rollback?.validation).toMatchObject({ result: 'Passed', rounds: 4 });
      expect(next.nextEvaluationAt).toBeUndefined();
    },
  },
  {
    name: 'Validation: a canary round arriving while RolledBack is not a validation round',
    spec: validated, status: validating(), obs: obs(34, { round: round(34) }), phase: 'RolledBack', writes: [],
    then: (d) => expect(d.status.rollback?.validation).toMatchObject({ result: 'Running', rounds: 0 }),
  },
  {
    name: 'Validation: a person raises a target during the validation -> 0 is written back, the validation goes on',
    spec: validated, status: validating(), obs: obs(20, { targets: weights(0, 30) }), phase: 'RolledBack', writes: [[0, [1]]],
    then: (d) => expect(d.status.rollback?.validation?.result).toBe('Running'),
  },
  {
    name: 'Validation: a retry during the validation cancels it and starts over',
    spec: validated, status: validating({ rounds: 1, passedRounds: 1, lastRoundAt: iso(34) }), obs: obs(40, { requests: { retry: { value: 'r1' } } }), phase: 'Pending', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toMatchObject({ result: 'Cancelled', completedAt: iso(40), message: 'cancelled by a retry' });
      expect(roundDue(validated, d.status, at(400))).toBeUndefined();
      const started = decide(validated, d.status, obs(40));
      expect(started.status.phase).toBe('Progressing');
      expect(started.status.rollback).toBeUndefined();
    },
  },
  {
    name: 'Validation: the spec drops rollback.validation while it runs -> Cancelled, no event',
    status: validating(), obs: obs(34), phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.validation).toMatchObject({ result: 'Cancelled' });
      expect(d.actions).toEqual([]);
    },
  },

  // ---- the readiness gate: the weight about to be written needs ready canary endpoints ----
  {
    name: 'Readiness: Pending, the canary backend has 0 ready endpoints -> starts (Started) and holds at 0, nothing written; called again: BackendNotReady Warning once, Stalled False',
    status: undefined, obs: obs(0, { readiness: ready(0) }), phase: 'Holding', writes: [],
    recordsFirst: { event: 'Started' },
    then: (d, first) => {
      expect(first?.status.readiness?.stableReadyAtStart).toBe(10);
      expect(eventReasons(d)).toEqual(['BackendNotReady']);
      expect(notifications(d)).toEqual(['Holding']);
      expect(condition(d, 'Progressing')).toMatchObject({ status: 'False', reason: 'BackendNotReady', message: 'canary backend shop/checkout-svc has 0 ready endpoints, needs 1 for canary 5%' });
      expect(condition(d, 'Stalled')?.status).toBe('False');
      expect(d.status.readiness?.canary).toEqual({ weight: 5, backends: [{ service: 'shop/checkout-svc', ready: 0, required: 1 }] });
      // The same episode, reconciled again: no second announcement, still nothing written.
      const again = decide(plan, d.status, obs(5, { readiness: ready(0) }));
      expect(again.actions).toEqual([]);
      // Ready now: the step's weight is written at once.
      const going = decide(plan, again.status, obs(6, { readiness: ready(1) }));
      expect(going.status.phase).toBe('Progressing');
      expect(writes(going)).toEqual([[5, [0, 1]]]);
    },
  },
  {
    name: 'Readiness: step 1 done, the canary lost its endpoints -> Holding at step 1, the next step is not taken and nothing written',
    status: atStep(0, 5, 0), obs: obs(100, { targets: weights(5, 5), round: round(100), readiness: ready(0) }), phase: 'Holding', writes: [],
    then: (d) => {
      expect(d.status.currentStep).toBe(0);
      expect(condition(d, 'Progressing')?.message).toBe('canary backend shop/checkout-svc has 0 ready endpoints, needs 1 for canary 25%');
      expect(eventReasons(d)).toEqual(['BackendNotReady']);
    },
  },
  {
    name: 'Readiness: scaleWithWeight, 10 stable at start, 2 canary ready -> 25% needs 3: holds',
    spec: canary({ readiness: { scaleWithWeight: true } }),
    status: atStep(0, 5, 0, { readiness: { stableReadyAtStart: 10 } }), obs: obs(100, { targets: weights(5, 5), round: round(100), readiness: ready(2, 4) }), phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Progressing')?.message).toBe('canary backend shop/checkout-svc has 2 ready endpoints, needs 3 for canary 25%'),
  },
  {
    name: 'Readiness: scaleWithWeight, 3 canary ready -> advances and writes 25',
    spec: canary({ readiness: { scaleWithWeight: true } }),
    status: atStep(0, 5, 0, { readiness: { stableReadyAtStart: 10 } }), obs: obs(100, { targets: weights(5, 5), round: round(100), readiness: ready(3) }), phase: 'Progressing', writes: [[25, [0, 1]]],
    then: (d) => expect(d.status.readiness).toEqual({ stableReadyAtStart: 10, canary: { weight: 25, backends: [{ service: 'shop/checkout-svc', ready: 3, required: 3 }] } }),
  },
  {
    name: 'Readiness: a canary outside the cluster passes and says so',
    status: atStep(0, 5, 0), obs: obs(100, { targets: weights(5, 5), round: round(100), readiness: { canary: [{ service: 'checkout.example.com', external: true, message: 'no endpoints to count' }], stable: [] } }),
    phase: 'Progressing', writes: [[25, [0, 1]]],
    then: (d) => expect(d.status.readiness?.canary?.backends).toEqual([{ service: 'checkout.example.com', external: true, message: 'no endpoints to count' }]),
  },
  {
    name: 'Readiness: a canary whose endpoints cannot be counted holds, saying why',
    status: atStep(0, 5, 0), obs: obs(100, { targets: weights(5, 5), round: round(100), readiness: { canary: [{ service: 'shop/checkout-svc', message: 'forbidden' }], stable: [] } }),
    phase: 'Holding', writes: [],
    then: (d) => expect(condition(d, 'Progressing')?.message).toBe('canary backend shop/checkout-svc: its ready endpoints could not be counted (forbidden), needs 1 for canary 25%'),
  },
  {
    name: 'Readiness: enabled: false writes whatever the endpoints',
    spec: canary({ readiness: { enabled: false } }),
    status: atStep(0, 5, 0), obs: obs(100, { targets: weights(5, 5), round: round(100), readiness: ready(0) }), phase: 'Progressing', writes: [[25, [0, 1]]],
  },
  {
    name: 'Readiness: held by the gate, a rollback request writes 0 at once',
    status: atStep(0, 5, 0, { phase: 'Holding' }), obs: obs(100, { targets: weights(5, 5), requests: { rollback: { value: 'incident' } }, readiness: ready(0, 0) }),
    phase: 'RollingBack', writes: [[0, [0, 1]]],
  },
  {
    name: 'Readiness: a rollback lands while stable has 0 ready endpoints -> stableReadyEndpoints 0, StableNotReady Warning and notification, the RolledBack notification says it too',
    status: { ...atStep(1, 25, 0), phase: 'RollingBack', rollback: { reason: 'incident', triggeredAt: iso(9) } }, obs: obs(10, { targets: weights(0, 0), readiness: ready(1, 0) }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.stableReadyEndpoints).toBe(0);
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'event', type: 'Warning', reason: 'StableNotReady' }));
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'notify', event: 'RolledBack', message: expect.stringContaining('the stable backends have 0 ready endpoints') }));
      // Its own notification too, which a PagerDuty entry escalates.
      expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'notify', event: 'StableNotReady', message: expect.stringContaining('0 ready endpoints') }));
    },
  },
  {
    name: 'Readiness: a rollback lands with 4 stable endpoints ready -> recorded, no warning',
    status: { ...atStep(1, 25, 0), phase: 'RollingBack', rollback: { reason: 'incident', triggeredAt: iso(9) } }, obs: obs(10, { targets: weights(0, 0), readiness: ready(1, 4) }),
    phase: 'RolledBack', writes: [],
    then: (d) => {
      expect(d.status.rollback?.stableReadyEndpoints).toBe(4);
      expect(eventReasons(d)).not.toContain('StableNotReady');
    },
  },
];

describe('transitions', () => {
  it.each(rows)('$name', (row) => {
    const spec = 'spec' in row ? row.spec : plan;
    let d = decide(spec, row.status, row.obs);
    let first: Decision | undefined;
    if (row.recordsFirst) {
      first = d;
      expect(eventReasons(first)).toContain(row.recordsFirst.event);
      expect(writes(first)).toEqual([]);
      expect(first.nextEvaluationAt).toBe(row.obs.now);
      d = decide(spec, first.status, row.obs);
    }
    expect(d.status.phase).toBe(row.phase);
    expect(d.status.observedGeneration).toBe(row.obs.generation);
    if (row.writes) expect(writes(d)).toEqual(row.writes);
    row.then?.(d, first);
  });
});

describe('the transition table', () => {
  it('has no (phase, event) pair in two rows', () => {
    expect(duplicatePairs()).toEqual([]);
  });
  it('names only known events', () => {
    for (const row of TRANSITIONS) expect(ENGINE_EVENTS).toContain(row.on);
  });
  it('finds a duplicate when one exists', () => {
    expect(duplicatePairs([...TRANSITIONS, { from: ['Holding'], on: 'ChecksFailed', to: 'Holding' }])).toEqual(['Holding/ChecksFailed']);
  });
});
