// What Flux (kustomize-controller's health checks) and `kubectl wait`-style tools conclude from a
// MigrationPlan's status. computeStatus() below follows kstatus, sigs.k8s.io/cli-utils
// pkg/kstatus/status: ComputeStatus -> checkGenericProperties (generic.go), and, because
// MigrationPlan is a custom resource with no legacy rule (GetLegacyConditionsFn returns nil for it),
// the fallback "Resource is current". In that order:
//   1. metadata.deletionTimestamp set                                   -> Terminating
//   2. status.observedGeneration present and != metadata.generation      -> InProgress (LatestGenerationNotObserved)
//   3. the first condition, in list order, that is Reconciling=True      -> InProgress
//                                              or Stalled=True          -> Failed
//   4. otherwise                                                         -> Current
// Upstream kstatus does not read Ready at all. Flux's own readers and `kubectl wait
// --for=condition=Ready` do, so readyStatus() below is the stricter reading: Ready=True -> Current,
// Stalled=True -> Failed, anything else InProgress (after the generation check).
import { API_VERSION, KIND, type MigrationPlanStatus } from '../../src/plan/schema';
import { phaseCases, type PhaseCase } from './phases';

type KStatus = 'InProgress' | 'Failed' | 'Current' | 'Terminating';

interface Unstructured {
  metadata: { generation?: number; deletionTimestamp?: string };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

function generationUnobserved(u: Unstructured): boolean {
  const generation = u.metadata.generation;
  const observed = u.status?.observedGeneration;
  return generation !== undefined && observed !== undefined && observed !== generation;
}

/** kstatus's ComputeStatus for a custom resource. */
function computeStatus(u: Unstructured): { status: KStatus; message: string } {
  if (u.metadata.deletionTimestamp) return { status: 'Terminating', message: 'Resource scheduled for deletion' };
  if (generationUnobserved(u)) return { status: 'InProgress', message: 'LatestGenerationNotObserved' };
  for (const c of u.status?.conditions ?? []) {
    if (c.type === 'Reconciling' && c.status === 'True') return { status: 'InProgress', message: c.message ?? '' };
    if (c.type === 'Stalled' && c.status === 'True') return { status: 'Failed', message: c.message ?? '' };
  }
  return { status: 'Current', message: 'Resource is current' };
}

/** The Ready-aware reading (kstatus's generic checks first, then Ready decides). */
function readyStatus(u: Unstructured): KStatus {
  const generic = computeStatus(u);
  if (generic.status !== 'Current') return generic.status;
  return u.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Current' : 'InProgress';
}

const plan = (status: MigrationPlanStatus | undefined, generation = status?.observedGeneration ?? 1): Unstructured & { apiVersion: string; kind: string } => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { generation },
  ...(status === undefined ? {} : { status }),
});

const cases = phaseCases();
const byName = (prefix: string): PhaseCase => {
  const c = cases.find((x) => x.name.startsWith(prefix));
  if (c === undefined) throw new Error(`no case ${prefix}`);
  return c;
};
const FINAL_OK = ['Succeeded'];
const FINAL_BAD = ['RolledBack', 'Failed'];

describe('the rules themselves (cli-utils generic.go)', () => {
  it('generation ahead of observedGeneration -> InProgress, before any condition', () => {
    expect(computeStatus({ metadata: { generation: 3 }, status: { observedGeneration: 2, conditions: [{ type: 'Stalled', status: 'True' }] } }).status).toBe('InProgress');
  });
  it('Stalled=True -> Failed; Reconciling=True -> InProgress; neither -> Current; the first in list order wins', () => {
    expect(computeStatus({ metadata: {}, status: { conditions: [{ type: 'Stalled', status: 'True' }] } }).status).toBe('Failed');
    expect(computeStatus({ metadata: {}, status: { conditions: [{ type: 'Reconciling', status: 'True' }] } }).status).toBe('InProgress');
    expect(computeStatus({ metadata: {}, status: { conditions: [{ type: 'Ready', status: 'False' }] } }).status).toBe('Current');
    expect(computeStatus({ metadata: {}, status: { conditions: [{ type: 'Reconciling', status: 'True' }, { type: 'Stalled', status: 'True' }] } }).status).toBe('InProgress');
  });
  it('deletionTimestamp -> Terminating', () => {
    expect(computeStatus({ metadata: { generation: 1, deletionTimestamp: '2026-11-25T10:00:00Z' } }).status).toBe('Terminating');
  });
});

