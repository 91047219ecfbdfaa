// What `kubectl apply -k manifests/` and `helm install trafficshift charts/trafficshift` put in a
// cluster: the CRD exactly as generated, RBAC that grants the controller exactly what its code
// calls (NEEDS below is the one list of it), and a Deployment whose flags the real CLI accepts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as yaml from 'js-yaml';
import { controllerCommand } from '../../src/cli/commands/controller';

const ROOT = path.resolve(__dirname, '../..');
const CRD_FILE = 'manifests/crd.yaml';
const CHART = 'charts/trafficshift';
const CHART_CRD_FILE = `${CHART}/crds/migrationplans.trafficshift.io.yaml`;
const CHART_RULES_FILE = `${CHART}/files/controller-rules.yaml`;
const DEFAULT_LEASE_NAME = 'trafficshift-controller';
/** Helm reads no file outside the chart, so the chart ships copies of these (`make manifests`). */
const CHART_COPIES: ReadonlyArray<readonly [string, string]> = [
  ['monitoring/rules.yaml', `${CHART}/files/alert-rules.yaml`],
  ['monitoring/grafana-dashboard.json', `${CHART}/files/grafana-dashboard.json`],
];

/**
 * Every permission the controller's service account needs, with the call site that needs it.
 * `evidence` must appear in `file`: when the call moves or goes, the grant is re-examined. When
 * the controller calls something new, the scan below fails until a row is added here, to
 * manifests/rbac.yaml and to charts/trafficshift/files/controller-rules.yaml.
 */
interface Need {
  group: string;
  resource: string;
  verb: string;
  file: string;
  evidence: string;
}

const TARGETS: Array<{ group: string; resource: string; file: string }> = [
  { group: 'networking.k8s.io', resource: 'ingresses', file: 'src/providers/nginx.ts' },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', file: 'src/providers/gatewayApi.ts' },
  { group: 'networking.istio.io', resource: 'virtualservices', file: 'src/providers/istio.ts' },
  { group: 'split.smi-spec.io', resource: 'trafficsplits', file: 'src/providers/smi.ts' },
  { group: '', resource: 'services', file: 'src/providers/service.ts' },
];

const NEEDS: readonly Need[] = [
  // Plans: a fresh read before each reconcile, the controller's informer (the one watch of plans;
  // the alerts route and /metrics read its cache),
  // the finalizer (merge patch on, JSON patch off) and the rollback annotation an alert sets.
  { group: 'trafficshift.io', resource: 'migrationplans', verb: 'get', file: 'src/controller/reconcile.ts', evidence: '(await objects.get(ref))' },
  { group: 'trafficshift.io', resource: 'migrationplans', verb: 'list', file: 'src/cli/commands/controller.ts', evidence: 'await kube.list(plansResource(namespace))' },
  { group: 'trafficshift.io', resource: 'migrationplans', verb: 'watch', file: 'src/controller/controller.ts', evidence: 'kubeSource(this.kube, plansResource(ns))' },
  { group: 'trafficshift.io', resource: 'migrationplans', verb: 'patch', file: 'src/controller/reconcile.ts', evidence: 'objects.mergePatch(ref' },
  { group: 'trafficshift.io', resource: 'migrationplans', verb: 'patch', file: 'src/controller/reconcile.ts', evidence: 'objects.jsonPatch(ref' },
  { group: 'trafficshift.io', resource: 'migrationplans', verb: 'patch', file: 'src/steering/requests.ts', evidence: 'kube.mergePatch(planResource(plan)' },
  // Status: written whole (PUT) with resourceVersion as the lock.
  { group: 'trafficshift.io', resource: 'migrationplans/status', verb: 'update', file: 'src/controller/reconcile.ts', evidence: "objects.replace(ref, { ...raw, status: decision.status }, { subresource: 'status' })" },
  // Targets: read, watched (a hand edit wakes the plan), patched with weights.
  ...TARGETS.flatMap((t): Need[] => [
    { group: t.group, resource: t.resource, verb: 'get', file: t.file, evidence: `plural: '${t.resource}'` },
    { group: t.group, resource: t.resource, verb: 'get', file: 'src/providers/types.ts', evidence: 'await kube.get(ref)' },
    { group: t.group, resource: t.resource, verb: 'list', file: 'src/controller/controller.ts', evidence: 'this.watchTargets(' },
    { group: t.group, resource: t.resource, verb: 'watch', file: 'src/controller/controller.ts', evidence: 'this.watchTargets(' },
    { group: t.group, resource: t.resource, verb: 'patch', file: 'src/providers/shell.ts', evidence: 'this.kube.mergePatch(h.ref' },
    { group: t.group, resource: t.resource, verb: 'patch', file: 'src/providers/shell.ts', evidence: 'this.kube.jsonPatch(h.ref' },
  ]),
  // The readiness gate: a backend Service (ExternalName or not), its EndpointSlices and, for the
  // service provider, the Pods a selector picks; watched so a backend that becomes ready wakes its plans.
  { group: '', resource: 'services', verb: 'get', file: 'src/controller/readiness.ts', evidence: 'await kube.get({ ...SERVICES' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verb: 'list', file: 'src/controller/readiness.ts', evidence: 'await kube.list({ ...ENDPOINT_SLICES' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verb: 'watch', file: 'src/controller/controller.ts', evidence: 'kubeSource(this.kube, this.namespaced(ENDPOINT_SLICES)' },
  { group: '', resource: 'pods', verb: 'list', file: 'src/controller/readiness.ts', evidence: 'await kube.list({ ...PODS' },
  { group: '', resource: 'pods', verb: 'watch', file: 'src/controller/controller.ts', evidence: 'kubeSource(this.kube, this.namespaced(PODS))' },
  // Credentials a plan names, by name, in the plan's namespace (used only when labelled).
  { group: '', resource: 'secrets', verb: 'get', file: 'src/controller/credentials.ts', evidence: "kube.get({ group: '', version: 'v1', plural: 'secrets'" },
  // Events on plans; a repeat bumps the count.
  { group: '', resource: 'events', verb: 'create', file: 'src/controller/events.ts', evidence: 'await this.kube.create(' },
  { group: '', resource: 'events', verb: 'patch', file: 'src/controller/events.ts', evidence: 'await this.kube.mergePatch({ ...EVENTS' },
];

