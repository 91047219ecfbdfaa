// The monitoring/ folder: ServiceMonitor, alert rules (plain and as a PrometheusRule), Grafana
// dashboard (plain and as a ConfigMap). Every metric their PromQL names must be one the built
// controller really exports: read from its live /metrics after a plan rolled back, so the plan,
// check and recovery series exist. Debian's promtool checks and unit-tests the rules.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { findOnPath } from '../../src/demo/prometheus';
import { REPO_ROOT } from '../support/cluster';
import { useE2eRun } from '../support/e2e';
import { createPlan, waitForPhase, webhookAnalysis } from '../support/plans';

const DIR = path.join(REPO_ROOT, 'monitoring');
const read = (file: string): string => fs.readFileSync(path.join(DIR, file), 'utf8');
const load = (file: string): Record<string, unknown> => yaml.load(read(file)) as Record<string, unknown>;

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> }
interface RuleGroups { groups: Array<{ name: string; rules: Rule[] }> }
interface Target { expr?: string; datasource?: unknown }
interface Panel { title: string; type: string; datasource?: unknown; targets?: Target[]; panels?: Panel[] }
interface Variable { name: string; type: string; query?: string | { query: string }; definition?: string }
interface Dashboard { schemaVersion: number; panels: Panel[]; templating: { list: Variable[] } }

const rules = (): RuleGroups => load('rules.yaml') as unknown as RuleGroups;
const dashboard = (): Dashboard => JSON.parse(read('grafana-dashboard.json')) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

/** Where each PromQL expression of the rules and the dashboard comes from, and the expression. */
function expressions(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const group of rules().groups) for (const rule of group.rules) out.push({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr });
  const dash = dashboard();
  for (const panel of allPanels(dash.panels)) for (const t of panel.targets ?? []) if (t.expr) out.push({ where: `panel "${panel.title}"`, expr: t.expr });
  for (const v of dash.templating.list) {
    if (v.type !== 'query') continue;
    const query = typeof v.query === 'string' ? v.query : v.query?.query ?? '';
    // label_values(<series selector>, <label>): the selector is PromQL; the label is not.
    const selector = /^label_values\((.*),\s*[a-zA-Z_]\w*\s*\)$/.exec(query.trim())?.[1];
    if (selector === undefined) throw new Error(`variable ${v.name}: expected label_values(<selector>, <label>), got ${query}`);
    out.push({ where: `variable $${v.name}`, expr: selector });
  }
  return out;
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan', 'atan2']);

/** The metric names a PromQL expression reads: what is left after strings, label matchers,
 * ranges, groupings, offsets, function and aggregation names are taken out. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w:.$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = m[1] as string;
    if (!NOT_METRICS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** Metric names a /metrics text exposes: from # TYPE lines (with a histogram's and a summary's
 * series suffixes), and `withSamples`, those with at least one sample line. */
function exported(text: string): { declared: Set<string>; withSamples: Set<string> } {
  const declared = new Set<string>();
  const withSamples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      declared.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) declared.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) declared.add(name + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample) withSamples.add(sample[1] as string);
  }
  return { declared, withSamples };
}

describe('metric names in PromQL', () => {
  it('are what is left after functions, labels, ranges, groupings and offsets', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, check) (rate(trafficshift_check_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))'))
      .toStrictEqual(['trafficshift_check_duration_seconds_bucket']);
    expect(metricNames('sum(a_total offset 1h) - sum(b{le="60"}) or on (namespace, plan) (0 * c) > bool 2e3'))
      .toStrictEqual(['a_total', 'b', 'c']);
    expect(metricNames('sum(trafficshift_leader) == 0 or absent(trafficshift_leader)')).toStrictEqual(['trafficshift_leader']);
    expect(metricNames('up{job="trafficshift"} == 0')).toStrictEqual(['up']);
  });
});

