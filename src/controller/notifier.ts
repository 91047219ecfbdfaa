// Slack-compatible notifications: a JSON POST of {"text": "..."} to each configured URL whose
// event list names the event. The URL may live in a Secret. Sending never blocks a reconcile
// (a rollback must not wait for Slack), and a failure is logged, never retried into a storm.
import type { Logger } from 'winston';
import type { MigrationPlanSpec, NotificationEvent } from '../plan/schema';
import type { Notifier, PlanRef } from './reconcile';

export interface SecretValueReader {
  read(namespace: string, name: string, key: string): Promise<string>;
}

export interface WebhookNotifierOptions {
  secrets: SecretValueReader;
  log: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class WebhookNotifier implements Notifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: WebhookNotifierOptions) {}

  send(plan: PlanRef, spec: MigrationPlanSpec, event: NotificationEvent, message: string): void {
    for (const target of spec.notifications ?? []) {
      if (!target.events.includes(event)) continue;
      const p = this.post(plan, target, event, message).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Waits for notifications under way; for shutdown and tests. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async post(plan: PlanRef, target: NonNullable<MigrationPlanSpec['notifications']>[number], event: NotificationEvent, message: string): Promise<void> {
    const doFetch = this.options.fetch ?? fetch;
    try {
      const url = target.url ?? (target.urlFrom ? await this.options.secrets.read(plan.namespace, target.urlFrom.secretKeyRef.name, target.urlFrom.secretKeyRef.key) : undefined);
      if (!url) return;
      const response = await doFetch(url.trim(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `[trafficshift] ${plan.namespace}/${plan.name} ${event}: ${message}`, event, plan }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (!response.ok) throw new Error(`answered ${response.status}`);
    } catch (error) {
      this.options.log.warn('notification not delivered', { plan: plan.name, namespace: plan.namespace, event, error: String(error) });
    }
  }
}
