// Each notification format against a local receiver, delivery retries, the queue, and the metric.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import type { NotificationSnapshot } from '../../src/engine';
import { JSON_NOTIFICATION_VERSION } from '../../src/controller/notificationBodies';
import { WebhookNotifier, retryAfterMs, type NotificationOutcome, type WebhookNotifierOptions } from '../../src/controller/notifier';
import { silentLogger } from '../../src/controller/logger';
import { MigrationPlanSpec } from '../../src/plan/schema';

interface Received {
  path: string;
  at: number;
  body: Record<string, unknown>;
}

let server: http.Server;
let base: string;
const received: Received[] = [];
/** Answers in turn; the last one repeats. */
let answers: Array<(res: http.ServerResponse) => void> = [];
let hung: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', at: Date.now(), body: JSON.parse(data) as Record<string, unknown> });
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      if (answer) answer(res);
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  received.length = 0;
  answers = [];
  hung = [];
});
afterEach(() => {
  for (const res of hung) res.destroy();
});

const spec = (notifications: unknown[]) =>
  MigrationPlanSpec.parse({ targets: [{ provider: 'nginx', nginx: { ingress: 'web', canaryIngress: 'web-canary' } }], steps: [{ weight: 10 }, { weight: 100 }], notifications });
const plan = { namespace: 'shop', name: 'checkout-v2' };
const snapshot: NotificationSnapshot = {
  phase: 'RollingBack',
  step: 'step 1/2: canary 10%',
  canaryWeight: 10,
  targets: [{ provider: 'nginx', name: 'web-canary', weight: 10 }],
  checks: [{ name: 'error-rate', value: 0.12, threshold: '<= 0.05', result: 'Fail', severity: 'critical' }],
  reason: 'check error-rate failed: 0.12 > 0.05',
};
const secrets = { read: async (_ns: string, name: string, key: string) => (name === 'pd' && key === 'key' ? 'R0UTINGKEY' : `${base}/from-secret/${name}/${key}`) };

function notifier(options: Partial<WebhookNotifierOptions> = {}): { n: WebhookNotifier; outcomes: NotificationOutcome[] } {
  const outcomes: NotificationOutcome[] = [];
  const n = new WebhookNotifier({ secrets, log: silentLogger(), onOutcome: (o) => outcomes.push(o), retryDelayMs: 10, now: () => Date.parse('2026-01-02T03:04:05Z'), ...options });
  return { n, outcomes };
}

