// A plan as people look at it: phase, where it is in its steps, the weight each target holds,
// every check's latest value against its threshold, and the last events. The REST API answers
// with it and the CLI prints it, so both say the same thing about the same plan. Pure, except
// readTargetWeights, which asks each target's provider for its live weight.
import { z } from 'zod';
import type { Kube, KubeObject } from '../kube';
import { toKubeError } from '../kube';
import { createProvider, describeTarget } from '../providers';
import { pauseOf, stepIndex, stepLabel } from '../engine/steps';
import { isHandled } from '../engine/bounds';
import { MigrationPlanSpec, MigrationPlanStatus, ObjectMeta, REQUEST_ANNOTATIONS, REQUEST_KINDS, type CheckStatus, type Condition, type HookStatus, type HistoryEntry, type Phase, type ReadinessStatus, type RollbackValidationStatus, type Target } from '../plan/schema';

/** Events a view carries: enough to see how the plan got here, bounded like the status. */
export const VIEW_EVENTS = 10;

export interface TargetWeight {
  /** `gatewayAPI HTTPRoute shop/checkout`: what a person finds with kubectl. */
  target: string;
  provider: Target['provider'];
  /** The canary weight the live object holds; null when it could not be read. */
  weight: number | null;
  /** Why the weight could not be read (missing object, malformed object, no permission). */
  problem?: string;
}

export interface PlanView {
  namespace: string;
  name: string;
  phase: Phase;
  paused: boolean;
  /** 1-based, as people count: step 2 of 4. 0 before the first step. */
  step: { number: number; count: number; label: string; weight: number | null; promotionGate: boolean };
  /** The weight the plan's status says the targets hold. */
  canaryWeight: number;
  /** Each target's weight: live when read, else what the status says. */
  targets: TargetWeight[];
  checks: CheckStatus[];
  /** The latest result of each hook run (spec.hooks), newest last. */
  hooks: HookStatus[];
  lastRound?: { at: string; verdict: string; message?: string };
  /** Newest last. */
  events: HistoryEntry[];
  rollback?: { reason: string; triggeredAt: string; completedAt?: string; recoverySeconds?: number; stableReadyEndpoints?: number; validation?: RollbackValidationStatus };
  /** What the readiness gate last saw of the canary backends (status.readiness). */
  readiness?: ReadinessStatus;
  /** Requests (rollback, promote, retry) written but not handled yet. */
  pendingRequests: Partial<Record<'rollback' | 'promote' | 'retry', string>>;
  conditions: Condition[];
  /** The spec does not parse: the plan stands still until it is fixed. */
  specError?: string;
  generation?: number;
  observedGeneration?: number;
  createdAt?: string;
}

const RawPlan = z.looseObject({
  metadata: ObjectMeta,
  spec: z.unknown().optional(),
  status: z.unknown().optional(),
});

/** Not a MigrationPlan the view can show: no metadata name or namespace. */
export class NotAPlan extends Error {
  override readonly name = 'NotAPlan';
}

/** The view of a plan object as the API server (or a cache) holds it. `live` replaces the
 * status's weight per target when the caller read the targets. */
export function planView(obj: KubeObject, live?: readonly TargetWeight[]): PlanView {
  const raw = RawPlan.safeParse(obj);
  if (!raw.success || raw.data.metadata.namespace === undefined) throw new NotAPlan('not a MigrationPlan: metadata.name and metadata.namespace are required');
  const { metadata } = raw.data;
  const namespace = metadata.namespace as string;
  const parsedSpec = MigrationPlanSpec.safeParse(raw.data.spec ?? {});
  const spec = parsedSpec.success ? parsedSpec.data : undefined;
  const parsedStatus = MigrationPlanStatus.safeParse(raw.data.status ?? {});
  const status = parsedStatus.success ? parsedStatus.data : {};
  const canaryWeight = status.canaryWeight ?? 0;
  const started = status.phase !== undefined && status.phase !== 'Pending';
  const index = spec ? stepIndex(spec, status) : 0;
  const step = spec
    ? {
        number: started ? index + 1 : 0,
        count: spec.steps.length,
        label: stepLabel(spec, status),
        weight: spec.steps[index]?.weight ?? null,
        promotionGate: spec.steps[index] !== undefined && pauseOf(spec.steps[index]).kind === 'gate',
      }
    : { number: 0, count: 0, label: '(spec invalid)', weight: null, promotionGate: false };
  const targets = live
    ? [...live]
    : (spec?.targets ?? []).map((t) => ({ target: describeTarget(namespace, t), provider: t.provider, weight: canaryWeight }));
  const annotations = metadata.annotations ?? {};
  const pendingRequests: PlanView['pendingRequests'] = {};
  for (const kind of REQUEST_KINDS) {
    const value = annotations[REQUEST_ANNOTATIONS[kind]];
    if (value !== undefined && !isHandled(value, status.handledRequests?.[kind])) pendingRequests[kind] = value;
  }
  return {
    namespace,
    name: metadata.name,
    phase: status.phase ?? 'Pending',
    paused: spec?.paused ?? false,
    step,
    canaryWeight,
    targets,
    checks: status.checks ?? [],
    hooks: status.hooks ?? [],
    ...(status.lastRound ? { lastRound: status.lastRound } : {}),
    events: (status.history ?? []).slice(-VIEW_EVENTS),
    ...(status.rollback ? { rollback: status.rollback } : {}),
    ...(status.readiness ? { readiness: status.readiness } : {}),
    pendingRequests,
    conditions: status.conditions ?? [],
    ...(parsedSpec.success ? {} : { specError: specErrorText(parsedSpec.error) }),
    ...(metadata.generation !== undefined ? { generation: metadata.generation } : {}),
    ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
    ...(metadata.creationTimestamp !== undefined ? { createdAt: metadata.creationTimestamp } : {}),
  };
}

function specErrorText(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid spec';
  const path = issue.path.map(String).join('.');
  return `spec${path ? `.${path}` : ''}: ${issue.message}`;
}

/** Reads every target's live weight through its provider. A target that cannot be read is
 * reported with weight null and the reason, never guessed. */
export async function readTargetWeights(kube: Kube, obj: KubeObject): Promise<TargetWeight[] | undefined> {
  const raw = RawPlan.safeParse(obj);
  if (!raw.success || raw.data.metadata.namespace === undefined) return undefined;
  const parsed = MigrationPlanSpec.safeParse(raw.data.spec ?? {});
  if (!parsed.success) return undefined;
  const namespace = raw.data.metadata.namespace;
  return Promise.all(
    parsed.data.targets.map(async (target): Promise<TargetWeight> => {
      const base = { target: describeTarget(namespace, target), provider: target.provider };
      try {
        const state = await createProvider(kube, namespace, target).read();
        if (state.ok) return { ...base, weight: state.weight };
        return { ...base, weight: state.weight ?? null, problem: `${state.reason}: ${state.message}` };
      } catch (error) {
        const e = toKubeError(error);
        return { ...base, weight: null, problem: `cannot read (${e.status || 'no answer'} ${e.reason}): ${e.message}` };
      }
    }),
  );
}

/** Targets that may still send traffic to the canary: a weight above 0, or one nobody could read. */
export function targetsCarryingTraffic(targets: readonly TargetWeight[]): TargetWeight[] {
  return targets.filter((t) => t.weight === null || t.weight > 0);
}

/** The plan's phases that end a migration one way or the other. */
export const SETTLED_PHASES: readonly Phase[] = ['Succeeded', 'RolledBack', 'Failed'];
