// Alertmanager's webhook payload (version 4) and which plans a firing alert rolls back. Pure:
// the REST route parses with these and hands the matches to requestRollback.
import { z } from 'zod';

const labels = z.record(z.string(), z.string());

export const AlertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.optional(),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  fingerprint: z.string().optional(),
  generatorURL: z.string().optional(),
});

export const AlertmanagerPayload = z.looseObject({
  version: z.literal('4', { error: 'only Alertmanager webhook payload version "4" is understood' }),
  groupKey: z.string().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  alerts: z.array(AlertmanagerAlert),
});

export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;

export interface PlanMatcher {
  namespace: string;
  name: string;
  matchLabels: Record<string, string>;
}

export interface AlertMatch {
  namespace: string;
  name: string;
  alert: AlertmanagerAlert;
  /** The rollback reason; unique per alert firing, so a re-fire after a retry rolls back again. */
  reason: string;
}

export function labelsMatch(matchLabels: Record<string, string>, alertLabels: Record<string, string>): boolean {
  const entries = Object.entries(matchLabels);
  return entries.length > 0 && entries.every(([k, v]) => alertLabels[k] === v);
}

/** Firing alerts whose labels carry every one of a plan's matchLabels. Resolved alerts never
 * match: an alert clearing does not undo a rollback. */
export function matchAlerts(payload: AlertmanagerPayload, plans: readonly PlanMatcher[]): AlertMatch[] {
  const matches: AlertMatch[] = [];
  for (const alert of payload.alerts) {
    if (alert.status !== 'firing') continue;
    for (const plan of plans) {
      if (!labelsMatch(plan.matchLabels, alert.labels)) continue;
      if (matches.some((m) => m.namespace === plan.namespace && m.name === plan.name)) continue;
      const name = alert.labels['alertname'] ?? 'alert';
      const since = alert.startsAt ? ` since ${alert.startsAt}` : '';
      matches.push({ namespace: plan.namespace, name: plan.name, alert, reason: `alert ${name} firing${since}` });
    }
  }
  return matches;
}
