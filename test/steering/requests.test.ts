import { startCluster, type TestCluster } from '../support/cluster';
import { planObject, REFS } from '../support/targets';
import { PlanNotFound, request, requestRollback, requestValue, setPaused } from '../../src/steering/requests';
import { REQUEST_ANNOTATIONS } from '../../src/plan/schema';

describe('requestValue', () => {
  const now = new Date('2026-11-27T10:00:00.000Z');
  it('is the text itself when it is new', () => expect(requestValue('bad latency', undefined, now)).toBe('bad latency'));
  it('is made new when the controller already handled the same text', () =>
    expect(requestValue('bad latency', 'bad latency', now)).toBe('bad latency (again at 2026-11-27T10:00:00.000Z)'));
  it('says when it was asked for when the text is empty', () => expect(requestValue(' ', undefined, now)).toBe('requested at 2026-11-27T10:00:00.000Z'));
});

describe('steering patches', () => {
  let cluster: TestCluster;
  const plan = () => ({ namespace: cluster.namespace, name: 'steered' });
  beforeAll(async () => {
    cluster = await startCluster('steering');
    await cluster.kube.create({ ...REFS.plans, namespace: cluster.namespace }, planObject('steered', {
      targets: [{ provider: 'nginx', nginx: { ingress: 'a', canaryIngress: 'a-canary' } }],
      steps: [{ weight: 10 }, { weight: 100 }],
    }));
  });
  afterAll(() => cluster.close());

  it('pauses and resumes through spec.paused alone', async () => {
    const paused = await setPaused(cluster.kube, plan(), true);
    expect((paused['spec'] as { paused: boolean }).paused).toBe(true);
    const resumed = await setPaused(cluster.kube, plan(), false);
    expect((resumed['spec'] as { paused: boolean }).paused).toBe(false);
  });

  it('asks for a rollback with the reason in the annotation, and never touches status', async () => {
    const { value, object } = await requestRollback(cluster.kube, plan(), 'p99 doubled');
    expect(value).toBe('p99 doubled');
    expect((object['metadata'] as { annotations: Record<string, string> }).annotations[REQUEST_ANNOTATIONS.rollback]).toBe('p99 doubled');
    expect(object['status']).toBeUndefined();
  });

  it('does not rewrite a request that is still pending', async () => {
    const first = await request(cluster.kube, plan(), 'rollback', 'p99 doubled');
    expect(first.value).toBe('p99 doubled');
  });

  it('answers PlanNotFound for a plan that does not exist', async () => {
    await expect(setPaused(cluster.kube, { namespace: cluster.namespace, name: 'nope' }, true)).rejects.toBeInstanceOf(PlanNotFound);
    await expect(requestRollback(cluster.kube, { namespace: cluster.namespace, name: 'nope' }, 'x')).rejects.toBeInstanceOf(PlanNotFound);
  });
});
