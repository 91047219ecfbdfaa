// `make demo`: the real controller, on one machine, with no cluster. An in-process Kubernetes API
// server holds the plans and the route objects; the controller reaches it over HTTP through a
// kubeconfig, exactly as it reaches a cluster. Sample backends serve traffic that follows the
// weights on the route objects, and their metrics gate the steps: through a real Prometheus when
// one is installed, else through the backends' own check endpoints. The first migration is
// promoted at a gate and succeeds; the second breaches its error-rate check, rolls back, and its
// checks then validate the monolith (rollback.validation); the third is rolled back by a person.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'winston';
import { Controller, controllerKube } from '../controller/controller';
import { createLogger, silentLogger } from '../controller/logger';
import { Kube, loadKubeConfig } from '../kube';
import { LocalKube } from '../localkube';
import { Readable } from 'node:stream';
import { runCli } from '../cli/program';
import { MigrationPlanStatus, type Phase, type ValidationResult } from '../plan/schema';
import { SampleBackend } from './backends';
import { backendObjects, endpointSlice, migrations, NAMESPACE, planObject, REFS, STABLE, type CheckSource, type Migration } from './plans';
import { findOnPath, PrometheusStartError, startPrometheus, type RunningPrometheus } from './prometheus';
import { LiveRoutes, LoadGenerator, ROUTE_POLL_MS } from './traffic';

export interface TextSink {
  write(text: string): unknown;
}

export interface DemoOptions {
  out: TextSink;
  /** Gate on PromQL through a real Prometheus when its binary is on PATH; else on webhooks. */
  usePrometheus: boolean;
  /** The controller's log (silent by default: the demo prints its own lines). */
  log?: Logger;
  /** Give up on one migration after this long. */
  migrationTimeoutMs?: number;
  /** Ends the demo early (Ctrl-C); everything started is still stopped and removed. */
  signal?: AbortSignal;
}

export interface MigrationOutcome {
  plan: string;
  expected: Phase;
  phase: Phase | undefined;
  /** The canary weight each target's route object holds at the end, in spec order. */
  weights: Array<number | undefined>;
  rollback?: { reason: string; recoverySeconds?: number; validation?: ValidationResult };
  expectedValidation?: ValidationResult;
}

export interface DemoResult {
  ok: boolean;
  checks: CheckSource['kind'];
  migrations: MigrationOutcome[];
}

const FINAL_PHASES: ReadonlySet<Phase> = new Set(['Succeeded', 'RolledBack', 'Failed']);
/** How long "a person" takes to answer a promotion gate. */
const PROMOTE_AFTER_MS = 1500;
const REQUESTS_PER_SECOND_PER_ROUTE = 40;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Teardown steps, run last-in first-out; each runs even when an earlier one failed. */
class Teardown {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async run(out: TextSink): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (error) {
        out.write(`  (cleanup step failed: ${error instanceof Error ? error.message : String(error)})\n`);
      }
    }
  }
}

function checkText(status: MigrationPlanStatus | undefined): string {
  const validation = status?.rollback?.validation;
  // During and after a rollback validation, the line shows stable's numbers.
  return (validation?.checks ?? status?.checks ?? [])
    .map((c) => `${c.name}=${c.value === null ? '-' : c.value.toFixed(3)} ${c.result === 'Pass' ? 'PASS' : c.result.toUpperCase()}`)
    .join('  ');
}

function statusLine(elapsedMs: number, m: Migration, status: MigrationPlanStatus | undefined, weights: Array<number | undefined>, stepCount: number): string {
  const step = status?.currentStep === undefined ? '' : `step ${status.currentStep + 1}/${stepCount}`;
  // Wide enough for "gatewayAPI 100%" and a gap.
  const routes = m.targets.map((t, i) => `${t.provider} ${weights[i] === undefined ? '?' : `${weights[i]}%`}`.padEnd(17)).join('');
  const validation = status?.rollback?.validation;
  const validating = validation === undefined ? '' : `validating ${STABLE}: ${validation.result} ${validation.passedRounds}/${validation.rounds} rounds passed  `;
  const gate = status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'BackendNotReady');
  const why = gate ? `readiness gate: ${gate.message}` : checkText(status);
  return `${`${(elapsedMs / 1000).toFixed(1)}s`.padStart(7)}  ${m.plan.padEnd(13)} ${(status?.phase ?? 'Pending').padEnd(20)} ${step.padEnd(9)} ${routes} ${validating}${why}`.trimEnd();
}

