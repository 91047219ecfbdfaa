// Notifications: a JSON POST to each configured URL whose event list names the event (Progress:
// to the entries the engine found due), in the entry's format (notificationBodies.ts). The URL
// and a PagerDuty routing key may live in Secrets. Sending never blocks a reconcile (a rollback
// must not wait for Slack): send() only queues. A bounded queue per process feeds a few
// deliveries at a time; when it overflows the oldest waiting notification is dropped, logged and
// counted. A delivery is tried up to `attempts` times with exponential backoff on network
// errors, 429 (honouring Retry-After up to a bound) and 5xx; never on another 4xx, a redirect or
// a refused destination, which a second try would not change.
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
import type { MigrationPlanSpec, Notification, NotificationEvent, NotificationFormat } from '../plan/schema';
import { notificationBody, type NotificationContent } from './notificationBodies';
import type { Notifier, NotifyDetails, PlanRef } from './reconcile';

export interface SecretValueReader {
  read(namespace: string, name: string, key: string): Promise<string>;
}

/** What became of one notification; `url` and `reason` are redacted, safe to log or show. */
export interface NotificationOutcome {
  plan: PlanRef;
  event: NotificationEvent;
  format: NotificationFormat;
  url: string;
  delivered: boolean;
  /** POSTs made; 0 when it never got that far (a Secret, a refused host, dropped from the queue). */
  attempts: number;
  reason?: string;
}

export interface WebhookNotifierOptions {
  secrets: SecretValueReader;
  log: Logger;
  /** Per attempt; default 5 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Where notifications may go (--allowed-hosts); default: every host. */
  outbound?: OutboundPolicy;
  /** The most of a reply read; default MAX_BODY_BYTES (1 MiB). */
  maxBodyBytes?: number;
  /** Called once per notification, delivered or not (tests, metrics). */
  onOutcome?: (outcome: NotificationOutcome) => void;
  /** Tries per notification; default 3. */
  attempts?: number;
  /** Wait before the second try; each further one waits 4 times longer. Default 2 s (2 s, 8 s). */
  retryDelayMs?: number;
  /** The longest a Retry-After is honoured; a longer one waits this long. Default 15 s. */
  maxRetryAfterMs?: number;
  /** Notifications waiting to be delivered, beyond those under way; default 100. */
  queueLimit?: number;
  /** Deliveries under way at once; default 4. */
  concurrency?: number;
  now?: () => number;
}

class NotDelivered extends Error {
  override readonly name = 'NotDelivered';
  constructor(
    message: string,
    /** Worth another try: the receiver was busy or failing, not refusing this request. */
    readonly retry: { afterMs?: number } | undefined = undefined,
  ) {
    super(message);
  }
}

interface Job {
  plan: PlanRef;
  target: Notification;
  content: NotificationContent;
}

export class WebhookNotifier implements Notifier {
  private readonly waiting: Job[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: WebhookNotifierOptions) {}

  send(plan: PlanRef, spec: MigrationPlanSpec, event: NotificationEvent, message: string, details: NotifyDetails = {}): void {
    const at = new Date((this.options.now ?? Date.now)()).toISOString();
    const content: NotificationContent = { plan, event, message, at, ...(details.snapshot ? { snapshot: details.snapshot } : {}) };
    (spec.notifications ?? []).forEach((target, index) => {
      const wanted = details.notifications !== undefined ? details.notifications.includes(index) : target.events.includes(event);
      if (wanted) this.enqueue({ plan, target, content });
    });
  }

  /** Waits until nothing is queued or under way, or at most `timeoutMs`: a shutdown must not wait
   * out every retry of a receiver that is down. For shutdown and tests. */
  async flush(timeoutMs?: number): Promise<void> {
    const drained = (async () => {
      while (this.inFlight.size > 0 || this.waiting.length > 0) {
        this.pump();
        await Promise.allSettled([...this.inFlight]);
      }
    })();
    if (timeoutMs === undefined) return drained;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([drained, late]);
    clearTimeout(timer);
    if (this.inFlight.size > 0 || this.waiting.length > 0) {
      this.options.log.warn('notifications still unsent at shutdown', { underWay: this.inFlight.size, waiting: this.waiting.length });
    }
  }

  private enqueue(job: Job): void {
    this.waiting.push(job);
    const limit = this.options.queueLimit ?? 100;
    while (this.waiting.length > limit) {
      const dropped = this.waiting.shift() as Job;
      this.report(dropped, { ...this.describe(dropped), delivered: false, attempts: 0, reason: `dropped: more than ${limit} notifications were waiting to be sent` });
    }
    this.pump();
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (this.inFlight.size < concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      const p: Promise<void> = this.deliver(job)
        .then((outcome) => this.report(job, outcome))
        .finally(() => {
          this.inFlight.delete(p);
          this.pump();
        });
      this.inFlight.add(p);
    }
  }