/** Leader election, granted by a Role in the controller's own namespace. */
const LEASE_NEEDS: readonly Need[] = [
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'get', file: 'src/controller/controller.ts', evidence: 'return toStored(await kube.get(ref))' },
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'create', file: 'src/controller/controller.ts', evidence: "return toStored(await kube.create(ref, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease'" },
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', file: 'src/controller/controller.ts', evidence: "return toStored(await kube.replace(ref, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease'" },
];

/** The REST API's delegated authentication and authorization, granted by a ClusterRole of its
 * own (both resources are cluster-scoped, so a namespaced Role could not grant them). */
const AUTH_NEEDS: readonly Need[] = [
  { group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create', file: 'src/api/auth.ts', evidence: "plural: 'tokenreviews'" },
  { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verb: 'create', file: 'src/api/auth.ts', evidence: "plural: 'subjectaccessreviews'" },
];
const CHART_AUTH_RULES_FILE = `${CHART}/files/auth-rules.yaml`;

/** Code that runs in the controller process. localkube, the demo and the bench never do; the
 * other CLI commands run with the user's own credentials. */
const CONTROLLER_CODE = ['src/api', 'src/checks', 'src/controller', 'src/engine', 'src/kube', 'src/plan', 'src/providers', 'src/steering', 'src/cli/commands/controller.ts'];

/** Kube's methods and the RBAC verb each one needs (src/kube/client.ts names them). */
const METHOD_VERBS: Record<string, string> = { get: 'get', list: 'list', create: 'create', replace: 'update', delete: 'delete', mergePatch: 'patch', jsonPatch: 'patch' };

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: unknown };
interface PolicyRule { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const key = (group: string, resource: string, verb: string): string => `${group || 'core'}/${resource}:${verb}`;
const needKeys = (needs: readonly Need[]): string[] => [...new Set(needs.map((n) => key(n.group, n.resource, n.verb)))].sort();

function ruleKeys(rules: readonly PolicyRule[]): string[] {
  const keys = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) keys.add(key(group, resource, verb));
  }
  return [...keys].sort();
}

function expectNoWildcards(rules: readonly PolicyRule[]): void {
  for (const rule of rules) {
    expect(rule.nonResourceURLs).toBeUndefined();
    for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs, ...(rule.resourceNames ?? [])]) {
      expect(value).not.toContain('*');
    }
  }
}

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (entry.endsWith('.ts')) return [entry];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(entry, f));
}

