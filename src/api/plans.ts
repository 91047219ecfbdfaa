// The steering API under /api/v1: list and read plans, and pause, resume, promote, roll back and
// retry one. Plans are read from the controller's cache (its one watch of plans); nothing lists
// them from the API server per request. Every steering route ends in exactly the patch kubectl
// would write (src/steering/requests.ts) and answers with the plan's view and whether it wrote.
//
// The cache can lag the API server by a watch event. It is trusted to say that a write is needed
// (the writes are idempotent merge patches), but an answer that writes nothing (the plan is
// already paused, a promote is already pending, a 409) is confirmed against the API server first,
// so a pause sent right after a resume is never mistaken for a repeat.
import type { Response } from 'express';
import { isHandled } from '../engine/bounds';
import { ACTIVE_PHASES } from '../engine/steps';
import type { KubeObject } from '../kube';
import { InvalidDuration, formatDuration, parseDuration } from '../plan/duration';
import { planRefOf, type PlanRef } from '../plan/ref';
import { MigrationPlanStatus, ObjectMeta, REQUEST_ANNOTATIONS, type Phase } from '../plan/schema';
import { getPlan, requestPromote, requestRetry, setPaused } from '../steering/requests';
import { rollBackAndWait } from '../steering/rollback';
import { NotAPlan, planView, readTargetWeights, type PlanView } from '../steering/view';
import type { AppDeps } from './app';
import { HttpError } from './errors';
import { InvalidSelector, matchesLabels, parseLabelSelector } from './labelSelector';
import { operation, routeFactory, type Reply, type RouteSpec } from './routes';
import {
  ListQuery,
  MAX_WAIT_MS,
  PlanList,
  PlanParams,
  PlanViewSchema,
  RollbackBody,
  RollbackQuery,
  RollbackResult,
  SteeringResult,
  TimeoutBody,
} from './schemas';

const PLAN_PATH = '/namespaces/:namespace/plans/:name';

function statusOf(obj: KubeObject | undefined): MigrationPlanStatus {
  const parsed = MigrationPlanStatus.safeParse(obj?.['status'] ?? {});
  return parsed.success ? parsed.data : {};
}

function phaseOf(obj: KubeObject): Phase {
  return statusOf(obj).phase ?? 'Pending';
}

function describe(plan: PlanRef): string {
  return `migrationplan ${plan.namespace}/${plan.name}`;
}

/** The plan as the cache has it, else as the API server does (a plan created a moment ago);
 * 404 when neither has it or the controller does not watch its namespace. */
export function requireWatched(deps: AppDeps, plan: PlanRef): void {
  if (deps.namespace !== undefined && plan.namespace !== deps.namespace) {
    throw new HttpError(404, `${describe(plan)} not found: this controller watches namespace "${deps.namespace}" only`);
  }
}

export async function loadPlan(deps: AppDeps, plan: PlanRef): Promise<{ object: KubeObject; cached: boolean }> {
  requireWatched(deps, plan);
  const cached = deps.controller.planFeed(plan).current();
  if (cached !== undefined) return { object: cached, cached: true };
  return { object: await getPlan(deps.kube, plan), cached: false };
}

type Decision = { kind: 'write'; write: () => Promise<KubeObject> } | { kind: 'same' } | { kind: 'refuse'; error: HttpError };

/** Decides on the plan as cached, confirms any answer that writes nothing against the API
 * server, writes when needed and asks the controller to reconcile at once. */
async function steer(deps: AppDeps, plan: PlanRef, decide: (obj: KubeObject) => Decision): Promise<Reply> {
  const loaded = await loadPlan(deps, plan);
  let object = loaded.object;
  let decision = decide(object);
  if (decision.kind !== 'write' && loaded.cached) {
    object = await getPlan(deps.kube, plan);
    decision = decide(object);
  }
  if (decision.kind === 'refuse') throw decision.error;
  if (decision.kind === 'same') return { status: 200, body: { plan: planView(object), changed: false } };
  const written = await decision.write();
  deps.controller.enqueue(plan, { written });
  return { status: 200, body: { plan: planView(written), changed: true } };
}

