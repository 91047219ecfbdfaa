// The Argo CD health check for MigrationPlan (manifests/argocd/), run under Debian's Lua 5.1 (the
// language version of gopher-lua, which Argo CD embeds) on statuses the engine really produces.
// Without a lua5.1 binary every test that runs the script is skipped, loudly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { findOnPath } from '../../src/demo/prometheus';
import { API_VERSION, KIND, MigrationPlanStatus } from '../../src/plan/schema';
import { phaseCases, type PhaseCase } from './phases';

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(ROOT, 'manifests/argocd');
const SCRIPT = path.join(DIR, 'health-migrationplan.lua');
const CM_KEY = 'resource.customizations.health.trafficshift.io_MigrationPlan';
const LUA = findOnPath('lua5.1');

let skipped = 0;
/** `it` when lua5.1 is on PATH; otherwise a skipped test and a loud line on stderr. */
const itWithLua: jest.It = LUA !== undefined
  ? it
  : (((name: string, fn?: jest.ProvidesCallback, timeout?: number) => {
      skipped++;
      process.stderr.write(`\n!!! SKIPPED: lua5.1 binary not found on PATH (apt-get install lua5.1, or scripts/ensure-prometheus.sh as root): "${name}" did not run. Skipped tests in test/gitops/argocd.test.ts so far: ${skipped}\n`);
      it.skip(name, fn, timeout);
    }) as jest.It);

/** A Lua 5.1 string literal: printable ASCII as is, everything else as decimal byte escapes. */
function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && ch !== '"' && ch !== '\\' ? ch : `\\${byte}`;
  }
  return `${out}"`;
}

/** A Lua table constructor for a JSON value, as Argo CD hands the object to the script (arrays
 * 1-based, null as nil). */
function luaValue(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return luaString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not JSON: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `{${v.map(luaValue).join(', ')}}`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${luaString(k)}] = ${luaValue(x)}`).join(', ')}}`;
  }
  throw new Error(`not JSON: ${typeof v}`);
}

interface Health {
  status: string;
  message: string;
}

/** Runs the script the way Argo CD does: `obj` global, the chunk's return value is hs. */
function health(obj: unknown, script = SCRIPT): Health {
  const harness = [
    `obj = ${luaValue(obj)}`,
    `local hs = assert(loadfile(${luaString(script)}))()`,
    'assert(type(hs) == "table", "the script must return hs")',
    'io.write(tostring(hs.status), "\\n", tostring(hs.message))',
  ].join('\n');
  const run = spawnSync(LUA as string, ['-'], { input: harness, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`lua5.1 failed (${run.status}): ${run.stderr}`);
  const [status = '', ...rest] = run.stdout.split('\n');
  return { status, message: rest.join('\n') };
}

function planWith(status: MigrationPlanStatus | undefined, generation = status?.observedGeneration ?? 1): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'checkout', namespace: 'shop', generation, uid: 'b5c1' },
    spec: { strategy: 'Canary' },
    ...(status === undefined ? {} : { status: MigrationPlanStatus.parse(status) }),
  };
}

const cases = phaseCases();
const find = (name: string): PhaseCase => {
  const found = cases.find((c) => c.name.startsWith(name));
  if (found === undefined) throw new Error(`no phase case ${name}`);
  return found;
};
const conditionMessage = (c: PhaseCase, type: 'Ready' | 'Stalled'): string =>
  c.status.conditions?.find((x) => x.type === type)?.message ?? '';

describe('the argocd-cm snippet', () => {
  it('carries exactly the .lua file under the health customization key of argocd-cm', () => {
    const cm = yaml.load(readFileSync(path.join(DIR, 'argocd-cm.yaml'), 'utf8')) as { apiVersion: string; kind: string; metadata: { name: string }; data: Record<string, string> };
    expect(cm).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm' } });
    expect(Object.keys(cm.data)).toStrictEqual([CM_KEY]);
    expect(cm.data[CM_KEY]).toBe(readFileSync(SCRIPT, 'utf8'));
  });

  it('has the shape Argo CD expects: hs = {} first, return hs last', () => {
    const lines = readFileSync(SCRIPT, 'utf8').trimEnd().split('\n').filter((l) => !l.startsWith('--'));
    expect(lines[0]).toBe('hs = {}');
    expect(lines[lines.length - 1]).toBe('return hs');
  });
});

