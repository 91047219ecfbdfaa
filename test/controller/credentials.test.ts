// The Secrets a plan can make the controller read: only labelled credentials, in the plan's own
// namespace, and a message that never tells a plan author whether an unusable Secret exists.
import { createAnalysisRunner } from '../../src/checks/runner';
import { kubeSecretReader } from '../../src/controller/controller';
import { CREDENTIAL_LABEL, NotACredential } from '../../src/controller/credentials';
import { MigrationPlanSpec } from '../../src/plan/schema';
import { startLoopback, type Loopback } from '../checks/loopback';
import { startLiveKube, type LiveKube } from '../providers/liveKube';

const SECRETS = { group: '', version: 'v1', plural: 'secrets' };

let live: LiveKube;
beforeAll(async () => {
  live = await startLiveKube([], 'shop');
  await live.kube.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  const secret = (namespace: string, name: string, labels: Record<string, string>, data: Record<string, string>) =>
    live.kube.create({ ...SECRETS, namespace }, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels }, stringData: data });
  await secret('shop', 'prom-auth', { [CREDENTIAL_LABEL]: 'true' }, { token: 's3cret-token' });
  await secret('shop', 'db-password', {}, { password: 'hunter2' });
  await secret('shop', 'half-labelled', { [CREDENTIAL_LABEL]: 'false' }, { token: 'x' });
  await secret('other', 'prom-auth-other', { [CREDENTIAL_LABEL]: 'true' }, { token: 'other-team' });
});
afterAll(() => live.stop());

describe('kubeSecretReader', () => {
  it('reads a key of a Secret labelled trafficshift.io/credential: "true"', async () => {
    expect(await kubeSecretReader(live.kube).read('shop', 'prom-auth', 'token')).toBe('s3cret-token');
  });

  it.each([
    ['an unlabelled Secret', 'db-password', 'password'],
    ['a Secret labelled "false"', 'half-labelled', 'token'],
    ['a missing Secret', 'no-such-secret', 'token'],
  ])('%s is refused with the one message that does not say whether it exists', async (_what, name, key) => {
    const read = kubeSecretReader(live.kube).read('shop', name, key);
    await expect(read).rejects.toThrow(NotACredential);
    await expect(read).rejects.toThrow(`secret "${name}" is not a trafficshift credential (it needs the label trafficshift.io/credential: "true") or does not exist`);
  });

  it('a labelled Secret in another namespace reads as missing from the plan\'s own', async () => {
    await expect(kubeSecretReader(live.kube).read('shop', 'prom-auth-other', 'token')).rejects.toThrow(NotACredential);
  });

  it('a labelled Secret without the key says so', async () => {
    await expect(kubeSecretReader(live.kube).read('shop', 'prom-auth', 'bearer')).rejects.toThrow('secret "prom-auth" has no key "bearer"');
  });
});

describe('what a plan author sees in status', () => {
  let prom: Loopback;
  beforeAll(async () => {
    prom = await startLoopback();
  });
  afterAll(() => prom.close());

  it('is the same for an unlabelled Secret and for none, and the unlabelled one is never sent', async () => {
    const spec = (secretName: string) =>
      MigrationPlanSpec.parse({
        targets: [{ provider: 'smi', smi: { trafficSplit: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } }],
        steps: [{ weight: 10 }, { weight: 100 }],
        analysis: { prometheus: { address: prom.url, basicAuthFrom: { secretRef: { name: secretName } } }, checks: [{ name: 'error-rate', query: 'up', max: 1 }] },
      });
    const runner = createAnalysisRunner({ secrets: kubeSecretReader(live.kube) });
    const round = (secretName: string) => runner.runRound({ plan: { name: 'p', namespace: 'shop' }, spec: spec(secretName), step: 0, weight: 10, signal: new AbortController().signal });
    const unlabelled = (await round('db-password')).outcomes[0];
    const missing = (await round('nothing-here')).outcomes[0];
    expect(unlabelled?.result).toBe('Error');
    expect(unlabelled?.message?.replaceAll('db-password', 'NAME')).toBe(missing?.message?.replaceAll('nothing-here', 'NAME'));
    expect(prom.received).toHaveLength(0);
  });
});
