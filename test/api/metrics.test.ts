import type { MetricValue } from 'prom-client';
import { METRIC_NAMES, TrafficshiftMetrics } from '../../src/api/metrics';
import { feedPlanMetrics } from '../../src/api/planMetrics';
import type { KubeObject as CachedObject } from '../../src/controller/informer';
import { createAnalysisRunner } from '../../src/checks';
import { MigrationPlanSpec } from '../../src/plan/schema';

const PLAN = { namespace: 'shop', name: 'checkout-v2' };
const T0 = Date.parse('2026-11-27T09:00:00Z');

function fresh(since = T0): TrafficshiftMetrics {
  return new TrafficshiftMetrics({ version: '1.2.3', processMetrics: false, since });
}

async function values(metrics: TrafficshiftMetrics, name: string): Promise<Array<MetricValue<string> & { metricName?: string }>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values;
}

describe('check metrics', () => {
  it('records the value and the duration by result', async () => {
    const m = fresh();
    m.checks.observe(PLAN, 'error-rate', 0.02, 'Fail', 0.04);
    expect(await values(m, METRIC_NAMES.checkValue)).toStrictEqual([{ labels: { namespace: 'shop', plan: 'checkout-v2', check: 'error-rate' }, value: 0.02 }]);
    const count = (await values(m, METRIC_NAMES.checkDuration)).find((v) => v.metricName === `${METRIC_NAMES.checkDuration}_count`);
    expect(count).toMatchObject({ labels: { namespace: 'shop', plan: 'checkout-v2', check: 'error-rate', result: 'Fail' }, value: 1 });
  });

  it('drops the value when a round measures nothing, rather than keep an old one', async () => {
    const m = fresh();
    m.checks.observe(PLAN, 'error-rate', 0.02, 'Pass', 0.01);
    m.checks.observe(PLAN, 'error-rate', null, 'NoData', 0.01);
    expect(await values(m, METRIC_NAMES.checkValue)).toStrictEqual([]);
  });

  it('is what the analysis runner reports into, one observation per check per round', async () => {
    const m = fresh();
    const spec = MigrationPlanSpec.parse({
      targets: [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'stable', canaryBackend: 'canary' } }],
      steps: [{ weight: 10 }, { weight: 100 }],
      analysis: { checks: [{ name: 'smoke', webhook: { url: 'http://checks.invalid/smoke' }, max: 0.05 }] },
    });
    const fakeFetch = (async () => new Response(JSON.stringify({ value: 0.01 }), { status: 200 })) as typeof fetch;
    const runner = createAnalysisRunner({ secrets: { read: () => Promise.reject(new Error('none')) }, fetch: fakeFetch, metrics: m.checks });
    await runner.runRound({ plan: PLAN, spec, step: 0, weight: 10, signal: new AbortController().signal });
    expect(await values(m, METRIC_NAMES.checkValue)).toStrictEqual([{ labels: { namespace: 'shop', plan: 'checkout-v2', check: 'smoke' }, value: 0.01 }]);
  });
});

