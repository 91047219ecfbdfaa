// The body each notification format posts. Pure: the notifier (notifier.ts) reads Secrets,
// posts and retries; this file only shapes what a plan's snapshot says for each receiver.
//   slack      Block Kit `blocks` plus a top-level `text` (the fallback Slack shows in
//              notifications, and what Mattermost and most chat webhooks read)
//   teams      a message carrying one Adaptive Card (1.4): Teams incoming webhooks and Power
//              Automate "when a Teams webhook request is received" flows both accept it
//   pagerduty  Events API v2: trigger or resolve one incident per plan (dedup_key)
//   json       trafficshift.io/notification/v1, documented in README "Notifications"
import type { NotificationSnapshot } from '../engine';
import { PAGERDUTY_RESOLVES, PAGERDUTY_TRIGGERS, type NotificationEvent, type NotificationFormat } from '../plan/schema';
import type { PlanRef } from '../plan/ref';

export const JSON_NOTIFICATION_VERSION = 'trafficshift.io/notification/v1';

export interface NotificationContent {
  plan: PlanRef;
  event: NotificationEvent;
  message: string;
  snapshot?: NotificationSnapshot;
  /** ISO time the notification was made. */
  at: string;
}

/** Slack refuses a section text over 3000 characters; a list of checks is cut well before. */
const MAX_LISTED = 20;
const SLACK_TEXT_LIMIT = 2900;

export function notificationBody(format: NotificationFormat, content: NotificationContent, routingKey?: string): unknown {
  switch (format) {
    case 'slack':
      return slackBody(content);
    case 'teams':
      return teamsBody(content);
    case 'pagerduty':
      return pagerDutyBody(content, routingKey ?? '');
    case 'json':
      return jsonBody(content);
  }
}

/** One line: what happened to which plan; every format's summary. */
export function headline(content: NotificationContent): string {
  return `[trafficshift] ${content.plan.namespace}/${content.plan.name} ${content.event}: ${content.message}`;
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function listed<T>(items: readonly T[], show: (item: T) => string): string[] {
  const lines = items.slice(0, MAX_LISTED).map(show);
  if (items.length > MAX_LISTED) lines.push(`…and ${items.length - MAX_LISTED} more`);
  return lines;
}

function weightLines(snapshot: NotificationSnapshot): string[] {
  return listed(snapshot.targets, (t) => `${t.provider}/${t.name}: ${t.weight === undefined ? 'unknown' : `canary ${t.weight}%`}${t.problem ? ` (${t.problem})` : ''}`);
}

function checkLines(snapshot: NotificationSnapshot): string[] {
  return listed(snapshot.checks, (c) => `${c.name}: ${c.value === null ? 'no value' : String(c.value)} (${c.threshold}) ${c.result}`);
}

/** The facts every rich format shows, in order, leaving out what the snapshot does not know. */
function facts(content: NotificationContent): Array<{ name: string; value: string }> {
  const s = content.snapshot;
  if (s === undefined) return [];
  const out: Array<{ name: string; value: string }> = [{ name: 'Phase', value: s.phase }];
  if (s.step !== undefined) out.push({ name: 'Step', value: s.step });
  if (s.targets.length > 0) out.push({ name: 'Weights', value: weightLines(s).join('\n') });
  if (s.checks.length > 0) out.push({ name: 'Checks', value: checkLines(s).join('\n') });
  if (s.reason !== undefined) out.push({ name: 'Reason', value: s.reason });
  if (s.recoverySeconds !== undefined) out.push({ name: 'Recovery', value: `${s.recoverySeconds}s` });
  return out;
}

export function slackBody(content: NotificationContent): unknown {
  const text = headline(content);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${content.event}: ${content.plan.namespace}/${content.plan.name}`, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(content.message === '' ? content.event : content.message, SLACK_TEXT_LIMIT) } },
  ];
  const shown = facts(content);
  if (shown.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(shown.map((f) => `*${f.name}*\n${f.value}`).join('\n'), SLACK_TEXT_LIMIT) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `MigrationPlan ${content.plan.namespace}/${content.plan.name} · ${content.at}` }] });
  // event and plan as well: what the plain {text} body of earlier versions carried, for receivers that read them.
  return { text, blocks, event: content.event, plan: { namespace: content.plan.namespace, name: content.plan.name } };
}

export function teamsBody(content: NotificationContent): unknown {
  const shown = facts(content);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: `${content.event}: ${content.plan.namespace}/${content.plan.name}` },
            { type: 'TextBlock', wrap: true, text: content.message === '' ? content.event : content.message },
            ...(shown.length > 0 ? [{ type: 'FactSet', facts: shown.map((f) => ({ title: f.name, value: f.value })) }] : []),
            { type: 'TextBlock', wrap: true, isSubtle: true, size: 'Small', text: `MigrationPlan ${content.plan.namespace}/${content.plan.name} · ${content.at}` },
          ],
        },
      },
    ],
  };
}

/** One incident per plan: a resolve must carry the trigger's key, and both know only the plan.
 * After a resolve PagerDuty opens a new incident for the next trigger with the same key. */
export function pagerDutyDedupKey(plan: PlanRef): string {
  return `trafficshift/${plan.namespace}/${plan.name}`;
}

export function pagerDutyBody(content: NotificationContent, routingKey: string): unknown {
  const dedup_key = pagerDutyDedupKey(content.plan);
  if (PAGERDUTY_RESOLVES.includes(content.event)) return { routing_key: routingKey, event_action: 'resolve', dedup_key };
  const s = content.snapshot;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: clip(headline(content), 1024),
      source: `${content.plan.namespace}/${content.plan.name}`,
      severity: PAGERDUTY_TRIGGERS[content.event] ?? 'error',
      timestamp: content.at,
      component: s?.targets.map((t) => `${t.provider}/${t.name}`).join(',') || content.plan.name,
      group: content.plan.namespace,
      class: content.event,
      custom_details: jsonBody(content),
    },
  };
}

export function jsonBody(content: NotificationContent): unknown {
  const s = content.snapshot;
  return {
    apiVersion: JSON_NOTIFICATION_VERSION,
    event: content.event,
    message: content.message,
    plan: { namespace: content.plan.namespace, name: content.plan.name },
    phase: s?.phase ?? null,
    step: s?.step ?? null,
    canaryWeight: s?.canaryWeight ?? null,
    weights: (s?.targets ?? []).map((t) => ({ provider: t.provider, name: t.name, weight: t.weight ?? null, ...(t.problem ? { problem: t.problem } : {}) })),
    checks: (s?.checks ?? []).map((c) => ({ name: c.name, value: c.value, threshold: c.threshold, result: c.result, ...(c.severity ? { severity: c.severity } : {}) })),
    reason: s?.reason ?? null,
    at: content.at,
  };
}
