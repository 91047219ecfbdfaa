// GET /api/v1/namespaces/{ns}/plans/{name}/timeline: what the dashboard's plan page draws. The
// weight over time comes from status.history (what the plan recorded, so every replica answers
// the same); each check's values over time from the check history this replica keeps in memory
// (src/api/checkHistory.ts), or, when it has none, the latest value status.checks holds.
import { dump } from 'js-yaml';
import type { KubeObject } from '../kube';
import { parseDuration } from '../plan/duration';
import { MigrationPlanSpec, MigrationPlanStatus } from '../plan/schema';
import { planView, readTargetWeights } from '../steering/view';
import type { AppDeps } from './app';
import type { CheckPoint } from './checkHistory';
import { loadPlan } from './plans';
import { operation } from './routes';
import { PlanParams, Timeline } from './schemas';

export const NO_HISTORY_NOTE =
  'This controller replica has no recent check values for this plan (it is a standby, or it restarted since the checks ran): each check shows only the latest value the plan\'s status holds.';

type TimelineBody = ReturnType<typeof Timeline.parse>;

export function timelineOf(object: KubeObject, deps: Pick<AppDeps, 'checkHistory'>, live?: Parameters<typeof planView>[1]): TimelineBody {
  const view = planView(object, live);
  const parsedSpec = MigrationPlanSpec.safeParse(object['spec'] ?? {});
  const spec = parsedSpec.success ? parsedSpec.data : undefined;
  const statusParsed = MigrationPlanStatus.safeParse(object['status'] ?? {});
  const status = statusParsed.success ? statusParsed.data : {};
  const plan = { namespace: view.namespace, name: view.name };

  let fromStatus = false;
  const checks = (spec?.analysis?.checks ?? []).map((check) => {
    let points: CheckPoint[] = deps.checkHistory?.points(plan, check.name) ?? [];
    if (points.length === 0) {
      const latest = status.checks?.find((c) => c.name === check.name);
      if (latest !== undefined) {
        points = [{ at: latest.at, value: latest.value, result: latest.result }];
        fromStatus = true;
      }
    }
    return {
      name: check.name,
      threshold: { ...(check.min !== undefined ? { min: check.min } : {}), ...(check.max !== undefined ? { max: check.max } : {}) },
      points,
    };
  });

  const rtoText = spec?.rollback?.rto;
  const rollback = status.rollback
    ? {
        triggeredAt: status.rollback.triggeredAt,
        ...(status.rollback.completedAt !== undefined ? { completedAt: status.rollback.completedAt } : {}),
        ...(status.rollback.recoverySeconds !== undefined ? { recoverySeconds: status.rollback.recoverySeconds } : {}),
        ...(rtoText !== undefined ? { rtoSeconds: parseDuration(rtoText) / 1000 } : {}),
      }
    : undefined;

  return {
    plan: view,
    specYaml: dump(object['spec'] ?? {}, { noRefs: true, lineWidth: 120 }),
    weights: (status.history ?? []).map((h) => ({ at: h.at, weight: h.weight, event: h.event, message: h.message })),
    checks,
    ...(rollback ? { rollback } : {}),
    ...(fromStatus ? { note: NO_HISTORY_NOTE } : {}),
  };
}

export const timelineOperation = operation({
  spec: {
    method: 'get',
    path: '/namespaces/:namespace/plans/:name/timeline',
    operationId: 'getPlanTimeline',
    summary: 'One plan\'s timeline: weight over time, each check\'s recent values against its threshold, the rollback, the spec as YAML',
    description:
      '`weights` from status.history; `checks[].points` from the values this controller replica measured recently (the last 720 rounds per check, kept in memory), else the latest value in status.checks with a `note` saying so. `plan` has live target weights, as GET of the plan.',
    tags: ['plans'],
    params: PlanParams,
    verb: 'get',
    responses: { 200: { description: 'The timeline.', schema: Timeline }, 404: { description: 'No such plan (or not in the namespace this controller watches).' } },
  },
  access: ({ params }) => ({ verb: 'get', ...params }),
  async handle(deps, { params }) {
    const { object } = await loadPlan(deps, { namespace: params.namespace, name: params.name });
    const live = await readTargetWeights(deps.kube, object);
    return { status: 200, body: timelineOf(object, deps, live) };
  },
});
