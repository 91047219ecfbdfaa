import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AllowedHosts } from '../../src/checks/outbound';
import { WebhookNotifier, type NotificationOutcome } from '../../src/controller/notifier';
import { silentLogger } from '../../src/controller/logger';
import { MigrationPlanSpec } from '../../src/plan/schema';
import { closedPort, streamBytes, type Streamed } from '../checks/loopback';

interface Received {
  path: string;
  body: { text: string; event: string; plan: { namespace: string; name: string } };
}

let server: http.Server;
let base: string;
const received: Received[] = [];
let status = 200;
/** Overrides the plain `status` answer when set. */
let answer: ((res: http.ServerResponse) => void) | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(data) as Received['body'] });
      if (answer) answer(res);
      else res.writeHead(status).end();
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
  status = 200;
  answer = undefined;
});

const spec = (notifications: unknown[]) =>
  MigrationPlanSpec.parse({ targets: [{ provider: 'nginx', nginx: { ingress: 'a', canaryIngress: 'b' } }], steps: [{ weight: 100 }], notifications });
const plan = { namespace: 'shop', name: 'checkout-v2' };

describe('WebhookNotifier', () => {
  it('posts Slack-compatible JSON only to the URLs whose events name the event', async () => {
    const secrets = { read: async (ns: string, name: string, key: string) => `${base}/from-secret/${ns}/${name}/${key}` };
    const n = new WebhookNotifier({ secrets, log: silentLogger(), retryDelayMs: 1 });
    const s = spec([
      { url: `${base}/rollbacks`, events: ['RolledBack'] },
      { urlFrom: { secretKeyRef: { name: 'slack', key: 'url' } }, events: ['RolledBack', 'Succeeded'] },
      { url: `${base}/starts`, events: ['Started'] },
    ]);
    n.send(plan, s, 'RolledBack', 'traffic is back on stable');
    await n.flush();
    expect(received.map((r) => r.path).sort()).toEqual(['/from-secret/shop/slack/url', '/rollbacks']);
    expect(received[0]?.body).toMatchObject({ event: 'RolledBack', plan, text: '[trafficshift] shop/checkout-v2 RolledBack: traffic is back on stable' });
  });

  it('never throws into the reconcile when a receiver fails or a Secret is missing', async () => {
    status = 500;
    const secrets = { read: async () => { throw new Error('secret shop/slack not found'); } };
    const n = new WebhookNotifier({ secrets, log: silentLogger(), retryDelayMs: 1 });
    const s = spec([{ url: `${base}/down`, events: ['Started'] }, { urlFrom: { secretKeyRef: { name: 'slack', key: 'url' } }, events: ['Started'] }]);
    expect(() => n.send(plan, s, 'Started', 'go')).not.toThrow();
    await expect(n.flush()).resolves.toBeUndefined();
    // 500 is worth another try: three in all.
    expect(received.map((r) => r.path)).toEqual(['/down', '/down', '/down']);
  });
});