describe('every metric the rules and the dashboard query is one the controller exports', () => {
  const run = useE2eRun('monitoring');

  it('read from the live /metrics of the built controller after a plan rolled back', async () => {
    const name = 'watched';
    const target = await run.target('nginx', `${name}-nginx`);
    // Healthy at weight 10, failing from 30 on: the critical check rolls the plan back.
    run.checks.valueFor = (req) => (req.plan?.name === name && (req.weight ?? 0) >= 30 ? 1 : 0);
    await createPlan(run.cluster, name, {
      targets: [target.target],
      steps: [{ weight: 10 }, { weight: 30 }, { weight: 100 }],
      analysis: webhookAnalysis(run.checkUrl),
      rollback: { automatic: true, rto: '30s', validation: { duration: '2s' } },
    });
    await waitForPhase(run.cluster, name, 'RolledBack');

    const text = await (await fetch(`${run.controller.url}/metrics`)).text();
    const { declared, withSamples } = exported(text);
    const used = expressions().flatMap(({ where, expr }) => metricNames(expr).map((metric) => ({ where, metric })));
    // `up` is Prometheus' own, per scrape target.
    const ours = used.filter((u) => u.metric !== 'up');
    expect(ours.length).toBeGreaterThan(10);
    const unknown = ours.filter((u) => !declared.has(u.metric)).map((u) => `${u.metric} (${u.where})`);
    expect(unknown).toStrictEqual([]);
    // And each has a series now, so the names are not merely declared: the rollback made the
    // plan, check and recovery series.
    const noSeries = [...new Set(ours.map((u) => u.metric))].filter((m) => !withSamples.has(m));
    expect(noSeries).toStrictEqual([]);
    expect(text).toMatch(new RegExp(`trafficshift_rollback_recovery_seconds_count\\{namespace="${run.cluster.namespace}",plan="${name}"\\} 1`));
    // The plan's RTO and its latest recovery, side by side, as the RTO alert compares them.
    expect(text).toMatch(new RegExp(`^trafficshift_plan_rto_seconds\\{namespace="${run.cluster.namespace}",plan="${name}"\\} 30$`, 'm'));
    expect(text).toMatch(new RegExp(`^trafficshift_plan_last_recovery_seconds\\{namespace="${run.cluster.namespace}",plan="${name}"\\} [0-9.]+$`, 'm'));
    expect(text).toMatch(new RegExp(`^trafficshift_rollback_validation\\{namespace="${run.cluster.namespace}",plan="${name}",result="(Running|Passed)"\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^trafficshift_plan_canary_weight\\{namespace="${run.cluster.namespace}",plan="${name}"\\} 0$`, 'm'));
    // The controller's own API-server requests are counted: its writes of the plan status (a PUT, so update) at least.
    expect(text).toMatch(/^trafficshift_kube_requests_total\{verb="update",resource="migrationplans.trafficshift.io\/status",code="200"\} [1-9]/m);
  });
});

