// POST /api/v1/alerts: Alertmanager's webhook. A firing alert whose labels carry a plan's
// rollback.alertmanager.matchLabels rolls that plan back at once, through the same rollback
// annotation a person would set. The receipt time is noted first, so the recovery time the
// plan reports starts at the alert, not at the reconcile.
import { Router } from 'express';
import { formatPath } from '../plan/validate';
import { MigrationPlanStatus, PLURAL, GROUP, Rollback, VERSION, type Phase } from '../plan/schema';
import { AlertmanagerPayload, matchAlerts, type PlanMatcher } from '../steering/alerts';
import { requestRollback } from '../steering/requests';
import type { AppDeps } from './app';
import { HttpError } from './errors';

/** Phases an alert has nothing left to do in: already rolling back, rolled back, or done. */
const SETTLED: ReadonlySet<Phase> = new Set(['RollingBack', 'RolledBack', 'Succeeded']);

async function alertablePlans(deps: AppDeps): Promise<PlanMatcher[]> {
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, ...(deps.namespace ? { namespace: deps.namespace } : {}) };
  const { items } = await deps.kube.list(ref);
  const plans: PlanMatcher[] = [];
  for (const item of items) {
    const meta = item['metadata'] as { name?: string; namespace?: string } | undefined;
    // Only the rollback block is read, so a plan whose spec broke elsewhere still rolls back.
    const rollback = Rollback.safeParse((item['spec'] as { rollback?: unknown } | undefined)?.rollback ?? {});
    const matchLabels = rollback.success ? rollback.data.alertmanager?.matchLabels : undefined;
    if (!meta?.name || !meta.namespace || !matchLabels) continue;
    const phase = MigrationPlanStatus.safeParse(item['status'] ?? {}).data?.phase;
    if (phase && SETTLED.has(phase)) continue;
    plans.push({ namespace: meta.namespace, name: meta.name, matchLabels });
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
    const matches = matchAlerts(parsed.data, await alertablePlans(deps));
    const rolledBack = await Promise.all(
      matches.map(async (m) => {
        const plan = { namespace: m.namespace, name: m.name };
        const { value } = await requestRollback(deps.kube, plan, m.reason, new Date(receivedAt), (v) => deps.controller.noteRequest(plan, 'rollback', v, receivedAt));
        deps.controller.enqueue(plan);
        deps.log?.warn('alert rolls back plan', { plan: m.name, namespace: m.namespace, reason: value });
        return { namespace: m.namespace, name: m.name, reason: value };
      }),
    );
    res.json({ rolledBack, alerts: parsed.data.alerts.length });
  });
  return router;
}
