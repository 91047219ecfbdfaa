// The plan's timeline as one SVG, drawn here rather than with a charting library (a few hundred
// lines of someone else's code per page view for four kinds of mark): the canary weight over time
// as a step line, a marker per step, the rollback with its recovery time against the RTO, and
// below it one panel per check with its values against the threshold lines. Colours come from
// classes in dashboard.css (the CSP forbids inline styles).
import { clock, s } from './dom.js';
import type { CheckSeries, Timeline } from './types.js';

const WIDTH = 960;
const LEFT = 56;
const RIGHT = 24;
const WEIGHT_HEIGHT = 190;
const CHECK_HEIGHT = 90;
const GAP = 34;
const TOP = 22;
const AXIS = 22;

interface Scale {
  x(ms: number): number;
  t0: number;
  t1: number;
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 100_000 || abs < 0.0001) return n.toExponential(1);
  return String(Number(n.toPrecision(3)));
}

function seconds(n: number): string {
  return n < 10 ? `${n.toFixed(2)} s` : `${Math.round(n)} s`;
}

function timeScale(timeline: Timeline, now: number, settled: boolean): Scale {
  const times: number[] = [];
  for (const w of timeline.weights) times.push(Date.parse(w.at));
  for (const c of timeline.checks) for (const p of c.points) times.push(Date.parse(p.at));
  if (timeline.rollback) {
    times.push(Date.parse(timeline.rollback.triggeredAt));
    if (timeline.rollback.completedAt) times.push(Date.parse(timeline.rollback.completedAt));
  }
  const valid = times.filter((t) => Number.isFinite(t));
  let t0 = valid.length ? Math.min(...valid) : now - 60_000;
  let t1 = valid.length ? Math.max(...valid) : now;
  if (!settled) t1 = Math.max(t1, now);
  if (t1 - t0 < 10_000) t1 = t0 + 10_000;
  const pad = (t1 - t0) * 0.02;
  t0 -= pad;
  t1 += pad;
  const span = WIDTH - LEFT - RIGHT;
  return { t0, t1, x: (ms) => LEFT + ((ms - t0) / (t1 - t0)) * span };
}

function timeTicks(scale: Scale, top: number, bottom: number): SVGGElement {
  const g = s('g', { class: 'axis time' });
  const count = 6;
  for (let i = 0; i <= count; i++) {
    const t = scale.t0 + ((scale.t1 - scale.t0) * i) / count;
    const x = scale.x(t);
    g.append(s('line', { class: 'grid', x1: x, x2: x, y1: top, y2: bottom }));
    g.append(s('text', { x, y: bottom + 15, 'text-anchor': 'middle' }, clock(new Date(t).toISOString())));
  }
  return g;
}

function weightPanel(timeline: Timeline, scale: Scale, top: number, end: number): SVGGElement {
  const g = s('g', { class: 'panel weight' });
  const y = (w: number): number => top + WEIGHT_HEIGHT - (w / 100) * WEIGHT_HEIGHT;
  g.append(s('text', { class: 'panel-title', x: LEFT, y: top - 8 }, 'canary weight (%)'));
  for (const w of [0, 25, 50, 75, 100]) {
    g.append(s('line', { class: w === 0 ? 'baseline' : 'grid', x1: LEFT, x2: WIDTH - RIGHT, y1: y(w), y2: y(w) }));
    g.append(s('text', { class: 'axis', x: LEFT - 6, y: y(w) + 4, 'text-anchor': 'end' }, w));
  }
  const points: string[] = [];
  const weights = timeline.weights.filter((w) => Number.isFinite(Date.parse(w.at)));
  let last: number | undefined;
  for (const w of weights) {
    const x = scale.x(Date.parse(w.at));
    if (last !== undefined) points.push(`${x.toFixed(1)},${y(last).toFixed(1)}`);
    points.push(`${x.toFixed(1)},${y(w.weight).toFixed(1)}`);
    last = w.weight;
  }
  if (last !== undefined) points.push(`${scale.x(end).toFixed(1)},${y(last).toFixed(1)}`);
  g.append(s('polyline', { class: 'weight-line', points: points.join(' '), 'data-weights': weights.map((w) => w.weight).join(',') }));

  // A marker per step the plan took, labelled with the weight it set; labels that would overlap
  // the previous one are left out (the marker stays).
  let lastLabelX = -Infinity;
  for (const w of weights) {
    if (w.event !== 'StepAdvanced' && w.event !== 'Started') continue;
    const x = scale.x(Date.parse(w.at));
    const marker = s('line', { class: 'step-marker', x1: x, x2: x, y1: top, y2: top + WEIGHT_HEIGHT });
    marker.append(s('title', {}, `${clock(w.at)} ${w.event}: ${w.weight}%${w.message ? ` — ${w.message}` : ''}`));
    g.append(marker);
    if (x - lastLabelX > 34) {
      g.append(s('text', { class: 'step-label', x: x + 3, y: y(w.weight) - 5 }, `${w.weight}%`));
      lastLabelX = x;
    }
  }
  for (const w of weights) {
    const dot = s('circle', { class: `weight-point event-${w.event}`, cx: scale.x(Date.parse(w.at)), cy: y(w.weight), r: 3 });
    dot.append(s('title', {}, `${clock(w.at)} ${w.event}: ${w.weight}%${w.message ? ` — ${w.message}` : ''}`));
    g.append(dot);
  }

  const rb = timeline.rollback;
  if (rb && Number.isFinite(Date.parse(rb.triggeredAt))) {
    const x0 = scale.x(Date.parse(rb.triggeredAt));
    const x1 = rb.completedAt ? scale.x(Date.parse(rb.completedAt)) : scale.x(end);
    const rollback = s('g', { class: 'rollback' });
    rollback.append(s('rect', { class: rb.completedAt ? 'rollback-band' : 'rollback-band open', x: x0, y: top, width: Math.max(2, x1 - x0), height: WEIGHT_HEIGHT }));
    rollback.append(s('line', { class: 'rollback-line', x1: x0, x2: x0, y1: top - 4, y2: top + WEIGHT_HEIGHT }));
    let label = 'rollback';
    let verdict = '';
    if (rb.recoverySeconds !== undefined) {
      label = `rolled back in ${seconds(rb.recoverySeconds)}`;
      if (rb.rtoSeconds !== undefined) {
        label += ` (RTO ${seconds(rb.rtoSeconds)})`;
        verdict = rb.recoverySeconds <= rb.rtoSeconds ? 'within' : 'over';
      }
    } else if (!rb.completedAt) label = 'rolling back…';
    const anchorEnd = x0 > WIDTH / 2;
    rollback.append(s('text', { class: `rollback-label ${verdict}`, x: anchorEnd ? x0 - 4 : x0 + 4, y: top + 12, 'text-anchor': anchorEnd ? 'end' : 'start' }, label));
    g.append(rollback);
  }
  return g;
}

