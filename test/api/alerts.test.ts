import request from 'supertest';
import { createApp, type AppDeps } from '../../src/api/app';
import { alertRoutes } from '../../src/api/alerts';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { silentLogger } from '../../src/controller/logger';
import { REQUEST_ANNOTATIONS } from '../../src/plan/schema';
import { startCluster, type TestCluster } from '../support/cluster';
import { planObject, REFS } from '../support/targets';

let cluster: TestCluster;
const noted: Array<{ name: string; value: string; at: number }> = [];
const enqueued: string[] = [];

function app(): ReturnType<typeof createApp> {
  const deps: AppDeps = {
    controller: {
      enqueue: (p) => void enqueued.push(p.name),
      noteRequest: (p, _kind, value, at) => void noted.push({ name: p.name, value, at }),
      isLeader: true,
    },
    kube: cluster.kube,
    namespace: cluster.namespace,
    now: () => 1_800_000_000_000,
    registry: new TrafficshiftMetrics({ version: 'test', processMetrics: false }).registry,
    ready: () => true,
    log: silentLogger(),
  };
  return createApp(deps, [alertRoutes]);
}

const plan = (name: string, matchLabels?: Record<string, string>) =>
  planObject(name, {
    targets: [{ provider: 'nginx', nginx: { ingress: 'web', canaryIngress: 'web-canary' } }],
    steps: [{ weight: 10 }, { weight: 100 }],
    ...(matchLabels ? { rollback: { alertmanager: { matchLabels } } } : {}),
  });

async function annotation(name: string): Promise<string | undefined> {
  const obj = await cluster.kube.get({ ...REFS.plans, namespace: cluster.namespace, name });
  return (obj['metadata'] as { annotations?: Record<string, string> }).annotations?.[REQUEST_ANNOTATIONS.rollback];
}

const firing = (labels: Record<string, string>, status = 'firing') => ({
  version: '4', status, receiver: 'trafficshift', groupKey: 'k',
  alerts: [{ status, labels, annotations: {}, startsAt: '2026-11-27T10:00:00Z' }],
});

beforeAll(async () => {
  cluster = await startCluster('alerts-api');
  for (const [name, labels] of [['checkout', { migration: 'checkout' }], ['payments', { migration: 'payments' }], ['unwatched', undefined]] as const) {
    await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, plan(name, labels));
  }
  // Steps out of order: the API server accepts it, our schema does not.
  const broken = plan('broken', { migration: 'broken' });
  (broken['spec'] as { steps: unknown }).steps = [{ weight: 50 }, { weight: 10 }, { weight: 100 }];
  await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, broken);
});
afterAll(() => cluster.close());

describe('POST /api/v1/alerts', () => {
  it('still reaches a plan whose spec is invalid elsewhere: only its rollback block is read', async () => {
    const res = await request(app()).post('/api/v1/alerts').send(firing({ alertname: 'Burn', migration: 'broken' }));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack.map((r: { name: string }) => r.name)).toEqual(['broken']);
    expect(await annotation('broken')).toBe('alert Burn firing since 2026-11-27T10:00:00Z');
  });

  it('answers 400 naming the field for a payload that is not Alertmanager\'s', async () => {
    const res = await request(app()).post('/api/v1/alerts').send({ version: '4', status: 'firing', alerts: [{ status: 'firing' }] });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('alerts[0].labels');
    expect(res.body.error).toContain('alerts[0].labels');
  });

  it('does nothing for a resolved alert', async () => {
    const res = await request(app()).post('/api/v1/alerts').send(firing({ migration: 'payments' }, 'resolved'));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack).toEqual([]);
    expect(await annotation('payments')).toBeUndefined();
  });

  it('asks exactly the matching plan to roll back, noting the receipt time before the write', async () => {
    const res = await request(app()).post('/api/v1/alerts').send(firing({ alertname: 'HighErrorRate', migration: 'checkout' }));
    expect(res.status).toBe(200);
    expect(res.body.rolledBack).toEqual([{ namespace: cluster.namespace, name: 'checkout', reason: 'alert HighErrorRate firing since 2026-11-27T10:00:00Z' }]);
    expect(await annotation('checkout')).toBe('alert HighErrorRate firing since 2026-11-27T10:00:00Z');
    expect(await annotation('payments')).toBeUndefined();
    expect(await annotation('unwatched')).toBeUndefined();
    expect(noted).toContainEqual({ name: 'checkout', value: 'alert HighErrorRate firing since 2026-11-27T10:00:00Z', at: 1_800_000_000_000 });
    expect(enqueued).toContain('checkout');
  });
});