describe('statuses the engine produced, read by kstatus', () => {
  it('every status records the generation it saw, on the status and on each condition', () => {
    for (const c of cases) {
      expect(c.status.observedGeneration).toEqual(expect.any(Number));
      for (const cond of c.status.conditions ?? []) expect(cond.observedGeneration).toBe(c.status.observedGeneration);
    }
  });

  it('the engine writes Ready, Progressing, Reconciling and Stalled; at most one of Ready and Stalled is True', () => {
    for (const c of cases) {
      expect((c.status.conditions ?? []).map((x) => x.type).sort()).toStrictEqual(['Progressing', 'Ready', 'Reconciling', 'Stalled']);
      const isTrue = (t: string) => c.status.conditions?.some((x) => x.type === t && x.status === 'True');
      expect(isTrue('Ready') && isTrue('Stalled')).toBe(false);
    }
  });

  it('Succeeded is Current (Ready=True, Stalled=False), by both readings', () => {
    const c = byName('Succeeded');
    expect(computeStatus(plan(c.status)).status).toBe('Current');
    expect(readyStatus(plan(c.status))).toBe('Current');
  });

  it.each(FINAL_BAD)('%s is Failed (Stalled=True), by both readings', (phase) => {
    const c = byName(phase);
    expect(computeStatus(plan(c.status))).toMatchObject({ status: 'Failed', message: c.status.conditions?.find((x) => x.type === 'Stalled')?.message });
    expect(readyStatus(plan(c.status))).toBe('Failed');
  });

  it('a plan stalled mid-migration (target missing, critical check with automatic rollback off) is Failed', () => {
    for (const c of cases.filter((x) => x.name.includes('stalled'))) expect(computeStatus(plan(c.status)).status).toBe('Failed');
  });

  it('a status older than the plan (generation bumped, not yet observed) is InProgress, whatever its phase', () => {
    for (const c of cases) expect(computeStatus(plan(c.status, (c.status.observedGeneration ?? 1) + 1)).status).toBe('InProgress');
  });

  it('no status at all is Current to upstream kstatus (nothing to go on) and InProgress to the Ready reading', () => {
    expect(computeStatus(plan(undefined)).status).toBe('Current');
    expect(readyStatus(plan(undefined))).toBe('InProgress');
  });

  const active = cases.filter((c) => !FINAL_OK.includes(c.phase) && !FINAL_BAD.includes(c.phase) && !c.name.includes('stalled'));

  it('the active cases cover Pending, Progressing, Paused, Holding, WaitingForPromotion and RollingBack', () => {
    expect(new Set(active.map((c) => c.phase))).toStrictEqual(new Set(['Pending', 'Progressing', 'Paused', 'Holding', 'WaitingForPromotion', 'RollingBack']));
  });

  it.each(active.map((c) => [c.name, c] as const))('%s is InProgress to a Ready-aware reader (Ready=False, Stalled=False)', (_name, c) => {
    expect(readyStatus(plan(c.status))).toBe('InProgress');
  });

  // Upstream kstatus ignores Ready and reads Reconciling: without Reconciling=True (the engine
  // wrote only Progressing until this test found it) an active plan read as Current, as if done.
  it.each(active.map((c) => [c.name, c] as const))('%s is InProgress to upstream kstatus (Reconciling=True)', (_name, c) => {
    expect(c.status.conditions?.find((x) => x.type === 'Reconciling')?.status).toBe('True');
    expect(computeStatus(plan(c.status)).status).toBe('InProgress');
  });
});