/** The controller's ClusterRole, or (with `auth`) the one for TokenReview and SubjectAccessReview. */
function clusterObject(objects: readonly K8sObject[], kind: 'ClusterRole' | 'ClusterRoleBinding', auth: boolean): K8sObject {
  return one(objects.filter((o) => o.metadata.name.endsWith('-auth-delegator') === auth), kind);
}

function one(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`)).toHaveLength(1);
  return found[0] as K8sObject;
}

function have(binary: string, args: string[]): boolean {
  return spawnSync(binary, args, { encoding: 'utf8' }).status === 0;
}

const kubectlFound = have('kubectl', ['version', '--client']);
const helmFound = have('helm', ['version']);
if (!kubectlFound) process.stderr.write('\n*** kubectl is not on PATH: SKIPPING the `kubectl kustomize manifests/` tests in test/manifests/manifests.test.ts ***\n\n');
if (!helmFound) process.stderr.write('\n*** helm is not on PATH: SKIPPING the `helm template charts/trafficshift` tests in test/manifests/manifests.test.ts (the chart files are still checked) ***\n\n');
const withKubectl = kubectlFound ? describe : describe.skip;
const withHelm = helmFound ? describe : describe.skip;

function render(command: string, args: string[]): K8sObject[] {
  const text = execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return yaml.loadAll(text).filter((d): d is K8sObject => d !== null && typeof d === 'object');
}

/** Parses a container's args with the real `trafficshift controller` command: an unknown or
 * misspelt flag in a manifest fails here instead of crash-looping in a cluster. */
function controllerFlags(args: readonly string[]): Record<string, unknown> {
  expect(args[0]).toBe('controller');
  const ctx = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), setExitCode: () => undefined };
  const command = controllerCommand(ctx).exitOverride();
  const { operands, unknown } = command.parseOptions(args.slice(1));
  expect({ operands, unknown }).toEqual({ operands: [], unknown: [] });
  return command.opts();
}

interface Probe { httpGet: { path: string; port: string | number }; periodSeconds?: number; failureThreshold?: number; timeoutSeconds?: number; initialDelaySeconds?: number }
interface Container {
  name: string;
  image: string;
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports: Array<{ name?: string; containerPort: number }>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
}
interface PodSpec {
  serviceAccountName: string;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
  affinity?: Record<string, unknown>;
  priorityClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Array<Record<string, unknown>>;
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
}
interface PdbSpec { maxUnavailable?: number | string; minAvailable?: number | string; selector: { matchLabels: Record<string, string> } }

const deploymentSpec = (objects: readonly K8sObject[]): DeploymentSpec => one(objects, 'Deployment')['spec'] as DeploymentSpec;

/** The checks both install paths must pass: same objects, same grants, same controller. */
function checkInstall(objects: readonly K8sObject[]): void {
  const deployment = one(objects, 'Deployment');
  const namespace = deployment.metadata.namespace as string;
  const spec = deployment['spec'] as DeploymentSpec;
  const pod = spec.template.spec;
  expect(pod.containers).toHaveLength(1);
  const container = pod.containers[0] as Container;

  // Two replicas, one writer.
  expect(spec.replicas).toBe(2);
  const flags = controllerFlags(container.args);
  expect(flags['leaderElect']).toBe(true);
  expect(flags['port']).toBe(8080);
  const leaseName = (flags['leaseName'] as string | undefined) ?? DEFAULT_LEASE_NAME;

  const fieldRef = (name: string): string | undefined => container.env.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
  expect(fieldRef('POD_NAMESPACE')).toBe('metadata.namespace');
  expect(fieldRef('POD_NAME')).toBe('metadata.name');

  const portOf = (port: string | number): number | undefined => (typeof port === 'number' ? port : container.ports.find((p) => p.name === port)?.containerPort);
  expect([container.livenessProbe.httpGet.path, portOf(container.livenessProbe.httpGet.port)]).toEqual(['/healthz', 8080]);
  expect([container.readinessProbe.httpGet.path, portOf(container.readinessProbe.httpGet.port)]).toEqual(['/readyz', 8080]);
  expect(container.resources.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
  expect(container.resources.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
  // A heap limit below the memory limit: V8 would otherwise size its heap from the node's memory
  // and grow into an OOM kill.
  const heap = /--max-old-space-size=(\d+)/.exec(container.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '');
  const limitMiB = Number(/^(\d+)Mi$/.exec(container.resources.limits?.['memory'] ?? '')?.[1]);
  expect(Number(heap?.[1])).toBeGreaterThan(0);
  expect(Number(heap?.[1])).toBeLessThanOrEqual(limitMiB * 0.75);

  expect(pod.securityContext?.runAsNonRoot ?? container.securityContext.runAsNonRoot).toBe(true);
  expect(container.securityContext).toEqual(expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }));
  expect(container.securityContext.capabilities?.drop).toEqual(['ALL']);
  expect(container.securityContext.capabilities?.add).toBeUndefined();

  // The Service reaches the pods on 8080.
  const service = one(objects, 'Service');
  expect(service.metadata.namespace).toBe(namespace);
  const serviceSpec = service['spec'] as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> };
  expect(spec.template.metadata.labels).toEqual(expect.objectContaining(serviceSpec.selector));
  expect(spec.selector.matchLabels).toEqual(expect.objectContaining(serviceSpec.selector));
  expect(serviceSpec.ports.map((p) => [p.port, portOf(p.targetPort)])).toEqual([[8080, 8080]]);

  // The service account the pods run as holds exactly NEEDS cluster-wide...
  const account = one(objects, 'ServiceAccount');
  expect([account.metadata.name, account.metadata.namespace]).toEqual([pod.serviceAccountName, namespace]);
  const subject = { kind: 'ServiceAccount', name: account.metadata.name, namespace };
  for (const [auth, needs] of [[false, NEEDS], [true, AUTH_NEEDS]] as const) {
    const clusterRole = clusterObject(objects, 'ClusterRole', auth);
    const clusterRules = clusterRole['rules'] as PolicyRule[];
    expectNoWildcards(clusterRules);
    expect(ruleKeys(clusterRules)).toEqual(needKeys(needs));
    const clusterBinding = clusterObject(objects, 'ClusterRoleBinding', auth);
    expect(clusterBinding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole.metadata.name });
    expect(clusterBinding['subjects']).toEqual([subject]);
  }

  // ...and the Lease in its own namespace: create, and get/update on its one Lease only.
  const role = one(objects, 'Role');
  expect(role.metadata.namespace).toBe(namespace);
  const roleRules = role['rules'] as PolicyRule[];
  expectNoWildcards(roleRules);
  expect(ruleKeys(roleRules)).toEqual(needKeys(LEASE_NEEDS));
  for (const rule of roleRules) {
    if (rule.verbs.some((v) => v !== 'create')) expect(rule.resourceNames).toEqual([leaseName]);
  }
  const roleBinding = one(objects, 'RoleBinding');
  expect(roleBinding.metadata.namespace).toBe(namespace);
  expect(roleBinding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
  expect(roleBinding['subjects']).toEqual([subject]);

  // A drain evicts one replica at a time: the other stays to hold (or take) the Lease.
  const pdb = one(objects, 'PodDisruptionBudget');
  expect(pdb.apiVersion).toBe('policy/v1');
  expect(pdb.metadata.namespace).toBe(namespace);
  const pdbSpec = pdb['spec'] as PdbSpec;
  expect([pdbSpec.maxUnavailable, pdbSpec.minAvailable]).toEqual([1, undefined]);
  expect(pdbSpec.selector.matchLabels).toEqual(spec.selector.matchLabels);
}

describe('the permissions table', () => {
  it.each([...NEEDS, ...LEASE_NEEDS, ...AUTH_NEEDS].map((n) => [key(n.group, n.resource, n.verb), n.file, n] as const))('%s is still needed by %s', (_key, file, need) => {
    const found = read(file).includes(need.evidence);
    if (!found) throw new Error(`${file} no longer contains ${JSON.stringify(need.evidence)}: find where the controller now needs ${need.verb} on ${need.resource}, or drop the grant from NEEDS, manifests/rbac.yaml and ${CHART_RULES_FILE}`);
  });

  it('is the table in the README, row for row', () => {
    const readme = read('README.md');
    const start = readme.indexOf('| resources | verbs | why |');
    expect(start).toBeGreaterThan(-1);
    const rows = readme.slice(start).split('\n').slice(2).filter((line) => line.startsWith('|'));
    const documented = new Set<string>();
    for (const row of rows) {
      const [resources = '', verbs = ''] = row.split('|').slice(1, 3);
      const names = [...resources.matchAll(/`([a-z/]+)`/g)].map((m) => m[1] as string);
      const granted = [...verbs.matchAll(/\b(get|list|watch|create|update|patch|delete)\b/g)].map((m) => m[1] as string);
      for (const name of names) for (const verb of granted) documented.add(`${name}:${verb}`);
    }
    const needed = new Set([...NEEDS, ...LEASE_NEEDS, ...AUTH_NEEDS].map((n) => `${n.resource}:${n.verb}`));
    expect([...documented].sort()).toEqual([...needed].sort());
  });

  it('names every resource and Kube method the controller code uses', () => {
    const granted = new Set([...NEEDS, ...LEASE_NEEDS, ...AUTH_NEEDS].map((n) => n.resource));
    const grantedVerbs = new Set([...NEEDS, ...LEASE_NEEDS, ...AUTH_NEEDS].map((n) => n.verb));
    const missing: string[] = [];
    for (const file of CONTROLLER_CODE.flatMap(sourceFiles)) {
      const text = read(file);
      for (const m of text.matchAll(/plural: '([a-z]+)'/g)) {
        if (!granted.has(m[1] as string)) missing.push(`${file} names resource ${m[1]}`);
      }
      for (const m of text.matchAll(/\bkube\.(\w+)\(/g)) {
        const verb = METHOD_VERBS[m[1] as string];
        if (verb !== undefined && !grantedVerbs.has(verb)) missing.push(`${file} calls kube.${m[1]} (verb ${verb})`);
      }
      if (text.includes("subresource: 'status'") && !granted.has('migrationplans/status')) missing.push(`${file} writes a status subresource`);
    }
    if (missing.length > 0) {
      throw new Error(`the controller needs permissions no manifest grants: ${missing.join('; ')}. Add each to NEEDS in test/manifests/manifests.test.ts, to manifests/rbac.yaml and to ${CHART_RULES_FILE}`);
    }
  });
});

withKubectl('kubectl kustomize manifests/', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render('kubectl', ['kustomize', 'manifests/']);
  });

  it('renders exactly the namespace, the CRD, RBAC, the Deployment, its PodDisruptionBudget and its Service', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'],
    );
    const namespace = one(objects, 'Namespace').metadata.name;
    expect(namespace).toBe('trafficshift-system');
    for (const o of objects.filter((x) => !['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(x.kind))) {
      expect([o.kind, o.metadata.namespace]).toEqual([o.kind, namespace]);
    }
  });

  it(`installs ${CRD_FILE} unchanged`, () => {
    expect(one(objects, 'CustomResourceDefinition')).toEqual(yaml.load(read(CRD_FILE)));
  });

  it('runs `controller --leader-elect` as a service account holding exactly what the code needs', () => {
    checkInstall(objects);
  });

  it('grants the same cluster rules as the chart', () => {
    expect(clusterObject(objects, 'ClusterRole', false)['rules']).toEqual(yaml.load(read(CHART_RULES_FILE)));
    expect(clusterObject(objects, 'ClusterRole', true)['rules']).toEqual(yaml.load(read(CHART_AUTH_RULES_FILE)));
  });

  it('pins the image to the package version', () => {
    const image = ((one(objects, 'Deployment')['spec'] as DeploymentSpec).template.spec.containers[0] as unknown as { image: string }).image;
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    expect(image).toBe(`ghcr.io/trafficshift/trafficshift:${version}`);
  });
});

describe('charts/trafficshift', () => {
  it(`ships ${CRD_FILE} byte for byte in crds/`, () => {
    expect(readdirSync(path.join(ROOT, CHART, 'crds'))).toEqual([path.basename(CHART_CRD_FILE)]);
    if (read(CHART_CRD_FILE) !== read(CRD_FILE)) {
      throw new Error(`${CHART_CRD_FILE} differs from ${CRD_FILE} (after \`make manifests\`?): run \`cp ${CRD_FILE} ${CHART_CRD_FILE}\``);
    }
  });

  it('is version 0.1.0 of a v2 chart whose appVersion is the package version', () => {
    const chart = yaml.load(read(`${CHART}/Chart.yaml`)) as Record<string, unknown>;
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    expect(chart).toEqual(expect.objectContaining({ apiVersion: 'v2', name: 'trafficshift', version: '0.1.0', appVersion: version }));
  });

  it.each(CHART_COPIES)('ships %s byte for byte as %s', (source, copy) => {
    if (read(copy) !== read(source)) {
      throw new Error(`${copy} differs from ${source}: run \`make manifests\` (it copies ${source} to ${copy}; Helm reads no file outside the chart)`);
    }
  });

  it('copies the monitoring files in `make manifests`', () => {
    const lines = read('Makefile').split('\n');
    const start = lines.findIndex((line) => line.startsWith('manifests:'));
    expect(start).toBeGreaterThan(-1);
    const recipe: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (!line.startsWith('\t')) break;
      recipe.push(line);
    }
    for (const [source, copy] of CHART_COPIES) expect(recipe).toContain(`\tcp ${source} ${copy}`);
  });

  it('renders alert-rules.yaml whole as spec.groups: the file holds groups and nothing else', () => {
    // templates/prometheusrule.yaml indents the file's raw text under spec:, so a second top-level
    // key would land in the PrometheusRule's spec.
    expect(Object.keys(yaml.load(read(`${CHART}/files/alert-rules.yaml`)) as object)).toEqual(['groups']);
  });

  it('never runs a file through tpl: the alert annotations and dashboard legends are not Helm templates', () => {
    for (const file of readdirSync(path.join(ROOT, CHART, 'templates'))) {
      const code = read(`${CHART}/templates/${file}`).replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');
      expect([file, /\btpl\b/.test(code)]).toEqual([file, false]);
    }
  });

  it('has the documented values', () => {
    const values = yaml.load(read(`${CHART}/values.yaml`)) as Record<string, unknown>;
    expect(values).toEqual(expect.objectContaining({
      image: expect.objectContaining({ repository: 'ghcr.io/trafficshift/trafficshift', tag: '', pullPolicy: 'IfNotPresent' }),
      replicas: 2,
      leaderElect: true,
      watchNamespace: '',
      logFormat: 'json',
      allowedHosts: [],
      resources: expect.objectContaining({ requests: expect.any(Object) }),
      probes: {
        liveness: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1, initialDelaySeconds: 0 },
        readiness: { periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 1, initialDelaySeconds: 0 },
      },
      priorityClassName: '',
      // Two replicas, one may go: the other keeps (or takes) the Lease during a drain.
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
      nodeSelector: {},
      tolerations: [],
      affinity: {},
      podAnnotations: {},
      podLabels: {},
      // Off by default: they need the Prometheus Operator's CRDs.
      metrics: {
        serviceMonitor: { enabled: false, interval: '15s', labels: {} },
        prometheusRule: { enabled: false, labels: {} },
        grafanaDashboard: { enabled: false, labels: { grafana_dashboard: '1' } },
      },
    }));
  });

  it("defaults the probes, resources and PDB to manifests/'s", () => {
    const values = yaml.load(read(`${CHART}/values.yaml`)) as {
      probes: { liveness: object; readiness: object };
      resources: object;
      podDisruptionBudget: { maxUnavailable: number };
    };
    const deployment = yaml.load(read('manifests/deployment.yaml')) as { spec: DeploymentSpec };
    const container = deployment.spec.template.spec.containers[0] as Container;
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' }, ...values.probes.liveness });
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'http' }, ...values.probes.readiness });
    expect(container.resources).toEqual(values.resources);
    const pdb = yaml.load(read('manifests/pdb.yaml')) as { spec: PdbSpec };
    expect(pdb.spec.maxUnavailable).toBe(values.podDisruptionBudget.maxUnavailable);
  });

  it('grants exactly what the code needs, with no wildcards', () => {
    const rules = yaml.load(read(CHART_RULES_FILE)) as PolicyRule[];
    expectNoWildcards(rules);
    expect(ruleKeys(rules)).toEqual(needKeys(NEEDS));
    const authRules = yaml.load(read(CHART_AUTH_RULES_FILE)) as PolicyRule[];
    expectNoWildcards(authRules);
    expect(ruleKeys(authRules)).toEqual(needKeys(AUTH_NEEDS));
  });
});

