// Slack-compatible notifications: a JSON POST of {"text": "..."} to each configured URL whose
// event list names the event. The URL may live in a Secret. Sending never blocks a reconcile
// (a rollback must not wait for Slack), and a failure is logged, never retried into a storm.
// The same outbound rules as checks apply: --allowed-hosts, no URL from a Secret over plain
// http outside the cluster, a reply read only up to a bound, and no credential in a log line.
import type { Logger } from 'winston';
import {
  BodyTooLarge,
  describeFetchFailure,
  excerpt,
  MAX_BODY_BYTES,
  messageOf,
  ALLOW_ALL_HOSTS,
  readBody,
  redactUrl,
  refuseDestination,
  secretUrlPlaceholder,
  type OutboundPolicy,
  type SecretUrl,
} from '../checks';
import type { MigrationPlanSpec, Notification, NotificationEvent } from '../plan/schema';
import type { Notifier, PlanRef } from './reconcile';

export interface SecretValueReader {
  read(namespace: string, name: string, key: string): Promise<string>;
}

/** What became of one notification; `url` and `reason` are redacted, safe to log or show. */
export interface NotificationOutcome {
  plan: PlanRef;
  event: NotificationEvent;
  url: string;
  delivered: boolean;
  reason?: string;
}

export interface WebhookNotifierOptions {
  secrets: SecretValueReader;
  log: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Where notifications may go (--allowed-hosts); default: every host. */
  outbound?: OutboundPolicy;
  /** The most of a reply read; default MAX_BODY_BYTES (1 MiB). */
  maxBodyBytes?: number;
  /** Called once per notification, delivered or not (tests, metrics). */
  onOutcome?: (outcome: NotificationOutcome) => void;
}

class NotDelivered extends Error {
  override readonly name = 'NotDelivered';
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

  private async post(plan: PlanRef, target: Notification, event: NotificationEvent, message: string): Promise<void> {
    const outcome = await this.deliver(plan, target, event, message);
    if (!outcome.delivered) {
      this.options.log.warn('notification not delivered', { plan: plan.name, namespace: plan.namespace, event, url: outcome.url, error: outcome.reason });
    }
    try {
      this.options.onOutcome?.(outcome);
    } catch {
      // A broken hook must not turn into an unhandled rejection.
    }
  }

  private async deliver(plan: PlanRef, target: Notification, event: NotificationEvent, message: string): Promise<NotificationOutcome> {
    const doFetch = this.options.fetch ?? fetch;
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 5000);
    const ref = target.urlFrom?.secretKeyRef;
    // A URL from a Secret is itself the credential (a Slack webhook's path is its key): it is
    // only ever shown as where it came from.
    const fromSecret: SecretUrl[] = [];
    const shown = ref === undefined ? redactUrl(target.url ?? '') : secretUrlPlaceholder(ref);
    try {
      let text: string;
      if (ref !== undefined) {
        try {
          text = (await this.options.secrets.read(plan.namespace, ref.name, ref.key)).trim();
        } catch (e) {
          throw new NotDelivered(`cannot read key "${ref.key}" of Secret ${plan.namespace}/${ref.name}: ${messageOf(e)}`);
        }
        fromSecret.push({ url: text, name: ref.name, key: ref.key });
      } else {
        text = target.url ?? '';
      }
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new NotDelivered(`${shown} is not a URL`);
      }
      const refused = refuseDestination(url, { policy: this.options.outbound ?? ALLOW_ALL_HOSTS, ...(ref === undefined ? {} : { credentials: 'a URL from a Secret' }) });
      if (refused !== undefined) throw new NotDelivered(refused);
      const response = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `[trafficshift] ${plan.namespace}/${plan.name} ${event}: ${message}`, event, plan }),
        signal,
        // Not followed: --allowed-hosts was checked for this URL, not for a Location header.
        redirect: 'manual',
      });
      let reply: string;
      try {
        // Read, not left unread, so the connection is freed; bounded, so a huge reply cannot grow us.
        reply = await readBody(response, this.options.maxBodyBytes ?? MAX_BODY_BYTES);
      } catch (e) {
        if (e instanceof BodyTooLarge) throw new NotDelivered(`answered ${response.status}, but ${e.message}`);
        throw e;
      }
      if (response.status >= 300 && response.status < 400) throw new NotDelivered(`answered ${response.status}; redirects are not followed`);
      if (!response.ok) throw new NotDelivered(`answered ${response.status}${excerpt(reply) === '' ? '' : `: ${excerpt(reply)}`}`);
      return { plan, event, url: shown, delivered: true };
    } catch (error) {
      const reason = error instanceof NotDelivered ? error.message : describeFetchFailure(error, signal);
      return { plan, event, url: shown, delivered: false, reason: redactUrl(reason, fromSecret) };
    }
  }
}