describe('notification formats', () => {
  it('slack: Block Kit blocks with the plan, step, weights, checks and reason, and a text fallback', async () => {
    const { n } = notifier();
    n.send(plan, spec([{ url: `${base}/slack`, events: ['RollingBack'] }]), 'RollingBack', 'rolling back to stable', { snapshot });
    await n.flush();
    const body = received[0]?.body as { text: string; blocks: Array<{ type: string; text?: { text: string } }> };
    expect(body.text).toBe('[trafficshift] shop/checkout-v2 RollingBack: rolling back to stable');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'RollingBack: shop/checkout-v2' } });
    const all = JSON.stringify(body.blocks);
    for (const part of ['step 1/2: canary 10%', 'nginx/web-canary: canary 10%', 'error-rate: 0.12 (<= 0.05) Fail', 'check error-rate failed: 0.12 > 0.05', 'RollingBack']) expect(all).toContain(part);
  });

  it('teams: a message with one Adaptive Card whose facts carry the snapshot', async () => {
    const { n } = notifier();
    n.send(plan, spec([{ url: `${base}/teams`, format: 'teams', events: ['RollingBack'] }]), 'RollingBack', 'rolling back to stable', { snapshot });
    await n.flush();
    const body = received[0]?.body as { type: string; attachments: Array<{ contentType: string; content: { type: string; version: string; body: Array<{ type: string; facts?: Array<{ title: string; value: string }> }> } }> };
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const card = body.attachments[0];
    expect(card?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card?.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const facts = card?.content.body.find((b) => b.type === 'FactSet')?.facts ?? [];
    expect(facts.map((f) => f.title)).toEqual(['Phase', 'Step', 'Weights', 'Checks', 'Reason']);
    expect(facts.find((f) => f.title === 'Weights')?.value).toBe('nginx/web-canary: canary 10%');
  });

  it('pagerduty: trigger, then resolve with the same dedup_key and the routing key from the Secret', async () => {
    const { n, outcomes } = notifier();
    const s = spec([{ url: `${base}/v2/enqueue`, format: 'pagerduty', routingKeyFrom: { secretKeyRef: { name: 'pd', key: 'key' } }, events: ['RollingBack', 'Retrying'] }]);
    n.send(plan, s, 'RollingBack', 'rolling back to stable', { snapshot });
    await n.flush();
    n.send(plan, s, 'Retrying', 'retry "1": starting again from step 1', { snapshot: { ...snapshot, phase: 'Pending' } });
    await n.flush();
    const [trigger, resolve] = received.map((r) => r.body);
    expect(trigger).toMatchObject({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: 'trafficshift/shop/checkout-v2',
      payload: {
        summary: '[trafficshift] shop/checkout-v2 RollingBack: rolling back to stable',
        source: 'shop/checkout-v2',
        severity: 'error',
        component: 'nginx/web-canary',
        custom_details: { apiVersion: JSON_NOTIFICATION_VERSION, phase: 'RollingBack' },
      },
    });
    expect(resolve).toEqual({ routing_key: 'R0UTINGKEY', event_action: 'resolve', dedup_key: 'trafficshift/shop/checkout-v2' });
    // The routing key is a credential: never in an outcome (what is logged and counted).
    expect(JSON.stringify(outcomes)).not.toContain('R0UTINGKEY');
  });

  it('pagerduty: a failure reason that echoes the routing key shows its Secret instead', async () => {
    answers = [(res) => res.writeHead(400).end('{"status":"invalid event","errors":["routing_key R0UTINGKEY is unknown"]}')];
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: `${base}/v2/enqueue`, format: 'pagerduty', routingKeyFrom: { secretKeyRef: { name: 'pd', key: 'key' } }, events: ['RtoMissed'] }]), 'RtoMissed', 'slow');
    await n.flush();
    expect(outcomes[0]?.delivered).toBe(false);
    expect(outcomes[0]?.reason).toBe('answered 400: {"status":"invalid event","errors":["routing_key <routing key from secret pd/key> is unknown"]}');
    expect(JSON.stringify(outcomes)).not.toContain('R0UTINGKEY');
  });

  it('json: the versioned body', async () => {
    const { n } = notifier();
    n.send(plan, spec([{ urlFrom: { secretKeyRef: { name: 'hook', key: 'url' } }, format: 'json', events: ['RollingBack'] }]), 'RollingBack', 'rolling back to stable', { snapshot });
    await n.flush();
    expect(received[0]?.path).toBe('/from-secret/hook/url');
    expect(received[0]?.body).toEqual({
      apiVersion: 'trafficshift.io/notification/v1',
      event: 'RollingBack',
      message: 'rolling back to stable',
      plan: { namespace: 'shop', name: 'checkout-v2' },
      phase: 'RollingBack',
      step: 'step 1/2: canary 10%',
      canaryWeight: 10,
      weights: [{ provider: 'nginx', name: 'web-canary', weight: 10 }],
      checks: [{ name: 'error-rate', value: 0.12, threshold: '<= 0.05', result: 'Fail', severity: 'critical' }],
      reason: 'check error-rate failed: 0.12 > 0.05',
      at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('Progress goes only to the entries the engine named, whatever their events', async () => {
    const { n } = notifier();
    const s = spec([{ url: `${base}/a`, events: ['Started'], every: '15m' }, { url: `${base}/b`, events: ['Started'] }]);
    n.send(plan, s, 'Progress', 'Progressing at step 1/2', { snapshot, notifications: [0] });
    await n.flush();
    expect(received.map((r) => r.path)).toEqual(['/a']);
  });
});

describe('notification delivery', () => {
  it('retries a 503: delivered once, after two attempts', async () => {
    answers = [(res) => res.writeHead(503).end('busy'), (res) => res.writeHead(200).end('ok')];
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: `${base}/flaky`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(received).toHaveLength(2);
    expect(outcomes).toEqual([expect.objectContaining({ delivered: true, attempts: 2 })]);
  });

  it('never retries a 400', async () => {
    answers = [(res) => res.writeHead(400).end('invalid_payload')];
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: `${base}/bad`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(received).toHaveLength(1);
    expect(outcomes).toEqual([expect.objectContaining({ delivered: false, attempts: 1, reason: 'answered 400: invalid_payload' })]);
  });

  it('waits as long as a 429 says in Retry-After, up to its bound', async () => {
    answers = [(res) => res.writeHead(429, { 'retry-after': '1' }).end(), (res) => res.writeHead(200).end()];
    const { n, outcomes } = notifier({ retryDelayMs: 1 });
    n.send(plan, spec([{ url: `${base}/limited`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(outcomes).toEqual([expect.objectContaining({ delivered: true, attempts: 2 })]);
    expect((received[1]?.at ?? 0) - (received[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);

    received.length = 0;
    answers = [(res) => res.writeHead(429, { 'retry-after': '3600' }).end(), (res) => res.writeHead(200).end()];
    const bounded = notifier({ retryDelayMs: 1, maxRetryAfterMs: 50 });
    const started = Date.now();
    bounded.n.send(plan, spec([{ url: `${base}/limited`, events: ['Started'] }]), 'Started', 'go');
    await bounded.n.flush();
    expect(bounded.outcomes).toEqual([expect.objectContaining({ delivered: true, attempts: 2 })]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-02T03:04:05Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Fri, 02 Jan 2026 03:04:15 GMT', now)).toBe(10_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('send() returns at once while a receiver hangs', async () => {
    answers = [(res) => void hung.push(res)];
    const { n, outcomes } = notifier({ timeoutMs: 300, attempts: 1 });
    const started = Date.now();
    n.send(plan, spec([{ url: `${base}/hang`, events: ['Started'] }]), 'Started', 'go');
    expect(Date.now() - started).toBeLessThan(50);
    await n.flush();
    expect(outcomes).toEqual([expect.objectContaining({ delivered: false, attempts: 1 })]);
  });

  it('drops the oldest waiting notification when the queue is full, and counts it', async () => {
    answers = [(res) => void hung.push(res)];
    const { n, outcomes } = notifier({ timeoutMs: 200, attempts: 1, concurrency: 1, queueLimit: 2 });
    const s = spec([{ url: `${base}/slow`, events: ['Started', 'StepAdvanced', 'Paused', 'Resumed'] }]);
    for (const event of ['Started', 'StepAdvanced', 'Paused', 'Resumed'] as const) n.send(plan, s, event, event);
    // Started is under way; StepAdvanced and Paused wait; Resumed pushes StepAdvanced out.
    expect(outcomes).toEqual([expect.objectContaining({ event: 'StepAdvanced', delivered: false, attempts: 0, reason: 'dropped: more than 2 notifications were waiting to be sent' })]);
    await n.flush();
    expect(outcomes.map((o) => o.event)).toEqual(['StepAdvanced', 'Started', 'Paused', 'Resumed']);
  });

  it('counts outcomes in trafficshift_notifications_total by format, event and result', async () => {
    const metrics = new TrafficshiftMetrics({ version: 'test', processMetrics: false });
    answers = [(res) => res.writeHead(200).end(), (res) => res.writeHead(404).end()];
    const n = new WebhookNotifier({ secrets, log: silentLogger(), retryDelayMs: 1, onOutcome: (o) => metrics.controller.notification?.(o) });
    n.send(plan, spec([{ url: `${base}/ok`, format: 'json', events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    n.send(plan, spec([{ url: `${base}/gone`, format: 'json', events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    const text = await metrics.registry.metrics();
    expect(text).toContain('trafficshift_notifications_total{format="json",event="Started",result="delivered"} 1');
    expect(text).toContain('trafficshift_notifications_total{format="json",event="Started",result="failed"} 1');
    expect(text).toContain('trafficshift_notifications_total{format="slack",event="RollingBack",result="failed"} 0');
    expect(text).not.toMatch(/trafficshift_notifications_total\{[^}]*plan=/);
  });
});
