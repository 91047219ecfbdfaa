// `make demo`: two migrations on a simulated clock, printed as they move. The first canary
// passes its checks, waits at a promotion gate for a person, bakes and succeeds; the second
// breaches its error-rate check at 25% and is rolled back to stable.
import { MigrationPlanSpec } from '../plan/schema';
import { simulate, type Frame, type Metrics, type SimulationOptions } from './simulation';

function planFor(name: string): MigrationPlanSpec {
  return MigrationPlanSpec.parse({
    description: `Move ${name} traffic from the monolith to ${name}-svc`,
    strategy: 'Canary',
    targets: [
      { provider: 'nginx', nginx: { ingress: name, canaryIngress: `${name}-canary` } },
      { provider: 'gatewayAPI', gatewayAPI: { httpRoute: name, stableBackend: 'monolith', canaryBackend: `${name}-svc` } },
    ],
    steps: [{ weight: 10, pause: '1m' }, { weight: 25, pause: '1m' }, { weight: 50 }, { weight: 100, pause: {} }],
    analysis: {
      interval: '30s',
      prometheus: { address: 'http://prometheus.monitoring:9090' },
      checks: [
        { name: 'error-rate', query: `sum(rate(http_requests_total{service="${name}-svc",code=~"5.."}[1m]))`, max: 0.01, severity: 'critical', failureLimit: 2 },
        { name: 'latency-p99', template: 'latency-p99', max: 0.5, severity: 'warning' },
      ],
    },
    rollback: { automatic: true, rto: '30s' },
    successCriteria: { bakeTime: '2m' },
  });
}

/** A small wobble so the numbers look measured; deterministic, so every run prints the same. */
const wobble = (elapsedMs: number, scale: number) => scale * (1 + 0.3 * Math.sin(elapsedMs / 47_000));
const round3 = (n: number) => Math.round(n * 1000) / 1000;

const healthy: Metrics = {
  read: (check, _weight, elapsedMs) => round3(check === 'error-rate' ? wobble(elapsedMs, 0.002) : wobble(elapsedMs, 0.21)),
};

/** Fine at 10%; at 25% the new service runs out of connections and errors climb. */
const leaky: Metrics = {
  read: (check, weight, elapsedMs) => {
    if (check === 'latency-p99') return round3(wobble(elapsedMs, weight >= 25 ? 0.42 : 0.23));
    return round3(weight >= 25 ? wobble(elapsedMs, 0.034) : wobble(elapsedMs, 0.003));
  },
};

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

function line(spec: MigrationPlanSpec, frame: Frame): string {
  const { status, weights } = frame;
  const phase = (status.phase ?? 'Pending').padEnd(20);
  const step = status.currentStep === undefined ? '          ' : `step ${status.currentStep + 1}/${spec.steps.length}`.padEnd(10);
  // What the route objects hold after this call's writes (status.canaryWeight is what was observed before them).
  const canary = weights.every((w) => w === weights[0]) ? (weights[0] ?? 0) : (status.canaryWeight ?? 0);
  const perTarget = spec.targets.map((t, i) => `${t.provider} ${weights[i]}/${100 - (weights[i] ?? 0)}`).join(', ');
  const checks = frame.round
    ? '  ' + (status.checks ?? []).map((c) => `${c.name}=${c.value ?? '-'} ${c.result === 'Pass' ? 'PASS' : c.result.toUpperCase()}`).join(' ')
    : '';
  return `[${clock(frame.elapsedMs)}] ${phase} ${step}  canary ${String(canary).padStart(3)}%  stable ${String(100 - canary).padStart(3)}%  (${perTarget})${checks}`;
}

function run(title: string, options: SimulationOptions): void {
  console.log(`\n== ${title}`);
  let previous = '';
  let last: Frame | undefined;
  for (const frame of simulate(options)) {
    last = frame;
    const text = line(options.spec, frame);
    const state = text.slice(11, text.indexOf('(')) + frame.weights.join(',');
    if (frame.round !== undefined || state !== previous) console.log(text);
    previous = state;
    for (const action of frame.actions) {
      if (action.kind === 'event') console.log(`           ${action.type === 'Warning' ? '!' : '-'} ${action.reason}: ${action.message}`);
    }
  }
  const rollback = last?.status.rollback;
  if (last?.status.phase === 'RolledBack' && rollback) {
    console.log(`   rolled back: "${rollback.reason}", traffic on stable ${rollback.recoverySeconds}s after the trigger`);
  } else {
    console.log(`   finished: ${last?.status.phase} after ${clock(last?.elapsedMs ?? 0)} of simulated time`);
  }
}

function main(): void {
  console.log('trafficshift demo: the migration engine on a simulated clock with made-up metrics');
  run('checkout: a healthy canary, promoted by a person at 100%, baked, Succeeded', {
    spec: planFor('checkout'),
    metrics: healthy,
    promoteAfterMs: 90_000,
    limitMs: 60 * 60_000,
  });
  run('payments: the canary breaches error-rate at 25% and is rolled back', {
    spec: planFor('payments'),
    metrics: leaky,
    promoteAfterMs: 90_000,
    limitMs: 60 * 60_000,
  });
}

main();