describe('WebhookNotifier outbound rules', () => {
  /** A notifier whose outcomes the test reads (not its log lines). */
  function notifier(options: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> = {}): { n: WebhookNotifier; outcomes: NotificationOutcome[] } {
    const outcomes: NotificationOutcome[] = [];
    const n = new WebhookNotifier({ secrets: { read: async () => 'unused' }, log: silentLogger(), onOutcome: (o) => outcomes.push(o), retryDelayMs: 1, ...options });
    return { n, outcomes };
  }
  const fromSecret = [{ urlFrom: { secretKeyRef: { name: 'slack', key: 'url' } }, events: ['Started'] }];

  it('reports a delivered notification', async () => {
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: `${base}/ok`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(outcomes).toStrictEqual([{ plan, event: 'Started', format: 'slack', url: `${base}/ok`, delivered: true, attempts: 1 }]);
  });

  it('does not call a host outside --allowed-hosts, and says which host and which flag', async () => {
    const { n, outcomes } = notifier({ outbound: { allowedHosts: AllowedHosts.parse('hooks.slack.com') } });
    n.send(plan, spec([{ url: `${base}/hook`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(received).toStrictEqual([]);
    expect(outcomes).toStrictEqual([
      { plan, event: 'Started', format: 'slack', url: `${base}/hook`, delivered: false, attempts: 0, reason: 'host "127.0.0.1" is not in the controller\'s --allowed-hosts; the operator must add it to call it' },
    ]);
  });

  it('never sends a URL from a Secret over plain http outside the cluster, and never shows it', async () => {
    const calls: string[] = [];
    const fake = (async (input: string | URL | Request) => {
      calls.push(String(input));
      return new Response('ok');
    }) as typeof fetch;
    const { n, outcomes } = notifier({ fetch: fake, secrets: { read: async () => 'http://hooks.example.com/services/T0/B0/S3CRET\n' } });
    n.send(plan, spec(fromSecret), 'Started', 'go');
    await n.flush();
    expect(calls).toStrictEqual([]);
    expect(outcomes).toStrictEqual([
      {
        plan,
        event: 'Started',
        format: 'slack',
        url: '<url from secret slack/url>',
        delivered: false,
        attempts: 0,
        reason: 'a URL from a Secret is not sent over plain http to "hooks.example.com", which is outside the cluster: use https',
      },
    ]);
  });

  it('a failure to reach a URL from a Secret names the Secret, never the URL', async () => {
    const secretUrl = 'https://hooks.example.com/services/T0/B0/S3CRET';
    // As undici's errors do for some failures, this one quotes the URL it was given.
    const fake = (async (input: string | URL | Request) => {
      throw new Error(`request to ${String(input)} failed`);
    }) as typeof fetch;
    const { n, outcomes } = notifier({ fetch: fake, secrets: { read: async () => secretUrl } });
    n.send(plan, spec(fromSecret), 'Started', 'go');
    await n.flush();
    expect(outcomes).toStrictEqual([
      { plan, event: 'Started', format: 'slack', url: '<url from secret slack/url>', delivered: false, attempts: 3, reason: 'request to <url from secret slack/url> failed' },
    ]);
  });

  it('a refused connection to a URL from a Secret is reported without it', async () => {
    const port = await closedPort();
    const { n, outcomes } = notifier({ secrets: { read: async () => `http://127.0.0.1:${port}/services/T0/B0/S3CRET` } });
    n.send(plan, spec(fromSecret), 'Started', 'go');
    await n.flush();
    expect(outcomes[0]).toMatchObject({ url: '<url from secret slack/url>', delivered: false });
    expect(outcomes[0]?.reason).toContain('ECONNREFUSED');
    expect(JSON.stringify(outcomes)).not.toContain('S3CRET');
  });

  it('a URL with user:pass@ is not called and is shown without them', async () => {
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: base.replace('http://', 'http://bot:hunter2@'), events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(received).toStrictEqual([]);
    expect(outcomes).toMatchObject([{ url: base, delivered: false }]);
    expect(JSON.stringify(outcomes)).not.toContain('hunter2');
  });

  it('reads a reply only up to 1 MiB: a longer one is not counted as delivered, and the connection is dropped', async () => {
    let streamed: Promise<Streamed> | undefined;
    answer = (res) => {
      streamed = streamBytes(res, 100 * 1024 * 1024);
    };
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: `${base}/chatty`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(outcomes).toStrictEqual([
      { plan, event: 'Started', format: 'slack', url: `${base}/chatty`, delivered: false, attempts: 1, reason: 'answered 200, but the answer is larger than 1 MiB; stopped reading it' },
    ]);
    expect((await (streamed as Promise<Streamed>)).finished).toBe(false);
  });

  it('a failing receiver\'s reply is in the reason, redacted', async () => {
    answer = (res) => res.writeHead(403).end('invalid token for https://hooks.example.com/x?token=abc');
    const { n, outcomes } = notifier();
    n.send(plan, spec([{ url: `${base}/denied`, events: ['Started'] }]), 'Started', 'go');
    await n.flush();
    expect(outcomes[0]?.reason).toBe('answered 403: invalid token for https://hooks.example.com/x?token=REDACTED');
  });
});
