// The scale bench's figures, judged and drawn: percentiles, the goals of issue 18, the table it
// prints and the SVG chart of p99 step lag and RSS against the number of plans. Pure: scale.ts
// measures, this file only computes and renders, so its tests need no cluster and no clock.

export interface LagSummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** What one run with N plans measured; times in ms, memory in MiB, CPU in cores (1 = a whole core). */
export interface ScaleRun {
  plans: number;
  migrating: number;
  /** 'localkube (own process)' or the kubeconfig's server. */
  server: string;
  /** Controller spawn to /readyz answering 200 (caches synced). */
  startupMs: number;
  /** Controller spawn to the last plan's first weight seen by the bench's watch; null when not all landed. */
  firstWeightsMs: number | null;
  firstWeightsLanded: number;
  /** A step due (stepStartedAt + pause) to its weight seen on the target Ingress. */
  stepLagMs: LagSummary;
  /** Over the whole run, from the controller's start to the at-rest window's end. */
  reconcilesPerSecond: number;
  reconcilesPerSecondAtRest: number;
  apiRequestsPerReconcile: number;
  rssMiB: number;
  heapMiB: number;
  cpuAtRestCores: number;
  atRestWindowMs: number;
  webhookCalls: number;
  /** The controller's API requests at the end, by series ({verb, resource, code}): where they go. */
  kubeRequests?: Record<string, number>;
  /** Its reconciles at the end, by result. */
  reconcileResults?: Record<string, number>;
  /** Issue 18's rollback under load, measured after the at-rest window with every plan loaded. */
  rollbackUnderLoad?: RollbackUnderLoad;
}

/**
 * One sample per repetition: ms from the request sent to the bench's watch seeing every target at
 * 0 (null: not within the bench's timeout). Bare is the same 3 PATCHes sent by the bench itself to
 * the same API server at once, seen by the same watch: the floor the other two are compared with.
 */
export interface RollbackUnderLoad {
  targets: number;
  rollbackMs: Array<number | null>;
  alertMs: Array<number | null>;
  bareMs: Array<number | null>;
  /** Plan created to every one of its targets at its first weight (the plans then rolled back). */
  newPlanFirstWeightMs: Array<number | null>;
  /** status.rollback.recoverySeconds the controller wrote for the REST and alert rollbacks. */
  reportedRecoveryMs?: Array<number | null>;
  /** The controller meanwhile, from its /metrics: what its own requests cost it under its load. */
  controller?: {
    eventLoopLagP99Ms: number;
    /** By verb, over the rollback phase (every plan's requests, not the rollbacks' alone). */
    requests: Record<string, { count: number; meanMs: number }>;
  };
}

/** Issue 18: a rollback (REST or alert) has every target at 0 within a second, every time. */
export const ROLLBACK_GOAL_MS = 1000;

export interface LatencyRow {
  name: string;
  landed: number;
  count: number;
  median: number;
  /** Infinity when a sample did not land. */
  max: number;
  /** Median over the bare PATCHes' median. */
  ratioToBare: number;
  /** Undefined for a row the goal does not apply to. */
  met?: boolean;
}

function latencyRow(name: string, samples: ReadonlyArray<number | null>, bareMedian: number, goalMs?: number): LatencyRow {
  const landed = samples.filter((x): x is number => x !== null);
  const median = percentile(landed, 50);
  const max = landed.length < samples.length ? Number.POSITIVE_INFINITY : landed.length ? Math.max(...landed) : Number.NaN;
  const row: LatencyRow = { name, landed: landed.length, count: samples.length, median, max, ratioToBare: median / bareMedian };
  // Judged on the max: the goal is every rollback within the second, not a typical one.
  if (goalMs !== undefined) row.met = samples.length > 0 && max < goalMs;
  return row;
}

export function rollbackRows(r: RollbackUnderLoad): LatencyRow[] {
  const bareMedian = percentile(r.bareMs.filter((x): x is number => x !== null), 50);
  return [
    latencyRow('rollback request (REST)', r.rollbackMs, bareMedian, ROLLBACK_GOAL_MS),
    latencyRow('firing alert', r.alertMs, bareMedian, ROLLBACK_GOAL_MS),
    latencyRow(`bare ${r.targets} PATCHes`, r.bareMs, bareMedian, ROLLBACK_GOAL_MS),
    latencyRow(`new plan, ${r.targets} first weights`, r.newPlanFirstWeightMs, bareMedian),
  ];
}

