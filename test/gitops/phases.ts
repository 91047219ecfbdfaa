// One real status per MigrationPlan phase, each produced by the engine's decide() from the engine
// test fixtures (test/engine/fixtures.ts), and checked against the CRD's status schema so they
// stay what the controller would write. Shared by the Argo CD health check and kstatus tests.
import { decide, type Decision, type Observations } from '../../src/engine';
import { MigrationPlanStatus, type MigrationPlanSpec, type Phase } from '../../src/plan/schema';
import { atStep, canary, iso, missing, obs, round, weights } from '../engine/fixtures';

/** decide(), fed its own status again while it asks to be called at once (a request is recorded
 * first and acted on in the next call). */
export function settle(spec: MigrationPlanSpec | undefined, status: MigrationPlanStatus | undefined, o: Observations): Decision {
  let d = decide(spec, status, o);
  for (let i = 0; i < 5 && d.nextEvaluationAt === o.now; i++) d = decide(spec, d.status, o);
  return d;
}

export interface PhaseCase {
  name: string;
  phase: Phase;
  status: MigrationPlanStatus;
}

const plan = canary();
const noAuto = canary({ rollback: { automatic: false } });

function make(name: string, phase: Phase, d: Decision): PhaseCase {
  return { name, phase, status: MigrationPlanStatus.parse(d.status) };
}

export function phaseCases(): PhaseCase[] {
  const rollingBack = settle(plan, atStep(1, 25, 0), obs(30, { targets: weights(25, 25), requests: { rollback: { value: 'p99 doubled after deploy' } } }));
  return [
    make('Pending (spec.paused before the first step)', 'Pending', settle(canary({ paused: true }), undefined, obs(0))),
    make('Progressing (first step written)', 'Progressing', settle(plan, undefined, obs(0))),
    make('Paused (spec.paused mid-migration)', 'Paused', settle(canary({ paused: true }), atStep(1, 25, 0), obs(10, { targets: weights(25, 25) }))),
    make('Holding (a warning check failing)', 'Holding',
      settle(plan, atStep(1, 25, 0), obs(30, { targets: weights(25, 25), round: round(30, { latency: ['Fail', 0.9] }) }))),
    make('Holding, stalled (critical check at its limit, automatic rollback off)', 'Holding',
      settle(noAuto, atStep(1, 25, 0, { checks: [{ name: 'error-rate', severity: 'critical', value: 0.2, threshold: '<= 0.01', result: 'Fail', consecutiveFailures: 1, at: iso(0) }] }),
        obs(30, { targets: weights(25, 25), round: round(30, { 'error-rate': ['Fail', 0.2] }) }))),
    make('Holding, stalled (a target not found)', 'Holding', settle(plan, atStep(1, 25, 0), obs(10, { targets: [missing(), { ok: true, weight: 25 }] }))),
    make('WaitingForPromotion (the final gate)', 'WaitingForPromotion', settle(plan, atStep(3, 100, 0), obs(30, { targets: weights(100, 100), round: round(30) }))),
    make('RollingBack (a rollback request)', 'RollingBack', rollingBack),
    make('RolledBack (every target back at 0)', 'RolledBack', settle(plan, rollingBack.status, obs(33, { targets: weights(0, 0) }))),
    make('Succeeded (bake time over)', 'Succeeded',
      settle(plan, atStep(3, 100, 0, { promotedStep: 3, bakeStartedAt: iso(0) }), obs(601, { targets: weights(100, 100), round: round(601) }))),
    make('Failed (the spec became invalid)', 'Failed',
      settle(undefined, { phase: 'Progressing', observedGeneration: 1, currentStep: 1, canaryWeight: 25 },
        obs(5, { generation: 2, targets: weights(25, 25), specError: { path: 'spec.steps[1].weight', message: 'must be greater than the step before' } }))),
  ];
}