/** What changes a line: phase, step, weights and check verdicts (values alone move every round). */
function stateKey(status: MigrationPlanStatus | undefined, weights: Array<number | undefined>): string {
  const verdicts = (status?.checks ?? []).map((c) => `${c.name}:${c.result}:${c.consecutiveFailures}`).join(',');
  const validation = status?.rollback?.validation;
  const gate = status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'BackendNotReady')?.message ?? '';
  return [status?.phase, status?.currentStep, weights.join(','), verdicts, validation?.result, validation?.rounds, gate].join('|');
}

async function chooseChecks(usePrometheus: boolean, backends: SampleBackend[], out: TextSink, teardown: Teardown): Promise<RunningPrometheus | undefined> {
  if (!usePrometheus) return undefined;
  const binary = findOnPath('prometheus');
  if (binary === undefined) {
    out.write("prometheus not found: using the backends' own check endpoints\n");
    return undefined;
  }
  try {
    const prometheus = await startPrometheus({ binary, targets: backends.map((b) => ({ job: b.name, address: new URL(b.url).host })) });
    teardown.add(() => prometheus.stop());
    // Until each backend is scraped once, every query would answer "no data".
    await prometheus.waitForTargets();
    return prometheus;
  } catch (error) {
    if (!(error instanceof PrometheusStartError)) throw error;
    out.write(`prometheus did not start (${error.message}): using the backends' own check endpoints\n`);
    return undefined;
  }
}

interface RunContext {
  kube: Kube;
  /** For the CLI the person runs. */
  kubeconfigPath: string;
  out: TextSink;
  startedAt: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** Applies one plan, drives its traffic, prints each change, answers its promotion gate, and
 * returns how it ended. */
async function runMigration(ctx: RunContext, m: Migration, source: CheckSource, stable: SampleBackend, canary: SampleBackend): Promise<MigrationOutcome> {
  const { kube, out } = ctx;
  const routes = new LiveRoutes(kube, NAMESPACE, m.targets.map((target) => ({ target, stable, canary })));
  const load = new LoadGenerator(routes, REQUESTS_PER_SECOND_PER_ROUTE);
  await routes.start();
  load.start();
  try {
    const spec = m.spec(source);
    const stepCount = (spec['steps'] as unknown[]).length;
    await kube.create(REFS.plans, planObject(m.plan, spec));
    const deadline = Date.now() + ctx.timeoutMs;
    let lastKey = '';
    let gateSeenAt: number | undefined;
    let heldSeenAt: number | undefined;
    let madeReady = false;
    let status: MigrationPlanStatus | undefined;
    let weights: Array<number | undefined> = [];
    for (;;) {
      const obj = await kube.get({ ...REFS.plans, name: m.plan });
      const parsed = MigrationPlanStatus.safeParse(obj['status'] ?? {});
      status = parsed.success ? parsed.data : undefined;
      weights = await routes.readNow();
      const key = stateKey(status, weights);
      if (key !== lastKey) out.write(`${statusLine(Date.now() - ctx.startedAt, m, status, weights, stepCount)}\n`);
      lastKey = key;

      // The readiness gate holds the plan at 0 until the canary has ready endpoints: the demo
      // plays the Deployment whose Pods become ready a moment later.
      if (m.startsUnready && !madeReady && status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'BackendNotReady')) {
        heldSeenAt ??= Date.now();
        if (Date.now() - heldSeenAt >= PROMOTE_AFTER_MS) {
          madeReady = true;
          ctx.out.write(`         -> ${m.canary}'s Pods become ready: its EndpointSlice now lists 2 ready endpoints\n`);
          const ref = { ...REFS.endpointslices, name: `${m.canary}-demo` };
          const current = await kube.get(ref);
          await kube.replace(ref, { ...endpointSlice(m.canary, 2), metadata: current['metadata'] });
        }
      }

      if (status?.phase === 'WaitingForPromotion' && m.atGate !== undefined) {
        gateSeenAt ??= Date.now();
        if (Date.now() - gateSeenAt >= PROMOTE_AFTER_MS) {
          await personAtGate(ctx, m.plan, m.atGate);
          gateSeenAt = undefined;
        }
      }
      const phase = status?.phase;
      const validating = status?.rollback?.validation?.result === 'Running';
      if (phase !== undefined && FINAL_PHASES.has(phase) && !validating && !(phase === 'Succeeded' && weights.some((w) => w !== 100))) break;
      if (ctx.signal?.aborted) {
        out.write(`         !! interrupted\n`);
        break;
      }
      if (Date.now() > deadline) {
        out.write(`         !! ${m.plan} did not finish within ${ctx.timeoutMs / 1000}s\n`);
        break;
      }
      await sleep(ROUTE_POLL_MS);
    }
    const rollback = status?.rollback;
    return {
      plan: m.plan,
      expected: m.expected,
      phase: status?.phase,
      weights,
      ...(m.expectedValidation ? { expectedValidation: m.expectedValidation } : {}),
      ...(rollback
        ? {
            rollback: {
              reason: rollback.reason,
              ...(rollback.recoverySeconds === undefined ? {} : { recoverySeconds: rollback.recoverySeconds }),
              ...(rollback.validation === undefined ? {} : { validation: rollback.validation.result }),
            },
          }
        : {}),
    };
  } finally {
    await load.stop();
    await routes.stop();
  }
}