function ratio(x: number): string {
  return Number.isFinite(x) ? `×${x >= 10 ? Math.round(x) : x.toFixed(1)}` : '-';
}

/** Per N: each way to roll back beside the bare PATCHes, median and max, and the 1 s goal. */
export function rollbackTable(runs: readonly ScaleRun[]): string {
  const sorted = [...runs].sort((a, b) => a.plans - b.plans).filter((r) => r.rollbackUnderLoad);
  const blocks: string[] = [];
  for (const run of sorted) {
    const r = run.rollbackUnderLoad as RollbackUnderLoad;
    const cells = [['', 'median', 'max', 'vs bare', `< ${ROLLBACK_GOAL_MS / 1000} s`]];
    for (const row of rollbackRows(r)) {
      const max = row.landed < row.count ? `${row.count - row.landed}/${row.count} late` : ms(row.max);
      cells.push([row.name, ms(row.median), max, row.name.startsWith('bare') ? '' : ratio(row.ratioToBare), row.met === undefined ? '' : row.met ? '✓' : '✗']);
    }
    const lines = pad(cells).split('\n').map((l) => `  ${l}`);
    if (r.controller) {
      const verbs = Object.entries(r.controller.requests).sort(([a], [b]) => a.localeCompare(b)).map(([verb, v]) => `${verb} ${v.meanMs.toFixed(1)} ms (${v.count})`);
      lines.push(`  controller meanwhile: event-loop lag p99 ${r.controller.eventLoopLagP99Ms.toFixed(1)} ms; its API requests, mean by verb: ${verbs.join(', ') || 'none'}`);
    }
    blocks.push([`rollback under load, ${run.plans} plans (${r.rollbackMs.length} of each, ${r.targets} targets, request sent to every target seen at 0):`, ...lines].join('\n'));
  }
  return blocks.join('\n\n');
}

/** Nearest-rank percentile (p in 0..100) of xs; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(xs: readonly number[]): LagSummary {
  return { count: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.length ? Math.max(...xs) : Number.NaN };
}

/** One step's timing: when it was due and when the bench's watch saw its weight. */
export interface StepTiming {
  dueAt: number;
  writtenAt: number;
}

export function stepLags(timings: readonly StepTiming[]): number[] {
  return timings.map((t) => t.writtenAt - t.dueAt);
}

/** The issue's goals for the controller process at 1,000 plans. */
export const GOALS = {
  rssMiB: 150,
  p99LagMs: 250,
  firstWeightsMs: 30_000,
  cpuAtRestCores: 0.3,
} as const;

export interface GoalCheck {
  name: string;
  value: string;
  goal: string;
  met: boolean;
}

/** The goals, judged on one run (they are stated for 1,000 plans; shown for every N as a reference). */
export function judge(run: ScaleRun): GoalCheck[] {
  return [
    { name: 'RSS', value: `${run.rssMiB.toFixed(1)} MiB`, goal: `< ${GOALS.rssMiB} MiB`, met: run.rssMiB < GOALS.rssMiB },
    { name: 'p99 step lag', value: ms(run.stepLagMs.p99), goal: `< ${GOALS.p99LagMs} ms`, met: run.stepLagMs.p99 < GOALS.p99LagMs },
    {
      name: 'all first weights',
      value: run.firstWeightsMs === null ? `${run.firstWeightsLanded}/${run.plans} landed` : ms(run.firstWeightsMs),
      goal: `< ${GOALS.firstWeightsMs / 1000} s`,
      met: run.firstWeightsMs !== null && run.firstWeightsMs < GOALS.firstWeightsMs,
    },
    { name: 'CPU at rest', value: `${(run.cpuAtRestCores * 100).toFixed(1)}% core`, goal: `< ${GOALS.cpuAtRestCores * 100}% core`, met: run.cpuAtRestCores < GOALS.cpuAtRestCores },
    ...(run.rollbackUnderLoad ? rollbackChecks(run.rollbackUnderLoad) : []),
  ];
}

