import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookNotifier } from '../../src/controller/notifier';
import { silentLogger } from '../../src/controller/logger';
import { MigrationPlanSpec } from '../../src/plan/schema';

interface Received {
  path: string;
  body: { text: string; event: string; plan: { namespace: string; name: string } };
}

let server: http.Server;
let base: string;
const received: Received[] = [];
let status = 200;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(data) as Received['body'] });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received.length = 0;
  status = 200;
});

const spec = (notifications: unknown[]) =>
  MigrationPlanSpec.parse({ targets: [{ provider: 'nginx', nginx: { ingress: 'a', canaryIngress: 'b' } }], steps: [{ weight: 100 }], notifications });
const plan = { namespace: 'shop', name: 'checkout-v2' };

describe('WebhookNotifier', () => {
  it('posts Slack-compatible JSON only to the URLs whose events name the event', async () => {
    const secrets = { read: async (ns: string, name: string, key: string) => `${base}/from-secret/${ns}/${name}/${key}` };
    const n = new WebhookNotifier({ secrets, log: silentLogger() });
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
    const n = new WebhookNotifier({ secrets, log: silentLogger() });
    const s = spec([{ url: `${base}/down`, events: ['Started'] }, { urlFrom: { secretKeyRef: { name: 'slack', key: 'url' } }, events: ['Started'] }]);
    expect(() => n.send(plan, s, 'Started', 'go')).not.toThrow();
    await expect(n.flush()).resolves.toBeUndefined();
    expect(received.map((r) => r.path)).toEqual(['/down']);
  });
});