describe('plan metrics', () => {
  it('sets 1 for the current phase and 0 for every other', async () => {
    const m = fresh();
    m.recordPlan(PLAN, { phase: 'Progressing' });
    m.recordPlan(PLAN, { phase: 'Holding' });
    const series = await values(m, METRIC_NAMES.planPhase);
    expect(series.filter((s) => s.value === 1).map((s) => s.labels['phase'])).toStrictEqual(['Holding']);
    expect(series).toHaveLength(9);
  });

  it('a plan without status is Pending', async () => {
    const m = fresh();
    m.recordPlan(PLAN, undefined);
    expect((await values(m, METRIC_NAMES.planPhase)).find((s) => s.value === 1)?.labels['phase']).toBe('Pending');
  });

  it('observes each rollback\'s recovery time once, however often its status is seen', async () => {
    const m = fresh();
    const status = { phase: 'RolledBack', rollback: { reason: 'error-rate', triggeredAt: '2026-11-27T09:01:00Z', completedAt: '2026-11-27T09:01:02Z', recoverySeconds: 1.5 } };
    m.recordPlan(PLAN, status);
    m.recordPlan(PLAN, status);
    const all = await values(m, METRIC_NAMES.rollbackRecovery);
    expect(all.find((v) => v.metricName === `${METRIC_NAMES.rollbackRecovery}_count`)?.value).toBe(1);
    expect(all.find((v) => v.metricName === `${METRIC_NAMES.rollbackRecovery}_sum`)?.value).toBe(1.5);
    // A retried plan that rolls back again is a new rollback.
    m.recordPlan(PLAN, { ...status, rollback: { ...status.rollback, triggeredAt: '2026-11-27T09:05:00Z', completedAt: '2026-11-27T09:05:01Z', recoverySeconds: 0.5 } });
    expect((await values(m, METRIC_NAMES.rollbackRecovery)).find((v) => v.metricName === `${METRIC_NAMES.rollbackRecovery}_count`)?.value).toBe(2);
  });

  it('does not count a rollback that completed before this process started', async () => {
    const m = fresh(Date.parse('2026-11-27T10:00:00Z'));
    m.recordPlan(PLAN, { phase: 'RolledBack', rollback: { reason: 'x', triggeredAt: '2026-11-27T09:01:00Z', completedAt: '2026-11-27T09:01:02Z', recoverySeconds: 1.5 } });
    const count = (await values(m, METRIC_NAMES.rollbackRecovery)).find((v) => v.metricName === `${METRIC_NAMES.rollbackRecovery}_count`);
    expect(count?.value ?? 0).toBe(0);
  });

  it('reports the canary weight, a stall, the latest rollback and how long it took', async () => {
    const m = fresh();
    const labels = { namespace: 'shop', plan: 'checkout-v2' };
    m.recordPlan(PLAN, {
      phase: 'RolledBack',
      canaryWeight: 0,
      conditions: [{ type: 'Stalled', status: 'True', reason: 'RolledBack', message: '', lastTransitionTime: '2026-11-27T09:01:02Z' }],
      rollback: { reason: 'error-rate', triggeredAt: '2026-11-27T09:01:00Z', completedAt: '2026-11-27T09:01:02Z', recoverySeconds: 1.5 },
    });
    expect(await values(m, METRIC_NAMES.canaryWeight)).toStrictEqual([expect.objectContaining({ labels, value: 0 })]);
    expect(await values(m, METRIC_NAMES.stalled)).toStrictEqual([expect.objectContaining({ labels, value: 1 })]);
    expect(await values(m, METRIC_NAMES.lastRecovery)).toStrictEqual([expect.objectContaining({ labels, value: 1.5 })]);
    expect(await values(m, METRIC_NAMES.rollbackStarted)).toStrictEqual([expect.objectContaining({ labels, value: Date.parse('2026-11-27T09:01:00Z') / 1000 })]);

    // Retried: running again at 10%, no stall, no rollback in the status any more.
    m.recordPlan(PLAN, { phase: 'Progressing', canaryWeight: 10, conditions: [{ type: 'Stalled', status: 'False', reason: 'Progressing', message: '', lastTransitionTime: '2026-11-27T09:05:00Z' }] });
    expect(await values(m, METRIC_NAMES.canaryWeight)).toStrictEqual([expect.objectContaining({ labels, value: 10 })]);
    expect(await values(m, METRIC_NAMES.stalled)).toStrictEqual([expect.objectContaining({ labels, value: 0 })]);
    expect(await values(m, METRIC_NAMES.lastRecovery)).toStrictEqual([]);
    expect(await values(m, METRIC_NAMES.rollbackStarted)).toStrictEqual([]);
  });

  it('reports the rollback validation\'s result, one series per result, none without a validation, and forgets it with the plan', async () => {
    const m = fresh();
    const results = async (): Promise<string[]> => (await values(m, METRIC_NAMES.rollbackValidation)).map((v) => `${v.labels['result']}=${v.value}`).sort();
    const rolledBack = (result?: string) => ({
      phase: 'RolledBack',
      rollback: {
        reason: 'x', triggeredAt: '2026-11-27T09:01:00Z', completedAt: '2026-11-27T09:01:02Z', recoverySeconds: 2,
        ...(result === undefined ? {} : { validation: { result, startedAt: '2026-11-27T09:01:02Z', rounds: 0, passedRounds: 0, breachedRounds: 0 } }),
      },
    });
    m.recordPlan(PLAN, rolledBack());
    expect(await results()).toStrictEqual([]);
    m.recordPlan(PLAN, rolledBack('Running'));
    expect(await results()).toStrictEqual(['Cancelled=0', 'Failed=0', 'NoData=0', 'Passed=0', 'Running=1']);
    m.recordPlan(PLAN, rolledBack('Failed'));
    expect(await results()).toStrictEqual(['Cancelled=0', 'Failed=1', 'NoData=0', 'Passed=0', 'Running=0']);
    expect((await values(m, METRIC_NAMES.rollbackValidation)).every((v) => v.labels['namespace'] === 'shop' && v.labels['plan'] === 'checkout-v2')).toBe(true);
    // Retried and started again: the rollback, and its validation, are gone from the status.
    m.recordPlan(PLAN, { phase: 'Progressing' });
    expect(await results()).toStrictEqual([]);
    m.recordPlan(PLAN, rolledBack('Passed'));
    m.forgetPlan(PLAN);
    expect(await results()).toStrictEqual([]);
  });

  it('has no weight series until a weight is known, rather than a made-up 0', async () => {
    const m = fresh();
    m.recordPlan(PLAN, { phase: 'Pending' });
    expect(await values(m, METRIC_NAMES.canaryWeight)).toStrictEqual([]);
  });

  it('reports the RTO and each check bound from the spec, and follows edits of them', async () => {
    const m = fresh();
    const spec = {
      rollback: { rto: '1m30s' },
      analysis: { checks: [{ name: 'error-rate', max: 0.01 }, { name: 'throughput', min: 5, max: 500 }] },
    };
    m.recordPlan(PLAN, { phase: 'Progressing' }, spec);
    expect((await values(m, METRIC_NAMES.rto)).map((v) => v.value)).toStrictEqual([90]);
    const bounds = async (): Promise<string[]> => (await values(m, METRIC_NAMES.checkThreshold)).map((v) => `${v.labels['check']}/${v.labels['bound']}=${v.value}`).sort();
    expect(await bounds()).toStrictEqual(['error-rate/max=0.01', 'throughput/max=500', 'throughput/min=5']);

    m.recordPlan(PLAN, { phase: 'Progressing' }, { analysis: { checks: [{ name: 'throughput', min: 10 }] } });
    expect(await values(m, METRIC_NAMES.rto)).toStrictEqual([]);
    expect(await bounds()).toStrictEqual(['throughput/min=10']);

    m.forgetPlan(PLAN);
    expect(await bounds()).toStrictEqual([]);
  });

  it('reports no RTO for a spec whose rto does not parse, and still reports the phase', async () => {
    const m = fresh();
    m.recordPlan(PLAN, { phase: 'Failed' }, { rollback: { rto: 'soon' } });
    expect(await values(m, METRIC_NAMES.rto)).toStrictEqual([]);
    expect((await values(m, METRIC_NAMES.planPhase)).find((s) => s.value === 1)?.labels['phase']).toBe('Failed');
  });

  it('forgets a deleted plan\'s phase and check series', async () => {
    const m = fresh();
    m.recordPlan(PLAN, { phase: 'Progressing' });
    m.checks.observe(PLAN, 'error-rate', 0.01, 'Pass', 0.01);
    m.recordPlan({ namespace: 'shop', name: 'other' }, { phase: 'Succeeded' });
    m.forgetPlan(PLAN);
    expect((await values(m, METRIC_NAMES.planPhase)).every((s) => s.labels['plan'] === 'other')).toBe(true);
    expect(await values(m, METRIC_NAMES.checkValue)).toStrictEqual([]);
  });
});