function rollbackChecks(r: RollbackUnderLoad): GoalCheck[] {
  const [rest, alert] = rollbackRows(r);
  return [rest, alert].filter((row): row is LatencyRow => row !== undefined).map((row) => ({
    name: `${row.name} under load`,
    value: row.landed < row.count ? `${row.count - row.landed}/${row.count} not at 0 in time` : `max ${ms(row.max)}, median ${ms(row.median)} (${ratio(row.ratioToBare)} bare)`,
    goal: `< ${ROLLBACK_GOAL_MS / 1000} s`,
    met: row.met === true,
  }));
}

/** Memory and at-rest CPU per plan between consecutive runs (the growth goal: flat from 1,000 to 5,000). */
export interface Growth {
  from: number;
  to: number;
  rssKiBPerPlan: number;
  cpuMilliCorePerPlan: number;
}

export function growth(runs: readonly ScaleRun[]): Growth[] {
  const sorted = [...runs].sort((a, b) => a.plans - b.plans);
  const out: Growth[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1] as ScaleRun;
    const b = sorted[i] as ScaleRun;
    const added = b.plans - a.plans;
    if (added <= 0) continue;
    out.push({
      from: a.plans,
      to: b.plans,
      rssKiBPerPlan: ((b.rssMiB - a.rssMiB) * 1024) / added,
      cpuMilliCorePerPlan: ((b.cpuAtRestCores - a.cpuAtRestCores) * 1000) / added,
    });
  }
  return out;
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function pad(cells: readonly string[][]): string {
  const widths = cells[0]?.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length))) ?? [];
  return cells.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** The printed table: one column per N, one row per figure, then the goals and the growth. */
