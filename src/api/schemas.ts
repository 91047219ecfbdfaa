// The REST API's shapes, in zod: the routes parse their parameters and bodies with these, and
// /api/v1/openapi.json is generated from the very same objects, so the document cannot drift
// from what the routes accept and answer.
import { z } from 'zod';
import { MESSAGE_LIMIT } from '../engine/bounds';
import { CHECK_RESULTS, CheckStatus, Condition, HistoryEntry, HookStatus, PHASES, PROVIDERS, ReadinessStatus, RollbackStatus } from '../plan/schema';
import type { PlanView, TargetWeight } from '../steering/view';
import { AUTH_MODES } from './auth';
import { ErrorBody } from './errors';

// ---- path and query parameters ----

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const NamespaceName = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, 'must be a namespace name (a DNS label: lowercase a-z, 0-9 and "-")')
  .meta({ description: 'A namespace (a DNS label).' });

export const PlanName = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'must be a plan name (a DNS subdomain: lowercase a-z, 0-9, "-" and ".")')
  .meta({ description: 'The MigrationPlan\'s metadata.name.' });

export const PlanParams = z.object({ namespace: NamespaceName, name: PlanName });
export type PlanParams = z.infer<typeof PlanParams>;

export const ListQuery = z.object({
  namespace: NamespaceName.or(z.literal(''))
    .optional()
    .meta({ description: 'Only plans in this namespace (empty or absent: every namespace the controller watches).' }),
  labelSelector: z
    .string()
    .optional()
    .meta({ description: 'A Kubernetes label selector: `a=b`, `a==b`, `a!=b`, `a in (b,c)`, `a notin (b,c)`, `a`, `!a`, comma-separated (all must match).' }),
});

/** The longest `?wait=` a rollback may ask for: a request held longer outlives most proxies. */
export const MAX_WAIT_MS = 5 * 60_000;

export const RollbackQuery = z.object({
  wait: z
    .string()
    .regex(/^(|0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/, 'must be a duration such as 30s, 1m30s or 2m')
    .optional()
    .meta({ description: 'Answer only once every target holds 0 (200), or when this much time has passed (504): a Go-style duration such as `30s` or `1m30s`, at most `5m`. Without it the answer comes at once (202).' }),
});

// ---- request bodies ----

export const RollbackBody = z
  .strictObject({
    reason: z
      .string({ error: 'must be a string saying why the plan is rolled back' })
      .trim()
      .min(1, 'must not be empty: say why the plan is rolled back')
      .max(MESSAGE_LIMIT, `must be at most ${MESSAGE_LIMIT} characters`)
      .meta({ description: 'Why: shown in the plan\'s status, its events and notifications.' }),
  })
  .meta({ description: 'What a rollback request carries.' });

/** The body a route that takes none accepts: nothing, or `{}`. */
export const NoBody = z.strictObject({}).optional();

// ---- answers ----

export const TargetWeightSchema = z
  .object({
    target: z.string().meta({ description: 'What a person finds with kubectl, e.g. `gatewayAPI HTTPRoute shop/checkout`.' }),
    provider: z.enum(PROVIDERS),
    weight: z.number().nullable().meta({ description: 'The canary weight the target holds; null when it could not be read.' }),
    problem: z.string().optional().meta({ description: 'Why the weight could not be read.' }),
  })
  .meta({ description: 'One traffic target and the canary weight it holds.' });

export const PlanViewSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    phase: z.enum(PHASES),
    paused: z.boolean(),
    step: z.object({
      number: z.number().int().meta({ description: '1-based; 0 before the first step.' }),
      count: z.number().int(),
      label: z.string(),
      weight: z.number().nullable(),
      promotionGate: z.boolean(),
    }),
    canaryWeight: z.number().meta({ description: 'The weight the status says the targets hold.' }),
    targets: z.array(TargetWeightSchema).meta({ description: 'Each target\'s weight: live where the answer read it, else the status\'s.' }),
    checks: z.array(CheckStatus),
    hooks: z.array(HookStatus).meta({ description: 'The latest result of each hook run (spec.hooks), newest last.' }),
    lastRound: z.object({ at: z.string(), verdict: z.string(), message: z.string().optional() }).optional(),
    events: z.array(HistoryEntry).meta({ description: 'The last events, newest last.' }),
    rollback: RollbackStatus.optional(),
    readiness: ReadinessStatus.optional().meta({ description: 'What the readiness gate last saw of the canary backends: ready and required endpoints per backend Service.' }),
    pendingRequests: z
      .object({ rollback: z.string().optional(), promote: z.string().optional(), retry: z.string().optional() })
      .meta({ description: 'Requests written but not handled by the controller yet.' }),
    conditions: z.array(Condition),
    specError: z.string().optional().meta({ description: 'The spec does not parse: the plan stands still until it is fixed.' }),
    generation: z.number().int().optional(),
    observedGeneration: z.number().int().optional(),
    createdAt: z.string().optional(),
  })
  .meta({ description: 'A plan as people look at it: phase, step, weight per target, checks with their values, the last events.' });

