// Plans, statuses and observations for engine tests. Times are seconds after T0 (a Wednesday).
import { decide } from '../../src/engine';
import type { AnalysisRound, CheckOutcome, Decision, Observations, TargetObservation } from '../../src/engine';
import { MigrationPlanSpec, type CheckResultKind, type MigrationPlanStatus } from '../../src/plan/schema';

export const T0 = Date.parse('2026-11-25T10:00:00.000Z');
export const at = (sec: number): number => T0 + sec * 1000;
export const iso = (sec: number): string => new Date(at(sec)).toISOString();

const TARGETS = [
  { provider: 'nginx', nginx: { ingress: 'checkout', canaryIngress: 'checkout-canary' } },
  { provider: 'gatewayAPI', gatewayAPI: { httpRoute: 'checkout', stableBackend: 'monolith', canaryBackend: 'checkout-svc' } },
];

/** A Canary over two targets: 5 (1m) -> 25 (2m) -> 50 -> 100 (gate), with a critical, a warning and an info check. */
export function canary(overrides: Record<string, unknown> = {}): MigrationPlanSpec {
  return MigrationPlanSpec.parse({
    strategy: 'Canary',
    targets: TARGETS,
    steps: [{ weight: 5, pause: '1m' }, { weight: 25, pause: '2m' }, { weight: 50 }, { weight: 100, pause: {} }],
    analysis: {
      interval: '30s',
      prometheus: { address: 'http://prometheus:9090' },
      checks: [
        { name: 'error-rate', query: 'q1', max: 0.01, severity: 'critical', failureLimit: 2 },
        { name: 'latency', query: 'q2', max: 0.5, severity: 'warning' },
        { name: 'saturation', query: 'q3', max: 0.9, severity: 'info' },
      ],
    },
    rollback: { automatic: true, rto: '30s' },
    successCriteria: { bakeTime: '10m' },
    ...overrides,
  });
}

export function blueGreen(overrides: Record<string, unknown> = {}): MigrationPlanSpec {
  return MigrationPlanSpec.parse({
    strategy: 'BlueGreen',
    targets: [{ provider: 'service', service: { name: 'checkout', stableSelector: { app: 'v1' }, canarySelector: { app: 'v2' } } }],
    steps: [{ weight: 100 }],
    analysis: { interval: '30s', prometheus: { address: 'http://prometheus:9090' }, checks: [{ name: 'error-rate', query: 'q1', max: 0.01 }] },
    successCriteria: { bakeTime: '5m' },
    ...overrides,
  });
}

export const weights = (...ws: number[]): TargetObservation[] => ws.map((weight) => ({ ok: true, weight }));
export const missing = (message = 'Ingress shop/checkout-canary not found'): TargetObservation => ({ ok: false, reason: 'TargetNotFound', message });

type Results = Record<string, CheckResultKind | [CheckResultKind, number | null]>;

/** A round at `sec` where every check of the canary() plan passes unless overridden. */
export function round(sec: number, results: Results = {}): AnalysisRound {
  const base: Results = { 'error-rate': ['Pass', 0.001], latency: ['Pass', 0.2], saturation: ['Pass', 0.3] };
  const all = { ...base, ...results };
  const outcomes: CheckOutcome[] = Object.entries(all).map(([name, r]) => {
    const [result, value] = Array.isArray(r) ? r : [r, r === 'Pass' ? 0 : null];
    return { name, result, value };
  });
  return { completedAt: at(sec), outcomes };
}

export function obs(sec: number, rest: Partial<Observations> = {}): Observations {
  return { now: at(sec), generation: 1, targets: weights(0, 0), requests: {}, ...rest };
}

/** A status at `step` of the canary() plan whose weight landed at `landedSec`, with a passing round then. */
export function atStep(step: number, weight: number, landedSec: number, extra: Partial<MigrationPlanStatus> = {}): MigrationPlanStatus {
  return {
    phase: 'Progressing',
    observedGeneration: 1,
    currentStep: step,
    canaryWeight: weight,
    stepStartedAt: iso(landedSec),
    lastRound: { at: iso(landedSec), verdict: 'Pass', message: 'all checks passed' },
    // What the controller recorded when it decided this step.
    history: [{ at: iso(landedSec), event: step === 0 ? 'Started' : 'StepAdvanced', weight, message: `step ${step + 1}` }],
    ...extra,
  };
}

export function writes(d: Decision): Array<[number, number[]]> {
  return d.actions.flatMap((a) => (a.kind === 'setWeight' ? [[a.weight, a.targets] as [number, number[]]] : []));
}
export const notifications = (d: Decision): string[] => d.actions.flatMap((a) => (a.kind === 'notify' ? [a.event] : []));
export const eventReasons = (d: Decision): string[] => d.actions.flatMap((a) => (a.kind === 'event' ? [a.reason] : []));
export const condition = (d: Decision, type: 'Ready' | 'Progressing' | 'Stalled') => d.status.conditions?.find((c) => c.type === type);
export const lastHistory = (d: Decision) => d.status.history?.[d.status.history.length - 1];

/** Runs decide() and returns the decision, for chained calls. */
export function step(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus | undefined, o: Observations): Decision {
  return decide(spec, status, o);
}