/** A plan as the controller's cache holds it. */
function cachedPlan(name: string, checks: readonly string[], resourceVersion: string, status: unknown = { phase: 'Progressing' }): CachedObject {
  return {
    apiVersion: 'trafficshift.io/v1alpha1',
    kind: 'MigrationPlan',
    metadata: { name, namespace: 'shop', resourceVersion },
    spec: {
      targets: [{ provider: 'nginx', nginx: { ingress: name, canaryIngress: `${name}-canary` } }],
      steps: [{ weight: 10 }, { weight: 100 }],
      analysis: { checks: checks.map((check) => ({ name: check, query: 'vector(0)', max: 1 })) },
      rollback: { rto: '30s' },
    },
    status,
  } as CachedObject;
}

/** The lines of the /metrics text that are series of `plan`. */
function seriesOf(text: string, plan: string): string[] {
  return text.split('\n').filter((line) => !line.startsWith('#') && line.includes(`plan="${plan}"`));
}
const planSeries = (text: string): string[] => text.split('\n').filter((line) => !line.startsWith('#') && line.includes('plan="'));

describe('plan metrics follow the controller\'s plan cache', () => {
  it('drops every series of the plans that went: cardinality follows the live plans', async () => {
    const m = fresh();
    const rolledBack = {
      phase: 'RolledBack',
      canaryWeight: 0,
      rollback: {
        reason: 'x', triggeredAt: '2026-11-27T09:01:00Z', completedAt: '2026-11-27T09:01:02Z', recoverySeconds: 1.5,
        validation: { result: 'Running', startedAt: '2026-11-27T09:01:02Z', rounds: 0, passedRounds: 0, breachedRounds: 0 },
      },
    };
    let cache = Array.from({ length: 60 }, (_, i) => cachedPlan(`p-${i}`, ['error-rate', 'latency'], '1', rolledBack));
    feedPlanMetrics(m, () => cache);
    for (let i = 0; i < 60; i++) {
      const plan = { namespace: 'shop', name: `p-${i}` };
      m.checks.observe(plan, 'error-rate', 0.01, 'Pass', 0.02);
      m.checks.observe(plan, 'latency', null, 'NoData', 0.02);
      m.controller.weightWritten(plan, 'nginx', 10);
    }
    const before = await m.registry.metrics();
    const perPlan = seriesOf(before, 'p-0').length;
    // Phase, check value and durations, recovery time and weight writes, all labelled with it.
    const processWide: string[] = [METRIC_NAMES.buildInfo, METRIC_NAMES.leader, METRIC_NAMES.reconciles, METRIC_NAMES.reconcileDuration, METRIC_NAMES.kubeRequests, METRIC_NAMES.kubeRequestDuration, METRIC_NAMES.notifications];
    for (const name of Object.values(METRIC_NAMES).filter((n) => !processWide.includes(n))) {
      expect(seriesOf(before, 'p-0').some((line) => line.startsWith(name))).toBe(true);
    }
    expect(planSeries(before)).toHaveLength(60 * perPlan);

    cache = cache.slice(58);
    const after = await m.registry.metrics();
    expect(planSeries(after)).toHaveLength(2 * perPlan);
    expect(planSeries(after).every((line) => line.includes('plan="p-58"') || line.includes('plan="p-59"'))).toBe(true);

    cache = [];
    expect(planSeries(await m.registry.metrics())).toStrictEqual([]);
  });

  it('drops the series of a check the plan renamed, and keeps the others', async () => {
    const m = fresh();
    const plan = { namespace: 'shop', name: 'checkout' };
    let cache = [cachedPlan('checkout', ['error-rate', 'latency'], '1')];
    feedPlanMetrics(m, () => cache);
    m.checks.observe(plan, 'error-rate', 0.01, 'Pass', 0.02);
    m.checks.observe(plan, 'error-rate', 0.2, 'Fail', 0.02);
    m.checks.observe(plan, 'latency', 0.3, 'Pass', 0.02);
    expect((await m.registry.metrics())).toContain('check="error-rate"');

    cache = [cachedPlan('checkout', ['error-ratio', 'latency'], '2')];
    const text = await m.registry.metrics();
    expect(text).not.toContain('check="error-rate"');
    expect(text).toContain('trafficshift_check_value{namespace="shop",plan="checkout",check="latency"} 0.3');
    expect(text).toMatch(/^trafficshift_plan_phase\{namespace="shop",plan="checkout",phase="Progressing"\} 1$/m);
  });

  it('drops what a round still in flight reports for a check or a plan that is gone', async () => {
    const m = fresh();
    const cache = [cachedPlan('checkout', ['latency'], '1')];
    feedPlanMetrics(m, () => cache);
    await m.registry.metrics();
    m.checks.observe({ namespace: 'shop', name: 'checkout' }, 'error-rate', 0.01, 'Pass', 0.02);
    m.checks.observe({ namespace: 'shop', name: 'deleted' }, 'latency', 0.01, 'Pass', 0.02);
    const text = await m.registry.metrics();
    expect(text).not.toContain('check="error-rate"');
    expect(seriesOf(text, 'deleted')).toStrictEqual([]);
  });

  it('observes a rollback\'s recovery time once, however often the unchanged plan is scraped', async () => {
    const m = fresh();
    const status = { phase: 'RolledBack', rollback: { reason: 'x', triggeredAt: '2026-11-27T09:01:00Z', completedAt: '2026-11-27T09:01:02Z', recoverySeconds: 1.5 } };
    let cache = [cachedPlan('checkout', [], '1', status)];
    feedPlanMetrics(m, () => cache);
    await m.registry.metrics();
    await m.registry.metrics();
    cache = [cachedPlan('checkout', [], '2', status)];
    const count = (await values(m, METRIC_NAMES.rollbackRecovery)).find((v) => v.metricName === `${METRIC_NAMES.rollbackRecovery}_count`);
    expect(count?.value).toBe(1);
  });
});

