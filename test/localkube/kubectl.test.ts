// The kubectl binary against the server: the commands SREs use on a MigrationPlan.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTied } from '../../src/demo/childProcess';
import { Harness, mergePatch, MP, startHarness } from './support';

const kubectlFound = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectlFound) {
  // Loud on purpose: these tests are the proof that plain kubectl works against localkube.
  process.stderr.write('\n*** kubectl is not on PATH: SKIPPING test/localkube/kubectl.test.ts ***\n\n');
}
const describeWithKubectl = kubectlFound ? describe : describe.skip;

const PLAN_YAML = `apiVersion: trafficshift.io/v1alpha1
kind: MigrationPlan
metadata:
  name: checkout
  namespace: shop
spec:
  strategy: Canary
  targets:
    - provider: nginx
      nginx: {ingress: checkout, canaryIngress: checkout-canary}
  steps:
    - {weight: 10, pause: 1m}
    - {weight: 100}
`;

const INVALID_YAML = `apiVersion: trafficshift.io/v1alpha1
kind: MigrationPlan
metadata: {name: broken, namespace: shop}
spec:
  strategy: Sideways
  targets: [{provider: nginx, nginx: {ingress: a, canaryIngress: b}}]
  steps: [{weight: "ten"}]
`;

describeWithKubectl('kubectl against localkube', () => {
  let h: Harness;
  let dir: string;

  const kubectl = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(dir, 'cache'), '-n', 'shop', ...args], { timeout: 20000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });

  const getPlan = async (): Promise<Record<string, any>> => (await h.custom.getNamespacedCustomObject({ ...MP, namespace: 'shop', name: 'checkout' })) as Record<string, any>;

  beforeAll(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'localkube-kubectl-'));
    writeFileSync(join(dir, 'plan.yaml'), PLAN_YAML);
    writeFileSync(join(dir, 'invalid.yaml'), INVALID_YAML);
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a plan from YAML, and applying it again is "unchanged"', async () => {
    const first = await kubectl('apply', '-f', join(dir, 'plan.yaml'));
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe('migrationplan.trafficshift.io/checkout created');
    const again = await kubectl('apply', '-f', join(dir, 'plan.yaml'));
    expect(again.stdout.trim()).toBe('migrationplan.trafficshift.io/checkout unchanged');
  });

  it('get mp prints the printer columns', async () => {
    await h.custom.patchNamespacedCustomObjectStatus({ ...MP, namespace: 'shop', name: 'checkout', body: { status: { phase: 'Progressing', canaryWeight: 10, currentStep: 0 } } }, mergePatch);
    const { stdout, code } = await kubectl('get', 'mp');
    expect(code).toBe(0);
    const [header, row] = stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toStrictEqual(['NAME', 'PHASE', 'WEIGHT', 'STEP', 'AGE']);
    expect(row?.split(/\s+/).slice(0, 4)).toStrictEqual(['checkout', 'Progressing', '10', '0']);
  });

  it('patch --type merge pauses the plan', async () => {
    const { stdout } = await kubectl('patch', 'mp', 'checkout', '--type', 'merge', '-p', '{"spec":{"paused":true}}');
    expect(stdout.trim()).toBe('migrationplan.trafficshift.io/checkout patched');
    expect((await getPlan()).spec.paused).toBe(true);
  });

  it('annotate sets a request annotation', async () => {
    const { stdout } = await kubectl('annotate', 'mp', 'checkout', 'trafficshift.io/promote=now');
    expect(stdout.trim()).toBe('migrationplan.trafficshift.io/checkout annotated');
    expect((await getPlan()).metadata.annotations['trafficshift.io/promote']).toBe('now');
  });

  it('wait --for=condition=Ready returns once the status says so', async () => {
    const waiting = kubectl('wait', '--for=condition=Ready', '--timeout=10s', 'mp/checkout');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.custom.patchNamespacedCustomObjectStatus(
      { ...MP, namespace: 'shop', name: 'checkout', body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: 'done', lastTransitionTime: '2026-11-27T10:00:00Z' }] } } },
      mergePatch,
    );
    const { code, stdout } = await waiting;
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('migrationplan.trafficshift.io/checkout condition met');
  });

  it("wait --for=jsonpath='{.status.phase}'=Succeeded", async () => {
    await h.custom.patchNamespacedCustomObjectStatus({ ...MP, namespace: 'shop', name: 'checkout', body: { status: { phase: 'Succeeded' } } }, mergePatch);
    const { code, stdout } = await kubectl('wait', "--for=jsonpath={.status.phase}=Succeeded", '--timeout=10s', 'mp/checkout');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('migrationplan.trafficshift.io/checkout condition met');
  });

  it('get -w prints a row for each change', async () => {
    const watch = spawnTied('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(dir, 'cache'), '-n', 'shop', 'get', 'mp', '-w'], { output: { stdout: 'pipe', stderr: 'ignore' } });
    let out = '';
    watch.child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const seen = async (text: string): Promise<void> => {
      // kubectl starts in well under a second; 20 s holds on a loaded 2-core machine.
      const deadline = Date.now() + 20_000;
      while (!out.includes(text)) {
        if (!watch.running || Date.now() > deadline) throw new Error(`kubectl get -w never printed ${text}; it printed:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      await seen('checkout');
      await h.custom.patchNamespacedCustomObjectStatus({ ...MP, namespace: 'shop', name: 'checkout', body: { status: { phase: 'RollingBack' } } }, mergePatch);
      await seen('RollingBack');
    } finally {
      await watch.stop();
    }
    expect(out.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'PHASE', 'WEIGHT', 'STEP', 'AGE']);
    expect(out).toMatch(/checkout\s+RollingBack/);
  });

  it('get -o yaml and describe show the object', async () => {
    const yaml = await kubectl('get', 'mp', 'checkout', '-o', 'yaml');
    expect(yaml.stdout).toContain('apiVersion: trafficshift.io/v1alpha1');
    expect(yaml.stdout).toContain('canaryIngress: checkout-canary');
    const described = await kubectl('describe', 'mp', 'checkout');
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^Name:\s+checkout$/m);
    expect(described.stdout).toMatch(/Paused:\s+true/);
  });

  it('apply --dry-run=server reports the 422 for an invalid plan and stores nothing', async () => {
    const { code, stderr } = await kubectl('apply', '--dry-run=server', '-f', join(dir, 'invalid.yaml'));
    expect(code).not.toBe(0);
    expect(stderr).toContain('The MigrationPlan "broken" is invalid');
    expect(stderr).toContain('spec.steps[0].weight: Invalid value: "string": spec.steps[0].weight in body must be of type integer: "string"');
    expect(stderr).toContain('spec.strategy: Unsupported value: "Sideways"');
    const list = (await h.custom.listNamespacedCustomObject({ ...MP, namespace: 'shop' })) as Record<string, any>;
    expect(list.items.map((i: any) => i.metadata.name)).toStrictEqual(['checkout']);
  });

  it('apply reports an unknown field as a strict decoding error', async () => {
    writeFileSync(join(dir, 'unknown.yaml'), PLAN_YAML.replace('name: checkout\n', 'name: unknown\n').replace('strategy: Canary', 'strategy: Canary\n  bogus: 1'));
    const { code, stderr } = await kubectl('apply', '-f', join(dir, 'unknown.yaml'));
    expect(code).not.toBe(0);
    expect(stderr).toContain('strict decoding error: unknown field "spec.bogus"');
  });

  it('delete removes the plan', async () => {
    const { stdout } = await kubectl('delete', 'mp', 'checkout');
    expect(stdout.trim()).toBe('migrationplan.trafficshift.io "checkout" deleted');
    const { stderr } = await kubectl('get', 'mp', 'checkout');
    expect(stderr.trim()).toBe('Error from server (NotFound): migrationplans.trafficshift.io "checkout" not found');
  });

  it('create namespace / configmap / secret (protobuf bodies) work', async () => {
    expect((await kubectl('create', 'namespace', 'team-a')).stdout.trim()).toBe('namespace/team-a created');
    expect((await kubectl('create', 'configmap', 'cfg', '--from-literal=a=1')).stdout.trim()).toBe('configmap/cfg created');
    expect((await kubectl('create', 'secret', 'generic', 'slack', '--from-literal=url=http://hook')).stdout.trim()).toBe('secret/slack created');
    const ns = await h.core.readNamespace({ name: 'team-a' });
    expect(ns.status?.phase).toBe('Active');
    const secret = await h.core.readNamespacedSecret({ namespace: 'shop', name: 'slack' });
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toStrictEqual({ url: Buffer.from('http://hook').toString('base64') });
  });

  it('apply of a Service twice strategic-merges its ports', async () => {
    const svc = (selector: string, second: string) => `apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  selector: {app: ${selector}}
  ports: [{port: 80, name: http}, {port: 443, name: ${second}}]
`;
    writeFileSync(join(dir, 'svc.yaml'), svc('monolith', 'https'));
    expect((await kubectl('apply', '-f', join(dir, 'svc.yaml'))).stdout.trim()).toBe('service/checkout created');
    writeFileSync(join(dir, 'svc.yaml'), svc('checkout-svc', 'tls'));
    expect((await kubectl('apply', '-f', join(dir, 'svc.yaml'))).stdout.trim()).toBe('service/checkout configured');
    const read = await h.core.readNamespacedService({ namespace: 'shop', name: 'checkout' });
    expect(read.spec?.selector).toStrictEqual({ app: 'checkout-svc' });
    expect(read.spec?.ports?.map((p) => `${p.port}/${p.name}`)).toStrictEqual(['80/http', '443/tls']);
    const table = await kubectl('get', 'svc');
    expect(table.stdout.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  });

  it('apply of a CRD serves its kind to the next kubectl call', async () => {
    writeFileSync(join(dir, 'crd.yaml'), `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
`);
    expect((await kubectl('apply', '-f', join(dir, 'crd.yaml'))).stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/gadgets.example.com created');
    writeFileSync(join(dir, 'gadget.yaml'), 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 3}\n');
    expect((await kubectl('apply', '-f', join(dir, 'gadget.yaml'))).stdout.trim()).toBe('gadget.example.com/g created');
    const { stdout } = await kubectl('get', 'gadgets');
    expect(stdout.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'AGE']);
  });
});