describe('the rules', () => {
  it('the PrometheusRule carries exactly the groups of rules.yaml', () => {
    const pr = load('prometheusrule.yaml') as { apiVersion: string; kind: string; metadata: { namespace: string }; spec: unknown };
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.kind).toBe('PrometheusRule');
    expect(pr.metadata.namespace).toBe('trafficshift-system');
    expect(pr.spec).toStrictEqual({ groups: rules().groups });
  });

  it('alert on a plan Holding, Stalled, Failed or left RolledBack, a rollback in progress or past its RTO, a failed rollback validation, no leader, an unreachable API server, failing reconciles, a controller down and notifications failing', () => {
    const alerts = rules().groups.flatMap((g) => g.rules).map((r) => r.alert);
    expect(alerts).toStrictEqual([
      'TrafficshiftPlanHolding', 'TrafficshiftPlanStalled', 'TrafficshiftPlanFailed', 'TrafficshiftPlanRolledBackStalled',
      'TrafficshiftRollbackInProgress', 'TrafficshiftRollbackMissedRTO', 'TrafficshiftRollbackValidationFailed', 'TrafficshiftNoLeader', 'TrafficshiftAPIServerUnreachable',
      'TrafficshiftReconcileErrors', 'TrafficshiftControllerDown', 'TrafficshiftNotificationsFailing',
    ]);
    for (const rule of rules().groups.flatMap((g) => g.rules)) expect(['info', 'warning', 'critical']).toContain(rule.labels?.['severity']);
  });

  const promtool = findOnPath('promtool');
  const itPromtool = promtool ? it : ((title: string, fn?: jest.ProvidesCallback) => {
    process.stderr.write(`\n!!! SKIPPED: promtool not found on PATH (apt-get install prometheus, or \`make tools\`): "${title}" did not run\n`);
    it.skip(title, fn);
  }) as jest.It;

  itPromtool('pass promtool check rules', () => {
    const out = execFileSync(promtool as string, ['check', 'rules', path.join(DIR, 'rules.yaml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('SUCCESS: 12 rules found');
  });

  itPromtool('fire when they should on made-up series (promtool test rules monitoring/rules.test.yaml)', () => {
    const out = execFileSync(promtool as string, ['test', 'rules', path.join(DIR, 'rules.test.yaml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('SUCCESS');
  });
});

describe('the ServiceMonitor', () => {
  it('selects the Service of manifests/service.yaml on its named port, every 15 s', () => {
    const service = yaml.load(fs.readFileSync(path.join(REPO_ROOT, 'manifests/service.yaml'), 'utf8')) as {
      metadata: { namespace: string; labels: Record<string, string> };
      spec: { ports: Array<{ name: string }> };
    };
    const sm = load('servicemonitor.yaml') as {
      apiVersion: string; kind: string; metadata: { namespace: string };
      spec: { jobLabel: string; namespaceSelector: { matchNames: string[] }; selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string; interval: string }> };
    };
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.kind).toBe('ServiceMonitor');
    expect(sm.metadata.namespace).toBe('trafficshift-system');
    expect(sm.spec.namespaceSelector.matchNames).toStrictEqual([service.metadata.namespace]);
    expect(service.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    // The rules and the dashboard select job="trafficshift": that is this label's value.
    expect(service.metadata.labels[sm.spec.jobLabel]).toBe('trafficshift');
    expect(sm.spec.endpoints).toHaveLength(1);
    const [endpoint] = sm.spec.endpoints;
    expect(service.spec.ports.map((p) => p.name)).toContain(endpoint?.port);
    expect(endpoint).toMatchObject({ path: '/metrics', interval: '15s' });
  });
});

describe('the Grafana dashboard', () => {
  it('parses, and every panel has a data source and a target with an expression', () => {
    const dash = dashboard();
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    const panels = allPanels(dash.panels).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(5);
    for (const panel of panels) {
      expect({ panel: panel.title, datasource: panel.datasource }).toStrictEqual({ panel: panel.title, datasource: { type: 'prometheus', uid: '${datasource}' } });
      expect({ panel: panel.title, targets: (panel.targets ?? []).length > 0 }).toStrictEqual({ panel: panel.title, targets: true });
      for (const t of panel.targets ?? []) expect({ panel: panel.title, expr: typeof t.expr === 'string' && t.expr.trim() !== '' }).toStrictEqual({ panel: panel.title, expr: true });
    }
  });

  it('has a Prometheus data source variable and namespace and plan variables from label_values', () => {
    const vars = new Map(dashboard().templating.list.map((v) => [v.name, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.get('namespace')).toMatchObject({ type: 'query', definition: expect.stringMatching(/^label_values\(.*, namespace\)$/) });
    expect(vars.get('plan')).toMatchObject({ type: 'query', definition: expect.stringMatching(/^label_values\(.*\$namespace.*, plan\)$/) });
  });

  it('the ConfigMap for the Grafana sidecar holds the same JSON, byte for byte', () => {
    const cm = load('grafana-dashboard-configmap.yaml') as { kind: string; metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.metadata.labels['grafana_dashboard']).toBe('1');
    expect(Object.keys(cm.data)).toStrictEqual(['trafficshift.json']);
    expect(cm.data['trafficshift.json']).toBe(read('grafana-dashboard.json'));
  });
});
