// watchPlan: one plan and word of its changes, for the CLI's rollback, wait and status --watch.
// It must say when the plan is gone, and keep working for a user RBAC lets get a plan but not
// list or watch it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kube, loadKubeConfig } from '../../src/kube';
import { LocalKube } from '../../src/localkube';
import { kubeconfigYaml } from '../../src/localkube/kubeconfig';
import { planResource, plansResource } from '../../src/plan/ref';
import { POLL_MS, waitForPlan, watchPlan } from '../../src/steering/feed';
import { planObject, targetFixture } from '../support/targets';

let local: LocalKube;
let dir: string;
let admin: Kube;

const kubeFor = (token: string, user: string): Kube => {
  const file = path.join(dir, `${user}.kubeconfig`);
  writeFileSync(file, kubeconfigYaml(local.url, token, 'shop', { user }));
  return new Kube(loadKubeConfig({ kubeconfig: file }));
};

beforeAll(async () => {
  local = new LocalKube({
    namespaces: ['default', 'shop'],
    tokens: { 'getter-token': { username: 'getter' }, 'watcher-token': { username: 'watcher' } },
    rules: [
      { users: ['getter'], verbs: ['get', 'patch'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'] },
      { users: ['watcher'], verbs: ['get', 'list', 'watch'], apiGroups: ['trafficshift.io'], resources: ['migrationplans'] },
    ],
  });
  await local.start();
  dir = mkdtempSync(path.join(tmpdir(), 'feed-'));
  const file = path.join(dir, 'admin.kubeconfig');
  local.writeKubeconfig(file, 'shop');
  admin = new Kube(loadKubeConfig({ kubeconfig: file }));
});

afterAll(async () => {
  admin.close();
  await local.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function makePlan(name: string): Promise<void> {
  await admin.create(plansResource('shop'), planObject(name, { targets: [targetFixture('nginx', name).target], steps: [{ weight: 100 }] }));
}

const paused = (obj: unknown): true | undefined => ((obj as { spec?: { paused?: boolean } } | undefined)?.spec?.paused === true ? true : undefined);

it('says the plan is gone once it is deleted', async () => {
  await makePlan('doomed');
  const kube = kubeFor('watcher-token', 'watcher');
  const feed = await watchPlan(kube, { namespace: 'shop', name: 'doomed' });
  try {
    expect(feed.current()).toBeDefined();
    await admin.delete(planResource({ namespace: 'shop', name: 'doomed' }));
    expect(await waitForPlan(feed, (obj) => (obj === undefined ? 'gone' : undefined), 10_000)).toBe('gone');
  } finally {
    await feed.stop();
    kube.close();
  }
});

it('follows the plan by reading it again when its user may get it but not list or watch it', async () => {
  await makePlan('get-only');
  const kube = kubeFor('getter-token', 'getter');
  const feed = await watchPlan(kube, { namespace: 'shop', name: 'get-only' });
  try {
    await admin.mergePatch(planResource({ namespace: 'shop', name: 'get-only' }), { spec: { paused: true } });
    // A few polls' worth, generous for a loaded machine.
    expect(await waitForPlan(feed, paused, 20 * POLL_MS)).toBe(true);
    await admin.delete(planResource({ namespace: 'shop', name: 'get-only' }));
    expect(await waitForPlan(feed, (obj) => (obj === undefined ? 'gone' : undefined), 20 * POLL_MS)).toBe('gone');
  } finally {
    await feed.stop();
    kube.close();
  }
});