function isPaused(obj: KubeObject): boolean {
  return (obj['spec'] as { paused?: unknown } | undefined)?.paused === true;
}

function pending(obj: KubeObject, kind: 'promote' | 'retry' | 'rollback'): boolean {
  const annotations = ObjectMeta.safeParse(obj['metadata']).data?.annotations ?? {};
  const value = annotations[REQUEST_ANNOTATIONS[kind]];
  return value !== undefined && !isHandled(value, statusOf(obj).handledRequests?.[kind]);
}

function planRef(params: PlanParams): PlanRef {
  return { namespace: params.namespace, name: params.name };
}

function parseWait(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    if (error instanceof InvalidDuration) throw new HttpError(400, `invalid query parameter: wait: ${error.message}`, { field: 'wait' });
    throw error;
  }
  if (ms > MAX_WAIT_MS) throw new HttpError(400, `invalid query parameter: wait: at most ${formatDuration(MAX_WAIT_MS)}, got ${text}`, { field: 'wait' });
  return ms;
}

/** Aborts once the caller hung up, so a ?wait that nobody awaits any more stops waiting. */
function whileConnected(res: Response): AbortSignal {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  return abort.signal;
}

const TAGS = ['plans'];
const NOT_FOUND = { description: 'No such plan (or not in the namespace this controller watches).' };
const STEERED = { description: 'The plan\'s view after the request; `changed: false` when it already was as asked and nothing was written.', schema: SteeringResult };

const list = operation({
  spec: {
    method: 'get',
    path: '/plans',
    operationId: 'listPlans',
    summary: 'List plans',
    description: 'Summary views from the controller\'s cache (weights as the status says; no live target reads), sorted by namespace and name. Authorized as `list` on migrationplans in ?namespace (or across the cluster).',
    tags: TAGS,
    query: ListQuery,
    verb: 'list',
    responses: { 200: { description: 'The plans.', schema: PlanList } },
  },
  // With no ?namespace the list spans what the controller watches: every namespace, or its one.
  access: ({ query }, deps) => ({ verb: 'list', namespace: query.namespace || deps.namespace || '' }),
  async handle(deps, { query }) {
    let selector;
    try {
      selector = parseLabelSelector(query.labelSelector ?? '');
    } catch (error) {
      if (error instanceof InvalidSelector) throw new HttpError(400, `invalid query parameter: labelSelector: ${error.message}`, { field: 'labelSelector' });
      throw error;
    }
    if (!deps.ready()) throw new HttpError(503, 'the plan cache has not synced yet; retry in a moment', { reason: 'ServiceUnavailable' });
    const items: PlanView[] = [];
    for (const obj of deps.controller.cachedPlans()) {
      const ref = planRefOf(obj);
      if (!ref) continue;
      if (deps.namespace !== undefined && ref.namespace !== deps.namespace) continue;
      if (query.namespace && ref.namespace !== query.namespace) continue;
      if (!matchesLabels(selector, ObjectMeta.safeParse(obj.metadata).data?.labels ?? {})) continue;
      try {
        items.push(planView(obj as unknown as KubeObject));
      } catch (error) {
        if (!(error instanceof NotAPlan)) throw error;
      }
    }
    items.sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1));
    return { status: 200, body: { items } };
  },
});

const detail = operation({
  spec: {
    method: 'get',
    path: PLAN_PATH,
    operationId: 'getPlan',
    summary: 'One plan, with the live weight of each target',
    tags: TAGS,
    params: PlanParams,
    verb: 'get',
    responses: { 200: { description: 'The plan\'s view; each target\'s weight read live from its object.', schema: PlanViewSchema }, 404: NOT_FOUND },
  },
  access: ({ params }) => ({ verb: 'get', ...params }),
  async handle(deps, { params }) {
    const { object } = await loadPlan(deps, planRef(params));
    const live = await readTargetWeights(deps.kube, object);
    return { status: 200, body: planView(object, live) };
  },
});

