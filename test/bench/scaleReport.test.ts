// The scale bench's pure parts: percentiles, step lags, the goals, the table and the chart.
import { GOALS, growth, judge, niceCeiling, percentile, rollbackRows, rollbackTable, stepLags, summarize, svgChart, table, type RollbackUnderLoad, type ScaleRun } from '../../src/bench/scaleReport';
import { readMetrics, requestLatencies, seriesOf } from '../../src/bench/scale';

function run(plans: number, overrides: Partial<ScaleRun> = {}): ScaleRun {
  return {
    plans,
    migrating: plans / 10,
    server: 'localkube (own process)',
    startupMs: 800,
    firstWeightsMs: 2_000,
    firstWeightsLanded: plans,
    stepLagMs: { count: plans / 5, p50: 20, p99: 120, max: 300 },
    reconcilesPerSecond: plans / 5,
    reconcilesPerSecondAtRest: plans / 10,
    apiRequestsPerReconcile: 4,
    rssMiB: 100 + plans / 100,
    heapMiB: 40 + plans / 200,
    cpuAtRestCores: 0.05 + plans / 100_000,
    atRestWindowMs: 30_000,
    webhookCalls: plans * 3,
    ...overrides,
  };
}

describe('percentile', () => {
  it('is the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN for no samples, and summarize says there were none', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([])).toEqual({ count: 0, p50: NaN, p99: NaN, max: NaN });
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('stepLags', () => {
  it('is the time from due to written, negative when the watch saw the weight early', () => {
    expect(stepLags([{ dueAt: 1000, writtenAt: 1040 }, { dueAt: 2000, writtenAt: 1990 }])).toEqual([40, -10]);
  });
});

describe('readMetrics', () => {
  it('sums every series of a name, and no other name that starts with it', () => {
    const text = [
      '# HELP trafficshift_reconciles_total reconciles',
      '# TYPE trafficshift_reconciles_total counter',
      'trafficshift_reconciles_total{result="ok"} 10',
      'trafficshift_reconciles_total{result="error"} 2',
      'process_resident_memory_bytes 1048576',
      'process_resident_memory_bytes_other 5',
    ].join('\n');
    expect(readMetrics(text, ['trafficshift_reconciles_total', 'process_resident_memory_bytes', 'absent'])).toEqual({
      trafficshift_reconciles_total: 12,
      process_resident_memory_bytes: 1048576,
      absent: 0,
    });
  });
});

describe('seriesOf', () => {
  it('keeps each series of one metric by its labels', () => {
    const text = [
      'trafficshift_kube_requests_total{verb="get",resource="services",code="200"} 7',
      'trafficshift_kube_requests_total{verb="list",resource="endpointslices.discovery.k8s.io",code="200"} 3',
      'trafficshift_kube_request_duration_seconds_sum{verb="get"} 1',
    ].join('\n');
    expect(seriesOf(text, 'trafficshift_kube_requests_total')).toEqual({
      '{verb="get",resource="services",code="200"}': 7,
      '{verb="list",resource="endpointslices.discovery.k8s.io",code="200"}': 3,
    });
  });
});

describe('requestLatencies', () => {
  it('is the mean and count per verb between two scrapes, leaving out verbs with no new request', () => {
    const scrape = (getSum: number, getCount: number, patchSum: number, patchCount: number): string => [
      `trafficshift_kube_request_duration_seconds_bucket{le="0.005",verb="get"} ${getCount}`,
      `trafficshift_kube_request_duration_seconds_sum{verb="get"} ${getSum}`,
      `trafficshift_kube_request_duration_seconds_count{verb="get"} ${getCount}`,
      `trafficshift_kube_request_duration_seconds_sum{verb="patch"} ${patchSum}`,
      `trafficshift_kube_request_duration_seconds_count{verb="patch"} ${patchCount}`,
    ].join('\n');
    const latencies = requestLatencies(scrape(10, 1000, 1, 50), scrape(12, 1100, 1, 50));
    expect(Object.keys(latencies)).toEqual(['get']);
    expect(latencies['get']?.count).toBe(100);
    expect(latencies['get']?.meanMs).toBeCloseTo(20);
  });
});

describe('goals', () => {
  it('judges each goal on its bound', () => {
    const met = judge(run(1000, { rssMiB: GOALS.rssMiB - 1, cpuAtRestCores: 0.29 }));
    expect(met.every((g) => g.met)).toBe(true);
    const missed = judge(run(1000, { rssMiB: 441, stepLagMs: { count: 1, p50: 1, p99: 250, max: 250 }, firstWeightsMs: null, firstWeightsLanded: 990, cpuAtRestCores: 0.6 }));
    expect(missed.map((g) => [g.name, g.met])).toEqual([['RSS', false], ['p99 step lag', false], ['all first weights', false], ['CPU at rest', false]]);
    expect(missed.find((g) => g.name === 'all first weights')?.value).toBe('990/1000 landed');
  });

  it('gives growth per added plan between consecutive runs, in order of N', () => {
    const g = growth([run(5000), run(1000), run(100)]);
    expect(g.map((s) => [s.from, s.to])).toEqual([[100, 1000], [1000, 5000]]);
    // rss grows by 1 MiB per 100 plans: 10.24 KiB per plan.
    expect(g[1]?.rssKiBPerPlan).toBeCloseTo(10.24);
    expect(g[1]?.cpuMilliCorePerPlan).toBeCloseTo(0.01);
  });
});

describe('table', () => {
  it('has one column per N, sorted, and judges the goals on the 1,000-plan run', () => {
    const text = table([run(1000, { rssMiB: 441 }), run(100)]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^plans\s+100\s+1000$/);
    expect(text).toContain('step lag p99');
    expect(text).toContain('judged on the 1000-plan run');
    expect(text).toMatch(/MISSED {2}RSS: 441\.0 MiB \(goal < 150 MiB\)/);
    expect(text).toMatch(/met +p99 step lag: 120 ms/);
    expect(text).toContain('100 -> 1000');
  });

  it('says how many first weights landed when not all did', () => {
    expect(table([run(100, { firstWeightsMs: null, firstWeightsLanded: 97 })])).toMatch(/all first weights landed\s+97\/100/);
  });
});

describe('svgChart', () => {
  it('draws a point per N in each of its two panels, and each goal as a dashed line', () => {
    const svg = svgChart([run(100), run(1000), run(5000)]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle class="point"/g)).toHaveLength(6);
    expect(svg.match(/<polyline class="series"/g)).toHaveLength(2);
    expect(svg.match(/<line class="goal"[^>]*stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain('goal 250 ms');
    expect(svg).toContain('goal 150 MiB');
    expect(svg).toContain('<title>1000 plans: 110.0 MiB</title>');
  });

  it('keeps every point inside its panel, even far above the goal', () => {
    const svg = svgChart([run(100), run(1000, { rssMiB: 10_000, stepLagMs: { count: 1, p50: 1, p99: 1e6, max: 1e6 } })]);
    for (const [, cx, cy] of svg.matchAll(/<circle class="point" cx="([-\d.]+)" cy="([-\d.]+)"/g)) {
      expect(Number(cx)).toBeGreaterThanOrEqual(0);
      expect(Number(cx)).toBeLessThanOrEqual(300);
      expect(Number(cy)).toBeGreaterThanOrEqual(0);
      expect(Number(cy)).toBeLessThanOrEqual(200);
    }
  });

  it('leaves out a run with no step lag measured rather than drawing NaN', () => {
    const svg = svgChart([run(100, { stepLagMs: { count: 0, p50: NaN, p99: NaN, max: NaN } }), run(1000)]);
    expect(svg).not.toContain('NaN');
    expect(svg.match(/<circle class="point"/g)).toHaveLength(3);
  });

  it('rounds axis tops to 1, 2 or 5 times a power of ten', () => {
    expect([niceCeiling(0), niceCeiling(1), niceCeiling(130), niceCeiling(300), niceCeiling(501), niceCeiling(180)]).toEqual([1, 1, 200, 500, 1000, 200]);
  });
});

describe('rollback under load', () => {
  const measured = (overrides: Partial<RollbackUnderLoad> = {}): RollbackUnderLoad => ({
    targets: 3,
    rollbackMs: [900, 300, 400, 350, 380],
    alertMs: [200, 220, 2_500, 210, 205],
    bareMs: [20, 40, 30, 25, 35],
    newPlanFirstWeightMs: [37_000, 36_000],
    ...overrides,
  });

  it('gives each way median and max, the ratio of medians to the bare PATCHes, and judges the 1 s goal on the max', () => {
    const [rest, alert, bare, fresh] = rollbackRows(measured());
    expect(rest).toMatchObject({ name: 'rollback request (REST)', median: 380, max: 900, met: true, landed: 5, count: 5 });
    expect(rest?.ratioToBare).toBeCloseTo(380 / 30);
    // One alert over the second misses the goal, though its median is far under it.
    expect(alert).toMatchObject({ median: 210, max: 2_500, met: false });
    expect(bare).toMatchObject({ name: 'bare 3 PATCHes', median: 30, ratioToBare: 1, met: true });
    expect(fresh?.met).toBeUndefined();
  });

  it('counts a rollback never seen at 0 as late: the goal missed, its median from the others', () => {
    const [rest] = rollbackRows(measured({ rollbackMs: [100, null, 120] }));
    expect(rest).toMatchObject({ landed: 2, count: 3, max: Number.POSITIVE_INFINITY, met: false });
    expect(rest?.median).toBe(100);
    expect(rollbackTable([run(1000, { rollbackUnderLoad: measured({ rollbackMs: [100, null, 120] }) })])).toMatch(/rollback request \(REST\)\s+100 ms\s+1\/3 late\s+×3\.3\s+✗/);
  });

  it('prints one block per N that measured it, smallest N first, with the goal marked', () => {
    const text = rollbackTable([run(1000, { rollbackUnderLoad: measured({ rollbackMs: [32_000, 31_000, 33_000] }) }), run(100, { rollbackUnderLoad: measured() }), run(10)]);
    const blocks = text.split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(/^rollback under load, 100 plans \(5 of each, 3 targets/);
    expect(blocks[1]).toMatch(/rollback request \(REST\)\s+32\.0 s\s+33\.0 s\s+×1067\s+✗/);
    expect(blocks[1]).toMatch(/bare 3 PATCHes\s+30 ms\s+40 ms\s+✓/);
    expect(blocks[1]).toMatch(/new plan, 3 first weights\s+36\.0 s\s+37\.0 s\s+×1200$/m);
  });

  it('says what the controller\'s own requests cost it meanwhile, when it was read', () => {
    const text = rollbackTable([run(1000, { rollbackUnderLoad: measured({ controller: { eventLoopLagP99Ms: 41.94, requests: { patch: { count: 40, meanMs: 12.25 }, get: { count: 900, meanMs: 8 } } } }) })]);
    expect(text).toMatch(/controller meanwhile: event-loop lag p99 41\.9 ms; its API requests, mean by verb: get 8\.0 ms \(900\), patch 12\.3 ms \(40\)$/);
    expect(rollbackTable([run(1000, { rollbackUnderLoad: measured() })])).not.toContain('controller meanwhile');
  });

  it('adds the REST and alert rollbacks to the goals of the summary, only when measured', () => {
    expect(judge(run(1000)).map((g) => g.name)).not.toContain('rollback request (REST) under load');
    const checks = judge(run(1000, { rollbackUnderLoad: measured() })).slice(4);
    expect(checks.map((g) => [g.name, g.met])).toEqual([['rollback request (REST) under load', true], ['firing alert under load', false]]);
    expect(checks[0]?.value).toBe('max 900 ms, median 380 ms (×13 bare)');
    expect(table([run(1000, { rollbackUnderLoad: measured() })])).toMatch(/MISSED {2}firing alert under load: max 2500 ms/);
  });
});
