// What a plan's author can make the controller do with a Secret, and with an answer from outside,
// end to end through the kubeconfig (so the file runs unchanged on a real kube-apiserver):
// - only Secrets labelled trafficshift.io/credential: "true" are read; an unlabelled one and a
//   missing one read the same in the status, and the value goes nowhere;
// - an answer of 100 MB is an Error, read no further than 1 MiB.
import { useE2eRun } from '../support/e2e';
import { createPlan, waitForStatus } from '../support/plans';
import { startLoopback, streamBytes, json, type Loopback, type Streamed } from '../checks/loopback';
import type { CheckStatus, MigrationPlanStatus } from '../../src/plan/schema';

const TOKEN = 's3cret-token-value';
const SECRETS = { group: '', version: 'v1', plural: 'secrets' };

const run = useE2eRun('security');
let prometheus: Loopback;

beforeAll(async () => {
  // A Prometheus that answers every instant query with one series of value 0.
  prometheus = await startLoopback((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '0'] }] } }));
});

afterAll(async () => prometheus?.close());

async function secret(name: string, labels: Record<string, string> = {}): Promise<void> {
  await run.cluster.kube.create({ ...SECRETS, namespace: run.cluster.namespace }, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name, labels }, type: 'Opaque', data: { token: Buffer.from(TOKEN).toString('base64') },
  });
}

async function planWithToken(name: string, secretName: string): Promise<void> {
  const made = await run.target('nginx', name);
  await createPlan(run.cluster, name, {
    targets: [made.target],
    steps: [{ weight: 10, pause: {} }, { weight: 100 }],
    analysis: {
      interval: '1s',
      prometheus: { address: prometheus.url, bearerTokenFrom: { secretKeyRef: { name: secretName, key: 'token' } } },
      checks: [{ name: 'error-rate', query: 'sum(up)', max: 0.5 }],
    },
  });
}

const firstCheck = (s: MigrationPlanStatus | undefined): CheckStatus | undefined => s?.checks?.[0];

describe('Secrets a plan names', () => {
  it('an unlabelled Secret and a missing one read the same in the status, and the token is sent nowhere', async () => {
    await secret('unlabelled-token');
    await planWithToken('unlabelled', 'unlabelled-token');
    await planWithToken('missing', 'no-such-secret');
    const unlabelled = await waitForStatus(run.cluster, 'unlabelled', (s) => firstCheck(s)?.result === 'Error', 'the check in Error');
    const missing = await waitForStatus(run.cluster, 'missing', (s) => firstCheck(s)?.result === 'Error', 'the check in Error');
    expect(firstCheck(unlabelled)?.message).toContain('secret "unlabelled-token" is not a trafficshift credential');
    // The same words, but for the name: nothing tells the author whether the Secret exists.
    expect(firstCheck(missing)?.message?.replaceAll('no-such-secret', 'X')).toBe(firstCheck(unlabelled)?.message?.replaceAll('unlabelled-token', 'X'));
    expect(prometheus.received.filter((r) => r.headers.authorization !== undefined)).toStrictEqual([]);
    expect(JSON.stringify([unlabelled, missing])).not.toContain(TOKEN);
  });

  it('a Secret labelled trafficshift.io/credential: "true" is read, and its value goes only to the check, never into the status', async () => {
    await secret('labelled-token', { 'trafficshift.io/credential': 'true' });
    await planWithToken('labelled', 'labelled-token');
    const passing = await waitForStatus(run.cluster, 'labelled', (s) => firstCheck(s)?.result === 'Pass', 'the check passing');
    expect(prometheus.received.some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(JSON.stringify(passing)).not.toContain(TOKEN);
  });
});

it('a webhook check that answers 100 MB is an Error, read no further than its 1 MiB bound', async () => {
  const streams: Array<Promise<Streamed>> = [];
  const flood = await startLoopback((_req, res) => {
    streams.push(streamBytes(res, 100 * 1024 * 1024, { 'content-type': 'application/json' }));
  });
  try {
    const made = await run.target('gatewayAPI', 'flood');
    await createPlan(run.cluster, 'flood', {
      targets: [made.target],
      steps: [{ weight: 10, pause: {} }, { weight: 100 }],
      analysis: { interval: '1s', checks: [{ name: 'smoke', webhook: { url: `${flood.url}/check`, timeout: '30s' }, max: 1 }] },
    });
    const status = await waitForStatus(run.cluster, 'flood', (s) => firstCheck(s)?.result === 'Error', 'the check in Error');
    expect(firstCheck(status)?.message).toMatch(/1 ?MiB/);
    const first = await streams[0];
    expect(first?.finished).toBe(false);
    expect(first?.written).toBeLessThan(50 * 1024 * 1024);
  } finally {
    await flood.close();
  }
});
