// How the CLI prints plans: the `list` table (kubectl's layout), the `status` view with its step
// progress bar, and the one-line form `status --watch` prints per change when piped. Pure: every
// function takes the view and the time, and returns text.
import * as yaml from 'js-yaml';
import { humanDuration } from '../localkube/table';
import { valueText } from '../plan/thresholds';
import type { PlanView, TargetWeight } from '../steering/view';

/** kubectl's Age text (apimachinery duration.HumanDuration) of the time since `iso`. */
export function age(iso: string | undefined, now: Date): string {
  if (iso === undefined) return '<unknown>';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '<unknown>' : humanDuration(now.getTime() - at);
}

/** `[#####.....]`: the share of the plan's steps reached. */
export function progressBar(done: number, count: number, width = 10): string {
  const filled = count <= 0 ? 0 : Math.max(0, Math.min(width, Math.round((done / count) * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** `step 2/4  canary 25%`, or `not started (4 steps)`. */
export function stepText(view: PlanView): string {
  if (view.step.count === 0) return view.step.label;
  if (view.step.number === 0) return `not started (${view.step.count} step${view.step.count === 1 ? '' : 's'})  canary ${view.canaryWeight}%`;
  const gate = view.phase === 'WaitingForPromotion' ? '  (waiting for promote)' : '';
  return `step ${view.step.number}/${view.step.count}  canary ${view.canaryWeight}%${gate}`;
}

/** `step 2/4, canary 25%`: where the plan is, inside a sentence. */
export function whereText(view: PlanView): string {
  return view.step.number === 0 ? `not started, canary ${view.canaryWeight}%` : `step ${view.step.number}/${view.step.count}, canary ${view.canaryWeight}%`;
}

export function progressLine(view: PlanView): string {
  return `${progressBar(view.step.number, view.step.count)} ${stepText(view)}`;
}

/** Columns as kubectl prints them: upper-case headers, left-aligned, three spaces apart. */
export function table(rows: ReadonlyArray<ReadonlyArray<string>>, indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('')}`.trimEnd());
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/** The short reason a plan is where it is: an invalid spec, a stall, else what it is doing. */
export function planMessage(view: PlanView): string {
  if (view.specError !== undefined) return `invalid spec: ${view.specError}`;
  const stalled = view.conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) return stalled.message;
  return view.conditions.find((c) => c.type === 'Progressing')?.message ?? '';
}

export function listTable(views: readonly PlanView[], options: { allNamespaces: boolean; now: Date }): string[] {
  const header = [...(options.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'STEP', 'WEIGHT', 'AGE', 'MESSAGE'];
  const rows = views.map((v) => [
    ...(options.allNamespaces ? [v.namespace] : []),
    v.name,
    v.paused && v.phase !== 'Paused' ? `${v.phase} (pausing)` : v.phase,
    v.step.count === 0 ? '-' : `${v.step.number}/${v.step.count}`,
    `${v.canaryWeight}%`,
    age(v.createdAt, options.now),
    truncate(planMessage(v), 60),
  ]);
  return table([header, ...rows]);
}

function weightText(t: TargetWeight): string {
  return t.weight === null ? '?' : `${t.weight}%`;
}

/** `HTTPRoute/checkout`, `VirtualService/vs:primary`: a target in a few characters (the plan's
 * namespace goes without saying). */
export function shortTarget(t: TargetWeight): string {
  const [, kind, id, ...rest] = t.target.split(' ');
  const name = (id ?? '').includes('/') ? (id ?? '').slice((id ?? '').indexOf('/') + 1) : (id ?? '');
  const route = rest[0] === 'route' && rest[1] !== undefined ? `:${rest[1]}` : '';
  return kind === undefined ? t.target : `${kind}/${name}${route}`;
}

function checkValue(value: number | null): string {
  return value === null ? '-' : valueText(value);
}

function describeRollback(view: PlanView, now: Date): string | undefined {
  const r = view.rollback;
  if (r === undefined) return undefined;
  const when = `${age(r.triggeredAt, now)} ago`;
  const done = r.completedAt === undefined ? 'under way' : r.recoverySeconds === undefined ? 'done' : `done in ${r.recoverySeconds}s`;
  const stable = r.stableReadyEndpoints === undefined ? '' : `, stable has ${r.stableReadyEndpoints} ready endpoints${r.stableReadyEndpoints === 0 ? ' (!)' : ''}`;
  return `"${truncate(r.reason, 200)}" (${when}, ${done}${stable})`;
}

/** The readiness gate's last look at the canary backends: `shop/checkout-svc 0/1 ready`. */
function describeReadiness(view: PlanView): string | undefined {
  const canary = view.readiness?.canary;
  if (canary === undefined || canary.backends.length === 0) return undefined;
  const backends = canary.backends.map((b) =>
    b.external === true ? `${b.service} outside the cluster (not counted)` : `${b.service} ${b.ready ?? '?'}/${b.required ?? '?'} ready${b.message ? ` (${truncate(b.message, 80)})` : ''}`,
  );
  return `canary ${canary.weight}%: ${backends.join(', ')}`;
}

/** The `status` view, line by line. */
export function statusLines(view: PlanView, now: Date): string[] {
  const lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${`${label}:`.padEnd(13)}${value}`);
  };
  field('Name', `${view.namespace}/${view.name}`);
  field('Phase', view.phase);
  field('Progress', progressLine(view));
  if (view.paused) field('Paused', view.phase === 'Paused' ? 'yes (spec.paused): the weight holds until resume' : 'yes (spec.paused): the controller has not acted on it yet');
  if (view.specError !== undefined) field('Spec', `invalid: ${view.specError}`);

  lines.push('Targets:');
  if (view.targets.length === 0) lines.push('  none');
  lines.push(
    ...table(
      view.targets.map((t) => {
        const note = t.problem !== undefined ? t.problem : t.weight !== null && t.weight !== view.canaryWeight ? `the plan says ${view.canaryWeight}%` : '';
        return [t.target, weightText(t), note];
      }),
      '  ',
    ),
  );

  const round = view.lastRound ? `last round ${age(view.lastRound.at, now)} ago: ${view.lastRound.verdict}${view.lastRound.message ? ` (${truncate(view.lastRound.message, 120)})` : ''}` : '';
  if (view.checks.length === 0) {
    field('Checks', round || 'none');
  } else {
    field('Checks', round);
    lines.push(
      ...table(
        [
          ['NAME', 'VALUE', 'THRESHOLD', 'RESULT', 'FAILURES', 'AGE', 'MESSAGE'],
          ...view.checks.map((c) => [c.name, checkValue(c.value), c.threshold, c.result, String(c.consecutiveFailures), age(c.at, now), truncate(c.message ?? '', 80)]),
        ],
        '  ',
      ),
    );
  }

  if (view.hooks.length > 0) {
    lines.push('Hooks:');
    lines.push(
      ...table(
        [
          ['NAME', 'WHEN', 'STEP', 'RESULT', 'ATTEMPTS', 'AGE', 'MESSAGE'],
          ...view.hooks.map((h) => [h.name, h.when, h.step === undefined ? '-' : String(h.step + 1), h.result, String(h.attempts ?? 1), age(h.at, now), truncate(h.message ?? '', 80)]),
        ],
        '  ',
      ),
    );
  }

  const readiness = describeReadiness(view);
  if (readiness !== undefined) field('Readiness', readiness);

  const pending = Object.entries(view.pendingRequests).map(([kind, value]) => `${kind} pending ("${truncate(value, 80)}")`);
  if (pending.length > 0) field('Requests', pending.join(', '));
  const rollback = describeRollback(view, now);
  if (rollback !== undefined) field('Rollback', rollback);
  const validation = view.rollback?.validation;
  if (validation !== undefined) {
    const rounds = `${validation.passedRounds}/${validation.rounds} rounds passed`;
    field('Validation', `${validation.result} against stable (${rounds}): ${truncate(validation.message ?? '', 160)}`);
    const checks = validation.checks ?? [];
    if (checks.length > 0) {
      lines.push(...table([['NAME', 'VALUE', 'THRESHOLD', 'RESULT', 'AGE'], ...checks.map((c) => [c.name, checkValue(c.value), c.threshold, c.result, age(c.at, now)])], '  '));
    }
  }
  if (view.conditions.length > 0) field('Conditions', view.conditions.map((c) => `${c.type}=${c.status} (${c.reason})`).join('  '));
  const message = planMessage(view);
  if (message !== '') field('Message', truncate(message, 200));

  if (view.events.length === 0) {
    field('Events', 'none yet');
  } else {
    lines.push('Events:');
    lines.push(
      ...table(
        [['AGE', 'EVENT', 'WEIGHT', 'MESSAGE'], ...view.events.map((e) => [age(e.at, now), e.event, `${e.weight}%`, truncate(e.message, 120)])],
        '  ',
      ),
    );
  }
  return lines;
}

/** One line per change for `status --watch` piped: what changed, without the time. */
export function compactState(view: PlanView): string {
  const parts = [`${view.namespace}/${view.name}`, view.paused && view.phase !== 'Paused' ? `${view.phase} (pausing)` : view.phase, stepText(view).replace(/ {2}/g, ' ')];
  if (view.targets.length > 0) parts.push(`weights ${view.targets.map((t) => `${shortTarget(t)}=${t.weight === null ? '?' : t.weight}`).join(',')}`);
  const failing = view.checks.filter((c) => c.result !== 'Pass');
  if (failing.length > 0) parts.push(`failing ${failing.map((c) => `${c.name}=${checkValue(c.value)}(${c.threshold},${c.result})`).join(',')}`);
  const failedHooks = view.hooks.filter((h) => h.result === 'Fail');
  if (failedHooks.length > 0) parts.push(`hooks failed ${failedHooks.map((h) => `${h.name}(${h.when}${h.step === undefined ? '' : ` step ${h.step + 1}`})`).join(',')}`);
  const pending = Object.keys(view.pendingRequests);
  if (pending.length > 0) parts.push(`pending ${pending.join(',')}`);
  if (view.rollback && (view.phase === 'RollingBack' || view.phase === 'RolledBack')) parts.push(`rollback "${truncate(view.rollback.reason, 80)}"`);
  return parts.join(' ');
}

export function compactLine(view: PlanView, now: Date): string {
  return `${now.toISOString()} ${compactState(view)}`;
}

export type OutputFormat = 'json' | 'yaml';

/** A value as one JSON line, or a YAML document. */
export function serialize(value: unknown, format: OutputFormat, options: { oneLine?: boolean } = {}): string {
  if (format === 'json') return `${options.oneLine ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`;
  return yaml.dump(value, { noRefs: true, lineWidth: -1 });
}