describe('controller metrics', () => {
  it('reports leadership and counts weight writes per plan and provider', async () => {
    const m = new TrafficshiftMetrics({ version: 't', processMetrics: false });
    m.controller.leading(true);
    m.controller.weightWritten({ namespace: 'shop', name: 'checkout' }, 'nginx', 10);
    m.controller.weightWritten({ namespace: 'shop', name: 'checkout' }, 'nginx', 50);
    let text = await m.registry.metrics();
    expect(text).toMatch(/^trafficshift_leader 1$/m);
    expect(text).toMatch(/^trafficshift_weight_writes_total\{namespace="shop",plan="checkout",provider="nginx"\} 2$/m);
    m.controller.leading(false);
    text = await m.registry.metrics();
    expect(text).toMatch(/^trafficshift_leader 0$/m);
  });

  it('counts reconciles by result, with both results at 0 from the start', async () => {
    const m = new TrafficshiftMetrics({ version: 't', processMetrics: false });
    let text = await m.registry.metrics();
    expect(text).toMatch(/^trafficshift_reconciles_total\{result="error"\} 0$/m);
    expect(text).toMatch(/^trafficshift_reconciles_total\{result="success"\} 0$/m);
    m.controller.reconciled('success', 0.01);
    m.controller.reconciled('error', 2);
    m.controller.reconciled('error', 0.2);
    text = await m.registry.metrics();
    expect(text).toMatch(/^trafficshift_reconciles_total\{result="error"\} 2$/m);
    expect(text).toMatch(/^trafficshift_reconcile_duration_seconds_count\{result="error"\} 2$/m);
    expect(text).toMatch(/^trafficshift_reconcile_duration_seconds_sum\{result="error"\} 2.2$/m);
  });
});
