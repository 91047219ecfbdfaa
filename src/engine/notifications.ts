// What notifications need from the engine: a snapshot of the plan for rich formats, and the
// Progress summaries of notifications that set `every`. Progress is driven by the status alone
// (progressNotificationsSince, lastProgressNotificationAt), which only the leader writes and
// writes before sending: a restarted controller or a new leader picks up where the last left
// off, and two replicas never both send one summary.
import { parseDuration } from '../plan/duration';
import { targetObjectName, type MigrationPlanSpec, type MigrationPlanStatus, type Phase } from '../plan/schema';
import { stepLabel, toIso, toMs } from './steps';
import type { Action, NotificationSnapshot, Observations } from './types';

/** Phases a plan "runs" in: waiting to start, moving, paused or held. */
export const PROGRESS_PHASES: readonly Phase[] = ['Pending', 'Progressing', 'Paused', 'Holding', 'WaitingForPromotion'];

/** The spec.notifications entries that want progress summaries, with their interval. */
function progressNotifications(spec: MigrationPlanSpec | undefined): Array<{ index: number; everyMs: number }> {
  return (spec?.notifications ?? []).flatMap((n, index) => (n.every === undefined ? [] : [{ index, everyMs: parseDuration(n.every) }]));
}

/** How many whole intervals lie between `since` and `at`: a summary is due when this grows. */
function periods(since: number, at: number, everyMs: number): number {
  return Math.floor((at - since) / everyMs);
}

/**
 * Keeps the progress clock in the status and adds one Progress notify action for the entries
 * whose interval came round since the last summary. Summaries count from when the plan began to
 * run (or from when this controller first saw it running), each entry on its own interval.
 */
export function trackProgress(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, obs: Observations, actions: Action[]): void {
  const wanted = progressNotifications(spec);
  if (spec === undefined || wanted.length === 0 || !PROGRESS_PHASES.includes(status.phase ?? 'Pending')) {
    delete status.progressNotificationsSince;
    delete status.lastProgressNotificationAt;
    return;
  }
  const since = toMs(status.progressNotificationsSince);
  if (since === undefined) {
    status.progressNotificationsSince = toIso(obs.now);
    delete status.lastProgressNotificationAt;
    return;
  }
  const last = toMs(status.lastProgressNotificationAt) ?? since;
  const due = wanted.filter((w) => periods(since, obs.now, w.everyMs) > periods(since, last, w.everyMs)).map((w) => w.index);
  if (due.length === 0) return;
  status.lastProgressNotificationAt = toIso(obs.now);
  actions.push({ kind: 'notify', event: 'Progress', message: progressMessage(spec, status), notifications: due });
}

/** When the next progress summary falls due; undefined when none will. */
export function nextProgressAt(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus): number | undefined {
  const since = toMs(status.progressNotificationsSince);
  if (since === undefined || !PROGRESS_PHASES.includes(status.phase ?? 'Pending')) return undefined;
  const last = toMs(status.lastProgressNotificationAt) ?? since;
  const next = progressNotifications(spec).map((w) => since + (periods(since, last, w.everyMs) + 1) * w.everyMs);
  return next.length > 0 ? Math.min(...next) : undefined;
}

function progressMessage(spec: MigrationPlanSpec, status: MigrationPlanStatus): string {
  const phase = status.phase ?? 'Pending';
  if (phase === 'Pending') return 'not started yet';
  const condition = status.conditions?.find((c) => c.type === 'Progressing');
  const why = condition !== undefined && condition.message !== '' ? `: ${condition.message}` : '';
  return `${phase} at ${stepLabel(spec, status)}${why}`;
}

/** What the plan looks like after this decision, for the notifications it sends. */
export function snapshotOf(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus, obs: Observations): NotificationSnapshot {
  const phase = status.phase ?? 'Pending';
  const snapshot: NotificationSnapshot = {
    phase,
    targets: obs.targets.map((t, i) => {
      const target = spec?.targets[i];
      const entry: NotificationSnapshot['targets'][number] = { provider: target?.provider ?? 'unknown', name: target ? targetObjectName(target) : `targets[${i}]` };
      if (t.ok) entry.weight = t.weight;
      else {
        entry.problem = t.reason;
        if (t.weight !== undefined) entry.weight = t.weight;
      }
      return entry;
    }),
    checks: (status.checks ?? []).map((c) => ({ name: c.name, value: c.value, threshold: c.threshold, result: c.result, ...(c.severity ? { severity: c.severity } : {}) })),
  };
  if (spec !== undefined && phase !== 'Failed') snapshot.step = stepLabel(spec, status);
  if (status.canaryWeight !== undefined) snapshot.canaryWeight = status.canaryWeight;
  if (status.rollback !== undefined && (phase === 'RollingBack' || phase === 'RolledBack')) {
    snapshot.reason = status.rollback.reason;
    if (status.rollback.recoverySeconds !== undefined) snapshot.recoverySeconds = status.rollback.recoverySeconds;
  } else {
    const stalled = status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (stalled !== undefined) snapshot.reason = stalled.message;
  }
  return snapshot;
}
