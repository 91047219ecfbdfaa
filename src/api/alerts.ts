// POST /api/v1/alerts: Alertmanager's webhook. A firing alert whose labels carry a plan's
// rollback.alertmanager.matchLabels rolls that plan back at once, through the same rollback
// annotation a person would set. The receipt time is noted first, so the recovery time the
// plan reports starts at the alert, not at the reconcile.
import { Router } from 'express';
import { z } from 'zod';
import { formatPath } from '../plan/validate';
import { MigrationPlanStatus, Rollback, type Phase } from '../plan/schema';
import { AlertmanagerPayload, matchAlerts, type PlanMatcher } from '../steering/alerts';
import { requestRollback } from '../steering/requests';
import type { AppDeps } from './app';
import { HttpError } from './errors';

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

export function alertRoutes(deps: AppDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  router.post('/alerts', async (req, res) => {
    const receivedAt = now();
    const parsed = AlertmanagerPayload.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue ? formatPath(issue.path) || '(body)' : '(body)';
      throw new HttpError(400, `not an Alertmanager webhook payload: ${field}: ${issue?.message ?? 'invalid'}`, { field });
    }
    // An empty cache would match nothing and answer 200, and Alertmanager does not resend an
    // alert it delivered; a 503 makes it retry once the cache has synced.
    if (!deps.ready()) throw new HttpError(503, 'the plan cache has not synced yet; retry later');
    const matches = matchAlerts(parsed.data, alertablePlans(deps));
    const rolledBack = await Promise.all(
      matches.map(async (m) => {
        const plan = { namespace: m.namespace, name: m.name };
        const { value } = await requestRollback(deps.kube, plan, m.reason, new Date(receivedAt), (v) => deps.controller.noteRequest(plan, 'rollback', v, receivedAt));
        deps.controller.enqueue(plan, { urgent: true });
        deps.log?.warn('alert rolls back plan', { plan: m.name, namespace: m.namespace, reason: value });
        return { namespace: m.namespace, name: m.name, reason: value };
      }),
    );
    res.json({ rolledBack, alerts: parsed.data.alerts.length });
  });
  return router;
}