const helmTemplate = (...extra: string[]): K8sObject[] => render('helm', ['template', 'trafficshift', CHART, '--namespace', 'trafficshift-system', ...extra]);

withHelm('helm template charts/trafficshift', () => {
  it('renders the same install as the kustomization', () => {
    const objects = helmTemplate();
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    checkInstall(objects);
  });

  (kubectlFound ? it : it.skip)('renders the pod and the PDB of the kustomization, labels aside', () => {
    const chart = helmTemplate();
    const kustomize = render('kubectl', ['kustomize', 'manifests/']);
    // The chart's selector adds app.kubernetes.io/instance; everything else on the pod is the same.
    const withoutAffinity = ({ affinity: _affinity, ...pod }: PodSpec): Omit<PodSpec, 'affinity'> => pod;
    const [chartPod, kustomizePod] = [deploymentSpec(chart).template.spec, deploymentSpec(kustomize).template.spec];
    expect(withoutAffinity(chartPod)).toEqual(withoutAffinity(kustomizePod));
    for (const objects of [chart, kustomize]) {
      const spec = deploymentSpec(objects);
      const term = (spec.template.spec.affinity as { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: Array<{ weight: number; podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } } }> } })
        .podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
      expect(term).toEqual([{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: spec.selector.matchLabels } } }]);
    }
    const pdbOf = (objects: readonly K8sObject[]): Omit<PdbSpec, 'selector'> => {
      const { selector: _selector, ...rest } = one(objects, 'PodDisruptionBudget')['spec'] as PdbSpec;
      return rest;
    };
    expect(pdbOf(chart)).toEqual(pdbOf(kustomize));
  });

  it('renders no ServiceMonitor, PrometheusRule or dashboard unless asked', () => {
    const kinds = helmTemplate().map((o) => o.kind);
    expect(kinds.filter((k) => ['ServiceMonitor', 'PrometheusRule', 'ConfigMap'].includes(k))).toEqual([]);
  });

  describe('with metrics.serviceMonitor, metrics.prometheusRule and metrics.grafanaDashboard on', () => {
    let objects: K8sObject[];
    beforeAll(() => {
      objects = helmTemplate(
        '--set', 'metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.grafanaDashboard.enabled=true',
        '--set', 'metrics.serviceMonitor.labels.release=prom,metrics.prometheusRule.labels.release=prom',
      );
    });
    const monitoring = (file: string): K8sObject => yaml.load(read(`monitoring/${file}`)) as K8sObject;

    it('renders a ServiceMonitor with the spec of monitoring/servicemonitor.yaml, selecting the chart\'s Service', () => {
      const sm = one(objects, 'ServiceMonitor');
      const expected = monitoring('servicemonitor.yaml');
      expect([sm.apiVersion, sm.metadata.namespace]).toEqual([expected.apiVersion, 'trafficshift-system']);
      expect(sm.metadata.labels).toEqual(expect.objectContaining({ release: 'prom' }));
      type SmSpec = { selector: { matchLabels: Record<string, string> }; [key: string]: unknown };
      const { selector, ...spec } = sm['spec'] as SmSpec;
      const { selector: expectedSelector, ...expectedSpec } = expected['spec'] as SmSpec;
      expect(spec).toEqual(expectedSpec);
      const service = one(objects, 'Service');
      expect(selector.matchLabels).toEqual((service['spec'] as { selector: Record<string, string> }).selector);
      expect(service.metadata.labels).toEqual(expect.objectContaining(selector.matchLabels));
      expect(selector.matchLabels).toEqual(expect.objectContaining(expectedSelector.matchLabels));
      // job="trafficshift", which TrafficshiftControllerDown and the dashboard select on.
      expect(service.metadata.labels?.[spec['jobLabel'] as string]).toBe('trafficshift');
    });

    it('renders a PrometheusRule whose spec.groups are those of monitoring/rules.yaml', () => {
      const rule = one(objects, 'PrometheusRule');
      expect([rule.apiVersion, rule.metadata.namespace]).toEqual(['monitoring.coreos.com/v1', 'trafficshift-system']);
      expect(rule.metadata.labels).toEqual(expect.objectContaining({ release: 'prom' }));
      expect(rule['spec']).toEqual({ groups: (yaml.load(read('monitoring/rules.yaml')) as { groups: unknown }).groups });
      // Prometheus, not Helm, fills in the annotations' placeholders.
      expect(JSON.stringify(rule['spec'])).toContain('{{ $labels.namespace }}/{{ $labels.plan }}');
    });

    it('renders the dashboard ConfigMap of monitoring/grafana-dashboard-configmap.yaml', () => {
      const cm = one(objects, 'ConfigMap');
      const expected = monitoring('grafana-dashboard-configmap.yaml');
      expect(cm.metadata.labels).toEqual(expect.objectContaining({ grafana_dashboard: '1' }));
      expect(Object.keys(cm['data'] as object)).toEqual(Object.keys(expected['data'] as object));
      expect((cm['data'] as Record<string, string>)['trafficshift.json']).toBe(read('monitoring/grafana-dashboard.json'));
    });
  });

  it('sets priorityClassName, nodeSelector, tolerations, probes, resources, pod labels and annotations on the pod', () => {
    const objects = helmTemplate(
      '--set', 'priorityClassName=system-cluster-critical',
      '--set', 'nodeSelector.pool=controllers',
      '--set', 'tolerations[0].key=dedicated,tolerations[0].operator=Exists,tolerations[0].effect=NoSchedule',
      '--set', 'probes.liveness.periodSeconds=20,probes.readiness.initialDelaySeconds=3',
      '--set', 'resources.limits.cpu=500m',
      '--set', 'podLabels.team=platform,podAnnotations.owner=platform',
      '--set', 'image.tag=9.9.9',
    );
    const spec = deploymentSpec(objects);
    const pod = spec.template.spec;
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.nodeSelector).toEqual({ pool: 'controllers' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }]);
    const container = pod.containers[0] as Container;
    expect(container.image).toBe('ghcr.io/trafficshift/trafficshift:9.9.9');
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 20, failureThreshold: 3, timeoutSeconds: 1, initialDelaySeconds: 0 });
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 1, initialDelaySeconds: 3 });
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(spec.template.metadata.labels).toEqual({ ...spec.selector.matchLabels, team: 'platform' });
    expect(spec.template.metadata.annotations).toEqual({ owner: 'platform' });
    // Defaults: none of these on the pod.
    const plain = deploymentSpec(helmTemplate()).template;
    expect([plain.spec.priorityClassName, plain.spec.nodeSelector, plain.spec.tolerations, plain.metadata.annotations]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('replaces the default anti-affinity with values.affinity', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trafficshift-values-'));
    try {
      const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['controllers'] }] }] } } };
      writeFileSync(path.join(dir, 'values.yaml'), yaml.dump({ affinity }));
      expect(deploymentSpec(helmTemplate('-f', path.join(dir, 'values.yaml'))).template.spec.affinity).toEqual(affinity);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders no PodDisruptionBudget for one replica, or when turned off', () => {
    // On a single replica a PDB either blocks every node drain or protects nothing.
    for (const set of ['replicas=1', 'podDisruptionBudget.enabled=false']) {
      const kinds = helmTemplate('--set', set).map((o) => o.kind);
      expect([set, kinds.includes('Deployment'), kinds.includes('PodDisruptionBudget')]).toEqual([set, true, false]);
    }
    const pdb = one(helmTemplate('--set', 'replicas=3,podDisruptionBudget.maxUnavailable=2'), 'PodDisruptionBudget');
    expect((pdb['spec'] as PdbSpec).maxUnavailable).toBe(2);
  });

  it('narrows RBAC to a Role in watchNamespace and passes --namespace', () => {
    const objects = render('helm', ['template', 'trafficshift', CHART, '--namespace', 'trafficshift-system', '--set', 'watchNamespace=shop']);
    // Only TokenReview and SubjectAccessReview stay cluster-wide: they are cluster-scoped.
    expect(objects.filter((o) => o.kind.startsWith('Cluster')).map((o) => o.metadata.name)).toEqual(['trafficshift-auth-delegator', 'trafficshift-auth-delegator']);
    const roles = objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'shop');
    expect(roles.map((r) => ruleKeys(r['rules'] as PolicyRule[]))).toEqual([needKeys(NEEDS)]);
    const container = (one(objects, 'Deployment')['spec'] as DeploymentSpec).template.spec.containers[0] as Container;
    expect(controllerFlags(container.args)['namespace']).toBe('shop');
  });

  it('passes allowedHosts as --allowed-hosts, and no flag when it is empty', () => {
    const argsWith = (extra: string[]): string[] => {
      const objects = render('helm', ['template', 'trafficshift', CHART, '--namespace', 'trafficshift-system', ...extra]);
      return ((one(objects, 'Deployment')['spec'] as DeploymentSpec).template.spec.containers[0] as Container).args;
    };
    expect(controllerFlags(argsWith([]))['allowedHosts']).toBeUndefined();
    const hosts = controllerFlags(argsWith(['--set', 'allowedHosts={prometheus.monitoring.svc,10.0.0.0/8}']))['allowedHosts'] as { allows(host: string): boolean };
    expect([hosts.allows('prometheus.monitoring.svc'), hosts.allows('10.1.2.3'), hosts.allows('evil.example')]).toEqual([true, true, false]);
  });

  it('refuses two replicas without leader election', () => {
    const result = spawnSync('helm', ['template', 'trafficshift', CHART, '--set', 'leaderElect=false'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
  });
});