  private describe(job: Job): Omit<NotificationOutcome, 'delivered' | 'attempts'> {
    const ref = job.target.urlFrom?.secretKeyRef;
    // A URL from a Secret is itself the credential (a Slack webhook's path is its key): it is
    // only ever shown as where it came from.
    const url = ref === undefined ? redactUrl(job.target.url ?? '') : secretUrlPlaceholder(ref);
    return { plan: job.plan, event: job.content.event, format: job.target.format ?? 'slack', url };
  }

  private report(job: Job, outcome: NotificationOutcome): void {
    if (!outcome.delivered) {
      this.options.log.warn('notification not delivered', {
        plan: job.plan.name,
        namespace: job.plan.namespace,
        event: outcome.event,
        format: outcome.format,
        url: outcome.url,
        attempts: outcome.attempts,
        error: outcome.reason,
      });
    }
    try {
      this.options.onOutcome?.(outcome);
    } catch {
      // A broken hook must not turn into an unhandled rejection.
    }
  }

  private async deliver(job: Job): Promise<NotificationOutcome> {
    const shown = this.describe(job);
    const { plan, target } = job;
    const ref = target.urlFrom?.secretKeyRef;
    const secrets: SecretUrl[] = [];
    // A receiver may quote what it was sent (PagerDuty names an unknown routing key).
    const hidden: Array<{ text: string; shown: string }> = [];
    let attempts = 0;
    try {
      const urlText = ref === undefined ? (target.url ?? '') : await this.readSecret(plan, ref, 'the URL');
      if (ref !== undefined) secrets.push({ url: urlText, name: ref.name, key: ref.key });
      const keyRef = target.routingKeyFrom?.secretKeyRef;
      const routingKey = keyRef === undefined ? undefined : await this.readSecret(plan, keyRef, 'the routing key');
      if (routingKey !== undefined && keyRef !== undefined && routingKey !== '') hidden.push({ text: routingKey, shown: `<routing key from secret ${keyRef.name}/${keyRef.key}>` });
      let url: URL;
      try {
        url = new URL(urlText);
      } catch {
        throw new NotDelivered(`${shown.url} is not a URL`);
      }
      const refused = refuseDestination(url, { policy: this.options.outbound ?? ALLOW_ALL_HOSTS, ...(ref === undefined ? {} : { credentials: 'a URL from a Secret' }) });
      if (refused !== undefined) throw new NotDelivered(refused);
      const body = JSON.stringify(notificationBody(shown.format, job.content, routingKey));
      const maxAttempts = Math.max(1, this.options.attempts ?? 3);
      for (;;) {
        attempts++;
        try {
          await this.post(url, body);
          return { ...shown, delivered: true, attempts };
        } catch (error) {
          const retry = error instanceof NotDelivered ? error.retry : {};
          if (retry === undefined || attempts >= maxAttempts) throw error;
          const backoff = (this.options.retryDelayMs ?? 2000) * 4 ** (attempts - 1);
          await sleep(retry.afterMs ?? backoff);
        }
      }
    } catch (error) {
      const reason = error instanceof NotDelivered ? error.message : messageOf(error);
      const withoutKeys = hidden.reduce((text, h) => text.split(h.text).join(h.shown), reason);
      return { ...shown, delivered: false, attempts, reason: redactUrl(withoutKeys, secrets) };
    }
  }

  private async readSecret(plan: PlanRef, ref: { name: string; key: string }, what: string): Promise<string> {
    try {
      return (await this.options.secrets.read(plan.namespace, ref.name, ref.key)).trim();
    } catch (e) {
      throw new NotDelivered(`cannot read ${what}, key "${ref.key}" of Secret ${plan.namespace}/${ref.name}: ${messageOf(e)}`);
    }
  }

  /** One POST; throws NotDelivered (with `retry` when another try may help) or a fetch failure. */
  private async post(url: URL, body: string): Promise<void> {
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 5000);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal,
        // Not followed: --allowed-hosts was checked for this URL, not for a Location header.
        redirect: 'manual',
      });
    } catch (error) {
      // No answer (refused, reset, timed out): the receiver may be back in a moment.
      throw new NotDelivered(describeFetchFailure(error, signal), {});
    }
    let reply: string;
    try {
      // Read, not left unread, so the connection is freed; bounded, so a huge reply cannot grow us.
      reply = await readBody(response, this.options.maxBodyBytes ?? MAX_BODY_BYTES);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw new NotDelivered(`answered ${response.status}, but ${e.message}`);
      throw new NotDelivered(`answered ${response.status}, but the reply broke off: ${messageOf(e)}`, {});
    }
    if (response.status >= 300 && response.status < 400) throw new NotDelivered(`answered ${response.status}; redirects are not followed`);
    if (response.ok) return;
    const said = `answered ${response.status}${excerpt(reply) === '' ? '' : `: ${excerpt(reply)}`}`;
    if (response.status === 429) {
      const afterMs = retryAfterMs(response.headers.get('retry-after'), (this.options.now ?? Date.now)());
      const bound = this.options.maxRetryAfterMs ?? 15_000;
      throw new NotDelivered(said, afterMs === undefined ? {} : { afterMs: Math.min(afterMs, bound) });
    }
    throw new NotDelivered(said, response.status >= 500 ? {} : undefined);
  }
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