function pauseOperation(paused: boolean): ReturnType<typeof operation> {
  const verb = paused ? 'pause' : 'resume';
  return operation({
    spec: {
      method: 'post',
      path: `${PLAN_PATH}/${verb}`,
      operationId: `${verb}Plan`,
      summary: paused ? 'Pause: hold the current weight (spec.paused: true)' : 'Resume a paused plan (spec.paused: false)',
      description: `The same merge patch as \`kubectl patch mp NAME --type merge -p '{"spec":{"paused":${String(paused)}}}'\`. Already ${paused ? 'paused' : 'not paused'}: 200 with no write.`,
      tags: TAGS,
      params: PlanParams,
      verb: 'patch',
      responses: { 200: STEERED, 404: NOT_FOUND },
    },
    access: ({ params }) => ({ verb: 'patch', ...params }),
    handle: (deps, { params }) => {
      const plan = planRef(params);
      return steer(deps, plan, (obj) => (isPaused(obj) === paused ? { kind: 'same' } : { kind: 'write', write: () => setPaused(deps.kube, plan, paused) }));
    },
  });
}

const promote = operation({
  spec: {
    method: 'post',
    path: `${PLAN_PATH}/promote`,
    operationId: 'promotePlan',
    summary: 'Promote: waive the current step\'s pause (a promotion gate) and go on',
    description: `Sets the \`${REQUEST_ANNOTATIONS.promote}\` request annotation. A promote already pending: 200 with no write.`,
    tags: TAGS,
    params: PlanParams,
    verb: 'patch',
    responses: { 200: STEERED, 404: NOT_FOUND, 409: { description: `reason NotPromotable: the plan is not in ${ACTIVE_PHASES.join(', ')}; the controller would ignore the request.` } },
  },
  access: ({ params }) => ({ verb: 'patch', ...params }),
  handle: (deps, { params }) => {
    const plan = planRef(params);
    const now = deps.now ?? Date.now;
    return steer(deps, plan, (obj) => {
      const phase = phaseOf(obj);
      if (!ACTIVE_PHASES.includes(phase)) {
        return { kind: 'refuse', error: new HttpError(409, `${describe(plan)} is ${phase}: only a plan that is ${ACTIVE_PHASES.join(', ')} can be promoted`, { reason: 'NotPromotable' }) };
      }
      if (pending(obj, 'promote')) return { kind: 'same' };
      return { kind: 'write', write: async () => (await requestPromote(deps.kube, plan, new Date(now()))).object };
    });
  },
});

const retry = operation({
  spec: {
    method: 'post',
    path: `${PLAN_PATH}/retry`,
    operationId: 'retryPlan',
    summary: 'Retry a rolled-back or failed plan from its first step',
    description: `Sets the \`${REQUEST_ANNOTATIONS.retry}\` request annotation when the plan is RolledBack or Failed. A retry already pending, or a plan already running (Pending or active): 200 with no write.`,
    tags: TAGS,
    params: PlanParams,
    verb: 'patch',
    responses: { 200: STEERED, 404: NOT_FOUND, 409: { description: 'reason NotRetryable: the plan is RollingBack (retry once it is RolledBack) or Succeeded (final).' } },
  },
  access: ({ params }) => ({ verb: 'patch', ...params }),
  handle: (deps, { params }) => {
    const plan = planRef(params);
    const now = deps.now ?? Date.now;
    return steer(deps, plan, (obj) => {
      const phase = phaseOf(obj);
      if (phase === 'RollingBack') return { kind: 'refuse', error: new HttpError(409, `${describe(plan)} is RollingBack: retry once it is RolledBack`, { reason: 'NotRetryable' }) };
      if (phase === 'Succeeded') return { kind: 'refuse', error: new HttpError(409, `${describe(plan)} Succeeded, which is final: there is nothing to retry`, { reason: 'NotRetryable' }) };
      if (pending(obj, 'retry')) return { kind: 'same' };
      if (phase !== 'RolledBack' && phase !== 'Failed') return { kind: 'same' };
      return { kind: 'write', write: async () => (await requestRetry(deps.kube, plan, new Date(now()))).object };
    });
  },
});