export function table(runs: readonly ScaleRun[]): string {
  const sorted = [...runs].sort((a, b) => a.plans - b.plans);
  const row = (label: string, cell: (r: ScaleRun) => string): string[] => [label, ...sorted.map(cell)];
  const rows = [
    row('plans', (r) => String(r.plans)),
    row('migrating at once', (r) => String(r.migrating)),
    row('start-up to synced cache', (r) => ms(r.startupMs)),
    row('all first weights landed', (r) => (r.firstWeightsMs === null ? `${r.firstWeightsLanded}/${r.plans}` : ms(r.firstWeightsMs))),
    row('step lag p50', (r) => ms(r.stepLagMs.p50)),
    row('step lag p99', (r) => ms(r.stepLagMs.p99)),
    row('step lag max', (r) => ms(r.stepLagMs.max)),
    row('steps measured', (r) => String(r.stepLagMs.count)),
    row('reconciles/s (whole run)', (r) => r.reconcilesPerSecond.toFixed(1)),
    row('reconciles/s (at rest)', (r) => r.reconcilesPerSecondAtRest.toFixed(1)),
    row('API requests/reconcile', (r) => r.apiRequestsPerReconcile.toFixed(2)),
    row('controller RSS', (r) => `${r.rssMiB.toFixed(1)} MiB`),
    row('controller heap used', (r) => `${r.heapMiB.toFixed(1)} MiB`),
    row('controller CPU at rest', (r) => `${(r.cpuAtRestCores * 100).toFixed(1)}%`),
    row('webhook calls', (r) => String(r.webhookCalls)),
  ];
  const lines = [pad(rows)];
  const reference = sorted.find((r) => r.plans === 1000) ?? sorted[sorted.length - 1];
  if (reference) {
    lines.push('', `goals (stated for 1,000 plans; judged on the ${reference.plans}-plan run):`);
    for (const g of judge(reference)) lines.push(`  ${g.met ? 'met   ' : 'MISSED'}  ${g.name}: ${g.value} (goal ${g.goal})`);
  }
  const rollback = rollbackTable(sorted);
  if (rollback) lines.push('', rollback);
  const g = growth(sorted);
  if (g.length) {
    lines.push('', 'growth per added plan (goal: flat from 1,000 to 5,000):');
    for (const step of g) lines.push(`  ${step.from} -> ${step.to}: ${step.rssKiBPerPlan.toFixed(1)} KiB RSS/plan, ${step.cpuMilliCorePerPlan.toFixed(3)} millicore at rest/plan`);
  }
  return lines.join('\n');
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

/**
 * Two small panels side by side, p99 step lag (ms, log axis) and controller RSS (MiB) against N on
 * a log axis, each with its goal as a dashed line. Hand-made: a few paths and texts, no library.
 */
export function svgChart(runs: readonly ScaleRun[]): string {
  const sorted = [...runs].sort((a, b) => a.plans - b.plans);
  const panelW = 300;
  const panelH = 200;
  const margin = { left: 70, right: 16, top: 28, bottom: 40 };
  const width = 2 * (panelW + margin.left + margin.right);
  const height = panelH + margin.top + margin.bottom;
  const ns = sorted.map((r) => r.plans);
  const minN = Math.min(...ns, 100);
  const maxN = Math.max(...ns, 1000);
  const logMin = Math.log10(minN);
  const logSpan = Math.max(Math.log10(maxN) - logMin, 1e-9);
  const x = (n: number): number => (ns.length ? ((Math.log10(n) - logMin) / logSpan) * panelW : 0);

  // Lag spans tens of ms to tens of seconds: on a log axis (from 10 ms) every N stays readable.
  const panel = (index: number, title: string, unit: string, value: (r: ScaleRun) => number, goal: number, color: string, log = false): string => {
    const values = sorted.map(value).filter((v) => Number.isFinite(v));
    const top = log ? 10 ** Math.ceil(Math.log10(Math.max(goal * 1.2, ...values))) : niceCeiling(Math.max(goal * 1.2, ...values));
    const floor = 10;
    const y = (v: number): number =>
      log
        ? panelH - ((Math.log10(Math.min(Math.max(v, floor), top)) - 1) / Math.max(Math.log10(top) - 1, 1e-9)) * panelH
        : panelH - (Math.min(Math.max(v, 0), top) / top) * panelH;
    const ticks = log ? Array.from({ length: Math.round(Math.log10(top)) }, (_, i) => 10 ** (i + 1)) : [0, top / 2, top];
    const ox = index * (panelW + margin.left + margin.right) + margin.left;
    const parts: string[] = [`<g transform="translate(${ox},${margin.top})">`];
    parts.push(`<text x="${panelW / 2}" y="-10" text-anchor="middle" font-weight="bold">${escapeXml(log ? `${title} (log scale)` : title)}</text>`);
    parts.push(`<line x1="0" y1="${panelH}" x2="${panelW}" y2="${panelH}" stroke="#333"/>`, `<line x1="0" y1="0" x2="0" y2="${panelH}" stroke="#333"/>`);
    for (const t of ticks) {
      parts.push(`<text x="-6" y="${y(t) + 4}" text-anchor="end">${t} ${escapeXml(unit)}</text>`);
    }
    for (const n of ns) parts.push(`<text x="${x(n).toFixed(1)}" y="${panelH + 16}" text-anchor="middle">${n}</text>`);
    parts.push(`<text x="${panelW / 2}" y="${panelH + 34}" text-anchor="middle">plans (log scale)</text>`);
    parts.push(`<line class="goal" x1="0" y1="${y(goal).toFixed(1)}" x2="${panelW}" y2="${y(goal).toFixed(1)}" stroke="#c33" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${panelW - 2}" y="${(y(goal) - 4).toFixed(1)}" text-anchor="end" fill="#c33">goal ${goal} ${escapeXml(unit)}</text>`);
    const points = sorted.filter((r) => Number.isFinite(value(r))).map((r) => `${x(r.plans).toFixed(1)},${y(value(r)).toFixed(1)}`);
    if (points.length) parts.push(`<polyline class="series" points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const r of sorted) {
      if (!Number.isFinite(value(r))) continue;
      parts.push(`<circle class="point" cx="${x(r.plans).toFixed(1)}" cy="${y(value(r)).toFixed(1)}" r="3.5" fill="${color}"><title>${r.plans} plans: ${value(r).toFixed(1)} ${escapeXml(unit)}</title></circle>`);
    }
    parts.push('</g>');
    return parts.join('\n');
  };

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    panel(0, 'p99 step lag', 'ms', (r) => r.stepLagMs.p99, GOALS.p99LagMs, '#1f77b4', true),
    panel(1, 'controller RSS', 'MiB', (r) => r.rssMiB, GOALS.rssMiB, '#2ca02c'),
    '</svg>',
    '',
  ].join('\n');
}