function checkPanel(check: CheckSeries, scale: Scale, top: number): SVGGElement {
  const g = s('g', { class: 'panel check', 'data-check': check.name });
  const values = check.points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const bounds = [...values];
  if (check.threshold.min !== undefined) bounds.push(check.threshold.min);
  if (check.threshold.max !== undefined) bounds.push(check.threshold.max);
  // Values that cannot go below 0 (ratios, latencies, counts) are drawn from 0, so a small value
  // looks small.
  let lo = Math.min(0, ...bounds);
  let hi = bounds.length ? Math.max(...bounds) : 1;
  if (lo === hi) hi = lo + 1;
  const pad = (hi - lo) * 0.1;
  if (lo < 0) lo -= pad;
  hi += pad;
  const y = (v: number): number => top + CHECK_HEIGHT - ((v - lo) / (hi - lo)) * CHECK_HEIGHT;

  const limits = [check.threshold.min !== undefined ? `min ${fmt(check.threshold.min)}` : '', check.threshold.max !== undefined ? `max ${fmt(check.threshold.max)}` : ''].filter(Boolean).join(', ');
  g.append(s('text', { class: 'panel-title', x: LEFT, y: top - 8 }, `${check.name}${limits ? ` (${limits})` : ''}`));
  g.append(s('rect', { class: 'panel-frame', x: LEFT, y: top, width: WIDTH - LEFT - RIGHT, height: CHECK_HEIGHT }));
  for (const v of [lo, hi]) g.append(s('text', { class: 'axis', x: LEFT - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  for (const [kind, limit] of [['min', check.threshold.min], ['max', check.threshold.max]] as const) {
    if (limit === undefined) continue;
    g.append(s('line', { class: `threshold ${kind}`, x1: LEFT, x2: WIDTH - RIGHT, y1: y(limit), y2: y(limit) }));
  }
  // The line breaks where a round had no value (NoData, Error): nothing is drawn that was not measured.
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 1) g.append(s('polyline', { class: 'check-line', points: run.join(' ') }));
    run = [];
  };
  for (const p of check.points) {
    if (p.value === null || !Number.isFinite(p.value)) {
      flush();
      continue;
    }
    run.push(`${scale.x(Date.parse(p.at)).toFixed(1)},${y(p.value).toFixed(1)}`);
  }
  flush();
  for (const p of check.points) {
    const x = scale.x(Date.parse(p.at));
    const mark = p.value === null ? s('rect', { class: `check-point result-${p.result}`, x: x - 2, y: top + CHECK_HEIGHT - 6, width: 4, height: 6 }) : s('circle', { class: `check-point result-${p.result}`, cx: x, cy: y(p.value), r: 2.5 });
    mark.append(s('title', {}, `${clock(p.at)} ${check.name}: ${p.value === null ? 'no value' : fmt(p.value)} (${p.result})`));
    g.append(mark);
  }
  return g;
}

/** The whole chart; `now` extends the time axis while the plan is still moving. */
export function timelineChart(timeline: Timeline, now: number, settled: boolean): SVGSVGElement {
  const scale = timeScale(timeline, now, settled);
  const end = settled ? scale.t1 : now;
  const height = TOP + WEIGHT_HEIGHT + timeline.checks.length * (CHECK_HEIGHT + GAP) + AXIS + 8;
  const svg = s('svg', { class: 'timeline', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `Timeline of ${timeline.plan.namespace}/${timeline.plan.name}: canary weight and check values over time` });
  svg.append(timeTicks(scale, TOP, height - AXIS - 8));
  svg.append(weightPanel(timeline, scale, TOP, end));
  timeline.checks.forEach((check, i) => svg.append(checkPanel(check, scale, TOP + WEIGHT_HEIGHT + GAP + i * (CHECK_HEIGHT + GAP))));
  return svg;
}