const rollback = operation({
  spec: {
    method: 'post',
    path: `${PLAN_PATH}/rollback`,
    operationId: 'rollbackPlan',
    summary: 'Roll back: every target back to stable at once',
    description:
      `Sets the \`${REQUEST_ANNOTATIONS.rollback}\` request annotation with the reason, and the controller puts every target back on stable ahead of routine work. ` +
      'Without ?wait: 202 at once (200 when the plan already is RolledBack: nothing written). With ?wait=30s: 200 once every target holds 0, with recoverySeconds; 504 when the time is up, naming the targets still carrying traffic.',
    tags: TAGS,
    params: PlanParams,
    query: RollbackQuery,
    body: RollbackBody,
    verb: 'patch',
    responses: {
      200: { description: 'Rolled back: every target holds 0 (or the plan already was RolledBack).', schema: RollbackResult },
      202: { description: 'Requested (or already under way); not waited for.', schema: RollbackResult },
      404: NOT_FOUND,
      409: { description: 'reason NotRollbackable: the plan Succeeded, which is final.' },
      504: { description: 'reason Timeout: not rolled back within ?wait; `targets` names the targets still carrying traffic.', schema: TimeoutBody },
    },
  },
  access: ({ params }) => ({ verb: 'patch', ...params }),
  async handle(deps, { params, query, body, res }) {
    const now = deps.now ?? Date.now;
    const receivedAt = now();
    const waitMs = parseWait(query.wait);
    const plan = planRef(params);
    requireWatched(deps, plan);
    const feed = deps.controller.planFeed(plan);
    let written: KubeObject | undefined;
    const outcome = await rollBackAndWait(deps.kube, feed, plan, body.reason, {
      timeoutMs: waitMs,
      now: () => new Date(receivedAt),
      beforeWrite: (value) => deps.controller.noteRequest(plan, 'rollback', value, receivedAt),
      afterWrite: (object) => {
        written = object;
        deps.controller.enqueue(plan, { urgent: true, written: object });
      },
      signal: whileConnected(res),
    });
    const wrote = written !== undefined;
    switch (outcome.kind) {
      case 'refused':
        throw new HttpError(409, outcome.message, { reason: 'NotRollbackable' });
      case 'done': {
        const object = feed.current() ?? written ?? (await getPlan(deps.kube, plan));
        const rolledBack = { reason: outcome.reason, done: true, written: outcome.written, ...(outcome.recoverySeconds !== undefined ? { recoverySeconds: outcome.recoverySeconds } : {}) };
        return { status: 200, body: { plan: planView(object, outcome.targets), changed: outcome.written, rollback: rolledBack } };
      }
      case 'pending': {
        if (waitMs > 0) {
          const names = outcome.carrying.map((t) => t.target).join(', ');
          throw new HttpError(
            504,
            `${describe(plan)} is not rolled back after ${formatDuration(waitMs)} (phase ${outcome.phase}): ${outcome.carrying.length} target(s) still carry traffic${names ? `: ${names}` : ''}`,
            { reason: 'Timeout', targets: outcome.carrying },
          );
        }
        const object = written ?? feed.current() ?? (await getPlan(deps.kube, plan));
        return { status: 202, body: { plan: planView(object, outcome.targets), changed: wrote, rollback: { reason: outcome.reason, done: false, written: wrote } } };
      }
    }
  },
});

export const PLAN_OPERATIONS = [list, detail, pauseOperation(true), pauseOperation(false), promote, rollback, retry];

/** GET /plans, GET and POST /namespaces/{ns}/plans/{name}[/pause|resume|promote|rollback|retry]. */
export const planRoutes = routeFactory(PLAN_OPERATIONS);

/** For tests and the document: what each route declares. */
export const PLAN_ROUTE_SPECS: readonly RouteSpec[] = PLAN_OPERATIONS.map((o) => o.spec);
