// POST /api/v1/alerts: Alertmanager's webhook. A firing alert whose labels carry a plan's
// rollback.alertmanager.matchLabels rolls that plan back at once, through the same rollback
// annotation a person would set. The receipt time is noted first, so the recovery time the
// plan reports starts at the alert, not at the reconcile. The caller needs a bearer token (the
// authenticate middleware), and each plan is rolled back only if the caller may patch it.
import { z } from 'zod';
import { MigrationPlanStatus, Rollback, type Phase } from '../plan/schema';
import { AlertmanagerPayload, matchAlerts, type PlanMatcher } from '../steering/alerts';
import { requestRollback } from '../steering/requests';
import type { AppDeps } from './app';
import { callerOf } from './auth';
import { HttpError } from './errors';
import { authOf, operation, routeFactory } from './routes';
import { AlertsResult } from './schemas';

/** Phases an alert has nothing left to do in: already rolling back, rolled back, or done. */
const SETTLED: ReadonlySet<Phase> = new Set(['RollingBack', 'RolledBack', 'Succeeded']);

/** The fields of a cached plan an alert reads. Only the rollback block of the spec is parsed
 * (below), so a plan whose spec broke elsewhere still rolls back. */
const CachedPlan = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string() }),
  spec: z.looseObject({ rollback: z.unknown().optional() }).optional(),
  status: z.unknown().optional(),
});

/** From the controller's plan cache: listing every plan from the API server per alert cost a
 * 3 MB read each time (1,000 posts took 55 s). */
function alertablePlans(deps: AppDeps): PlanMatcher[] {
  const plans: PlanMatcher[] = [];
  for (const item of deps.controller.cachedPlans()) {
    const cached = CachedPlan.safeParse(item);
    if (!cached.success) continue;
    const { metadata, spec, status } = cached.data;
    if (deps.namespace !== undefined && metadata.namespace !== deps.namespace) continue;
    const rollback = Rollback.safeParse(spec?.rollback ?? {});
    const matchLabels = rollback.success ? rollback.data.alertmanager?.matchLabels : undefined;
    if (!matchLabels) continue;
    const phase = MigrationPlanStatus.safeParse(status ?? {}).data?.phase;
    if (phase && SETTLED.has(phase)) continue;
    plans.push({ namespace: metadata.namespace, name: metadata.name, matchLabels });
  }
  return plans;
}

const alerts = operation({
  spec: {
    method: 'post',
    path: '/alerts',
    operationId: 'postAlerts',
    summary: 'Alertmanager webhook: a firing alert rolls back the plans it matches',
    description:
      'Alertmanager\'s webhook payload (version 4). A firing alert whose labels carry every one of a plan\'s spec.rollback.alertmanager.matchLabels rolls that plan back at once. ' +
      'Needs a bearer token (Alertmanager\'s http_config.authorization with a ServiceAccount token file); a matched plan is rolled back only when the caller may patch it, and reported in `skipped` otherwise.',
    tags: ['alerts'],
    body: AlertmanagerPayload,
    responses: {
      200: { description: 'The plans rolled back, and those skipped because the caller may not patch them.', schema: AlertsResult },
    },
  },
  async handle(deps, { body, res }) {
    const receivedAt = (deps.now ?? Date.now)();
    // An empty cache would match nothing and answer 200, and Alertmanager does not resend an
    // alert it delivered; a 503 makes it retry once the cache has synced.
    if (!deps.ready()) throw new HttpError(503, 'the plan cache has not synced yet; retry later', { reason: 'ServiceUnavailable' });
    const matches = matchAlerts(body, alertablePlans(deps));
    // Every permission is asked before anything is written: when one cannot be checked (503),
    // Alertmanager sends the batch again and nothing was half done.
    const auth = authOf(deps);
    const caller = callerOf(res);
    const permitted = await Promise.all(matches.map((m) => auth.allowed(caller, { verb: 'patch', namespace: m.namespace, name: m.name })));
    const skipped = matches.filter((_m, i) => !permitted[i]).map((m) => ({ namespace: m.namespace, name: m.name, reason: 'Forbidden' as const }));
    for (const s of skipped) deps.log?.warn('alert matches a plan its sender may not patch: not rolled back', { plan: s.name, namespace: s.namespace, user: caller?.username });
    const rolledBack = await Promise.all(
      matches
        .filter((_m, i) => permitted[i])
        .map(async (m) => {
          const plan = { namespace: m.namespace, name: m.name };
          // From the cache, the write skips a read; a stale copy costs a 409 and a read.
          const cached = deps.controller.planFeed(plan).current();
          const { value, object, written } = await requestRollback(deps.kube, plan, m.reason, new Date(receivedAt), (v) => deps.controller.noteRequest(plan, 'rollback', v, receivedAt), cached);
          deps.controller.enqueue(plan, { urgent: true, ...(written ? { written: object } : {}) });
          deps.log?.warn('alert rolls back plan', { plan: m.name, namespace: m.namespace, reason: value });
          return { namespace: m.namespace, name: m.name, reason: value };
        }),
    );
    return { status: 200, body: { rolledBack, skipped, alerts: body.alerts.length } };
  },
});

/** POST /alerts. */
export const alertRoutes = routeFactory([alerts]);