describe('the health check under lua5.1, on statuses the engine produced', () => {
  it('has one case for every phase', () => {
    expect(new Set(cases.map((c) => c.status.phase))).toStrictEqual(new Set(['Pending', 'Progressing', 'Paused', 'Holding', 'WaitingForPromotion', 'RollingBack', 'RolledBack', 'Succeeded', 'Failed']));
    for (const c of cases) expect(c.status.phase).toBe(c.phase);
  });

  const expected: Array<[string, string, (c: PhaseCase) => string]> = [
    ['Pending', 'Progressing', (c) => `Pending: ${conditionMessage(c, 'Ready')}`],
    ['Progressing', 'Progressing', (c) => `Progressing: ${conditionMessage(c, 'Ready')}`],
    ['Paused', 'Suspended', (c) => `Paused: ${conditionMessage(c, 'Ready')}`],
    ['Holding (a warning check failing)', 'Progressing', (c) => `Holding: ${conditionMessage(c, 'Ready')}`],
    ['Holding, stalled (critical check', 'Degraded', (c) => `Holding: ${conditionMessage(c, 'Stalled')}`],
    ['Holding, stalled (a target not found)', 'Degraded', (c) => `Holding: ${conditionMessage(c, 'Stalled')}`],
    ['WaitingForPromotion', 'Suspended', (c) => `WaitingForPromotion: ${conditionMessage(c, 'Ready')}`],
    ['RollingBack', 'Degraded', () => 'RollingBack: p99 doubled after deploy'],
    ['RolledBack', 'Degraded', (c) => `RolledBack: ${conditionMessage(c, 'Stalled')}`],
    ['Succeeded', 'Healthy', () => 'Succeeded: all traffic is on the canary'],
    ['Failed', 'Degraded', (c) => `Failed: ${conditionMessage(c, 'Stalled')}`],
  ];

  for (const [name, status, message] of expected) {
    itWithLua(`${name} -> ${status}`, () => {
      const c = find(name);
      const hs = health(planWith(c.status));
      expect(hs).toStrictEqual({ status, message: message(c) });
      expect(hs.message).not.toMatch(/: $/);
    });
  }

  itWithLua('RolledBack and Failed messages name why (the rollback reason, the spec field)', () => {
    expect(health(planWith(find('RolledBack').status)).message).toContain('p99 doubled after deploy');
    expect(health(planWith(find('Failed').status)).message).toContain('spec.steps[1].weight');
  });

  itWithLua('a plan with no status yet is Progressing, waiting for the controller', () => {
    expect(health(planWith(undefined))).toStrictEqual({ status: 'Progressing', message: 'Waiting for the controller to observe the plan' });
  });

  itWithLua('a status older than the spec is Progressing, whatever its phase said', () => {
    for (const name of ['Succeeded', 'RolledBack', 'Paused']) {
      const c = find(name);
      const gen = (c.status.observedGeneration ?? 1) + 1;
      expect(health(planWith(c.status, gen))).toStrictEqual({ status: 'Progressing', message: `Waiting for the controller to observe generation ${gen}` });
    }
  });

  itWithLua('copes with messages Lua must escape (quotes, backslashes, newlines, UTF-8)', () => {
    const c = find('Holding (a warning check failing)');
    const odd = 'p99 "doubled" \\ in zürich\nsee runbook ✓';
    const status: MigrationPlanStatus = { ...c.status, conditions: c.status.conditions?.map((x) => (x.type === 'Ready' ? { ...x, message: odd } : x)) };
    expect(health(planWith(status))).toStrictEqual({ status: 'Progressing', message: `Holding: ${odd}` });
  });

  itWithLua('the script as read from argocd-cm.yaml gives the same health for every case', () => {
    const cm = yaml.load(readFileSync(path.join(DIR, 'argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'argocd-cm-'));
    try {
      const fromCm = path.join(dir, 'health.lua');
      writeFileSync(fromCm, cm.data[CM_KEY] ?? '');
      for (const c of cases) expect(health(planWith(c.status), fromCm)).toStrictEqual(health(planWith(c.status)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