/** What a person types at the gate, run through the real CLI (in this process, against the same
 * API server), with its output as they would see it. */
async function personAtGate(ctx: RunContext, plan: string, atGate: NonNullable<Migration['atGate']>): Promise<void> {
  const args = atGate.action === 'promote' ? ['promote', plan] : ['rollback', plan, '--reason', atGate.reason];
  const typed = ['trafficshift', ...args, '-n', NAMESPACE].map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
  ctx.out.write(`         -> a person at the gate: $ ${typed}\n`);
  const indent = (text: string): string => text.replace(/^(?=.)/gm, '            ');
  const code = await runCli(['node', 'trafficshift', ...args, '-n', NAMESPACE, '--kubeconfig', ctx.kubeconfigPath], {
    stdout: { write: (text: string) => ctx.out.write(indent(text)) },
    stderr: { write: (text: string) => ctx.out.write(indent(text)) },
    stdin: Readable.from([]),
  });
  if (code !== 0) ctx.out.write(`         !! the command exited with ${code}\n`);
}

function describeOutcome(o: MigrationOutcome, m: Migration): string {
  if (o.phase === 'Succeeded') return `${o.plan} Succeeded: every route sends 100% to ${m.canary}`;
  if (o.phase === 'RolledBack') {
    const seconds = o.rollback?.recoverySeconds;
    const validated = o.rollback?.validation === undefined ? '' : `; ${STABLE} validated against the checks: ${o.rollback.validation}`;
    return `${o.plan} RolledBack (${o.rollback?.reason ?? 'no reason recorded'}): every route back on ${STABLE}${seconds === undefined ? '' : `, recoverySeconds=${seconds}`}${validated}`;
  }
  return `${o.plan} ended ${o.phase ?? 'without a phase'} (weights ${o.weights.join(', ')})`;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { out } = options;
  const teardown = new Teardown();
  const began = Date.now();
  try {
    out.write('trafficshift demo: the real controller against an in-process Kubernetes API server (no cluster)\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-demo-'));
    teardown.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    const local = new LocalKube();
    await local.start();
    teardown.add(() => local.stop());
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    local.writeKubeconfig(kubeconfigPath, NAMESPACE);
    const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
    const kube = new Kube(kubeConfig, { fieldManager: 'trafficshift-demo', requestTimeoutMs: 10_000 });
    await kube.create(REFS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });

    const plans = migrations();
    const monolith = new SampleBackend({ name: STABLE, errorRatio: 0.001, latency: { baseSeconds: 0.05, spreadSeconds: 0.3 } });
    const backends = [
      monolith,
      new SampleBackend({ name: 'checkout-svc', errorRatio: 0.002, latency: { baseSeconds: 0.02, spreadSeconds: 0.2 } }),
      new SampleBackend({ name: 'payments-svc', errorRatio: 0.2, latency: { baseSeconds: 0.03, spreadSeconds: 0.25 } }),
      new SampleBackend({ name: 'search-svc', errorRatio: 0.002, latency: { baseSeconds: 0.02, spreadSeconds: 0.2 } }),
    ];
    // A webhook check asking about the stable side (a rollback validation) gets the monolith's numbers.
    for (const b of backends) if (b !== monolith) b.stableSide = monolith;
    for (const b of backends) {
      await b.start();
      teardown.add(() => b.stop());
    }
    const backendOf = (name: string): SampleBackend => backends.find((b) => b.name === name) ?? monolith;
    const prometheus = await chooseChecks(options.usePrometheus, backends, out, teardown);

    out.write(`  API server  ${local.url} (kubeconfig ${kubeconfigPath})\n`);
    out.write(`  backends    ${backends.map((b) => `${b.name} ${b.url}`).join(', ')}\n`);
    out.write(`              payments-svc answers 20% of its requests with 500\n`);
    out.write(
      prometheus
        ? `  checks      PromQL on a real Prometheus at ${prometheus.address}, scraping the backends every 1s\n`
        : `  checks      webhooks: each canary's /check/error-rate and /check/latency-p99 over the last 5s\n`,
    );
    out.write(`  routes      per migration: an ingress-nginx canary pair and a Gateway API HTTPRoute\n`);

    const controller = new Controller({ kube: controllerKube(kubeConfig), namespace: NAMESPACE, resyncMs: 5000, log: options.log ?? silentLogger() });
    await controller.start();
    teardown.add(() => controller.stop());
    for (const o of backendObjects(plans)) await kube.create(o.ref, o.body);
    for (const m of plans) for (const o of m.objects) await kube.create(o.ref, o.body);

    const ctx: RunContext = { kube, kubeconfigPath, out, startedAt: Date.now(), timeoutMs: options.migrationTimeoutMs ?? 40_000, signal: options.signal };
    const outcomes: MigrationOutcome[] = [];
    const titles: Record<string, string> = {
      'checkout-v2': 'a healthy canary over two routes, held at 0 until its Pods are ready, then 10% -> 25% -> 50% (a person promotes) -> 100%, baked, Succeeded',
      'payments-v2': `a canary that fails 20% of its requests: error-rate breaches twice, every route rolls back, then the same checks validate ${STABLE} for 3s`,
      'search-v2': 'a canary whose checks pass, rolled back by a person at 25% with one CLI command',
    };
    for (const m of plans) {
      if (options.signal?.aborted) break;
      out.write(`\n== ${m.plan}: ${titles[m.plan] ?? ''}\n`);
      const canary = backendOf(m.canary);
      const source: CheckSource = prometheus ? { kind: 'prometheus', address: prometheus.address } : { kind: 'webhook', canaryUrl: canary.url };
      const outcome = await runMigration(ctx, m, source, monolith, canary);
      outcomes.push(outcome);
      out.write(`   ${describeOutcome(outcome, m)}\n`);
    }

    const ok =
      outcomes.length === plans.length &&
      outcomes.every((o) => o.phase === o.expected && o.weights.every((w) => w === (o.expected === 'Succeeded' ? 100 : 0)) && o.rollback?.validation === o.expectedValidation);
    const verdict = options.signal?.aborted ? 'demo interrupted' : ok ? 'demo finished' : 'demo FAILED';
    out.write(`\n${verdict} in ${((Date.now() - began) / 1000).toFixed(1)}s: ${outcomes.map((o) => `${o.plan} ${o.phase ?? '-'} (expected ${o.expected})`).join(', ')}\n`);
    return { ok, checks: prometheus ? 'prometheus' : 'webhook', migrations: outcomes };
  } finally {
    await teardown.run(out);
  }
}

if (require.main === module) {
  const log = process.env['TRAFFICSHIFT_DEMO_LOGS'] ? createLogger('text', 'debug') : undefined;
  // Ctrl-C stops the demo cleanly: the Prometheus child and the temp directories go with it.
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  process.once('SIGTERM', () => interrupt.abort());
  runDemo({ out: process.stdout, usePrometheus: true, signal: interrupt.signal, ...(log ? { log } : {}) }).then(
    (result) => {
      if (!result.ok && !interrupt.signal.aborted) process.stderr.write('demo failed: a migration did not end as expected (see above)\n');
      process.exitCode = result.ok ? 0 : 1;
    },
    (error: unknown) => {
      process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