// The view is declared once as a TypeScript type (src/steering/view.ts) and once here; these two
// lines stop the build when they drift apart.
const _viewFitsSchema: z.infer<typeof PlanViewSchema> = {} as PlanView;
const _schemaFitsView: PlanView = {} as z.infer<typeof PlanViewSchema>;
const _targetFitsSchema: z.infer<typeof TargetWeightSchema> = {} as TargetWeight;
void [_viewFitsSchema, _schemaFitsView, _targetFitsSchema];

export const PlanList = z.object({ items: z.array(PlanViewSchema).meta({ description: 'Sorted by namespace, then name.' }) });

export const SteeringResult = z.object({
  plan: PlanViewSchema,
  changed: z.boolean().meta({ description: 'false when the plan already was as asked and nothing was written.' }),
});

export const RollbackResult = SteeringResult.extend({
  rollback: z.object({
    reason: z.string(),
    done: z.boolean().meta({ description: 'Every target holds 0 and the plan is RolledBack.' }),
    written: z.boolean().meta({ description: 'Whether this request wrote the rollback request (false when one was already under way or done).' }),
    recoverySeconds: z.number().optional().meta({ description: 'From the request to every target at 0.' }),
  }),
});

export const TimeoutBody = ErrorBody.extend({
  targets: z.array(TargetWeightSchema).meta({ description: 'The targets that still carry canary traffic (or could not be read).' }),
}).meta({ description: 'A rollback that did not finish within ?wait: the error shape, plus the targets still carrying traffic.' });

export const AlertsResult = z.object({
  rolledBack: z.array(z.object({ namespace: z.string(), name: z.string(), reason: z.string() })),
  skipped: z
    .array(z.object({ namespace: z.string(), name: z.string(), reason: z.literal('Forbidden') }))
    .meta({ description: 'Plans an alert matched that the caller may not patch: not rolled back.' }),
  alerts: z.number().int(),
});

export const StreamQuery = ListQuery.pick({ namespace: true });

export const Info = z.object({
  version: z.string().meta({ description: 'The controller\'s version.' }),
  authMode: z.enum(AUTH_MODES).meta({ description: '`none`: the controller runs with --auth=none and checks no token (the dashboard shows a banner).' }),
});

const Instant = z.string().meta({ description: 'An RFC 3339 time.' });

export const Timeline = z.object({
  plan: PlanViewSchema,
  specYaml: z.string().meta({ description: 'The plan\'s spec as YAML.' }),
  weights: z
    .array(z.object({ at: Instant, weight: z.number(), event: z.string(), message: z.string() }))
    .meta({ description: 'The canary weight at each event of status.history (Started, StepAdvanced, RollingBack, RolledBack...), oldest first.' }),
  checks: z.array(
    z.object({
      name: z.string(),
      threshold: z.object({ min: z.number().optional(), max: z.number().optional() }).meta({ description: 'The bounds the check holds its value to; none for a webhook check.' }),
      points: z
        .array(z.object({ at: Instant, value: z.number().nullable(), result: z.enum(CHECK_RESULTS) }))
        .meta({ description: 'Oldest first: the values this replica measured (at most 720), else the latest status value.' }),
    }),
  ),
  rollback: z
    .object({ triggeredAt: Instant, completedAt: Instant.optional(), recoverySeconds: z.number().optional(), rtoSeconds: z.number().optional() })
    .optional()
    .meta({ description: 'The latest rollback: when it was triggered and completed, how long recovery took, and the plan\'s RTO (spec.rollback.rto).' }),
  note: z.string().optional().meta({ description: 'Present when this replica has no recent check values for the plan and the points are the status\'s latest only.' }),
});

/** Schemas the OpenAPI document names under components.schemas; others are inlined. */
export const NAMED_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['Error', ErrorBody],
  ['TimeoutError', TimeoutBody],
  ['PlanView', PlanViewSchema],
  ['TargetWeight', TargetWeightSchema],
  ['PlanList', PlanList],
  ['SteeringResult', SteeringResult],
  ['RollbackResult', RollbackResult],
  ['AlertsResult', AlertsResult],
  ['Timeline', Timeline],
  ['Info', Info],
  ['CheckStatus', CheckStatus],
  ['HistoryEntry', HistoryEntry],
  ['Condition', Condition],
  ['RollbackStatus', RollbackStatus],
];
