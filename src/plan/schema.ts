// The MigrationPlan resource: the one definition. The CRD in manifests/ is generated from these
// schemas (src/plan/crd.ts), and every boundary (watch events, REST bodies, `validate`) parses
// through them. Cross-field rules live here, not in CEL: API servers before v1.25 ignore
// x-kubernetes-validations, so zod is the only place they are enforced.
import { z } from 'zod';
import { formatDuration, isDuration, parseDuration } from './duration';

export const GROUP = 'trafficshift.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'MigrationPlan';
export const PLURAL = 'migrationplans';
export const SHORT_NAME = 'mp';

/** Annotations through which people (REST, CLI, kubectl) ask for one-off actions. A request is
 * pending while its value differs from the value recorded in status.handledRequests, so a
 * GitOps tool that keeps the annotation in its manifest does not re-trigger it. */
export const REQUEST_ANNOTATIONS = {
  promote: `${GROUP}/promote`,
  rollback: `${GROUP}/rollback`,
  retry: `${GROUP}/retry`,
} as const;
export type RequestKind = keyof typeof REQUEST_ANNOTATIONS;
export const REQUEST_KINDS: readonly RequestKind[] = ['rollback', 'promote', 'retry'];

export const FINALIZER = `${GROUP}/restore-stable`;

const nonEmpty = z.string().min(1, 'must not be empty');
const objectName = z
  .string()
  .min(1, 'must not be empty')
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name (a-z, 0-9, "-", ".")');

const DURATION_SPELLING = 'must be a duration such as 30s, 1m30s or 2h';

/** A Go-style duration between `minMs` and `maxMs`, both inclusive, each with its own error. */
function durationBetween(minMs: number, maxMs: number): z.ZodString {
  return z.string().superRefine((text, ctx) => {
    if (!isDuration(text)) {
      ctx.addIssue({ code: 'custom', message: DURATION_SPELLING });
      return;
    }
    const ms = parseDuration(text);
    if (ms < minMs) ctx.addIssue({ code: 'custom', message: `must be at least ${formatDuration(minMs)}` });
    else if (ms > maxMs) ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(maxMs)}` });
  });
}

const HOUR_MS = 3_600_000;
/** The longest wait a plan may ask for: pauses, bake time and RTO. A year is past any real
 * migration, and keeps every time the engine computes far inside what a Date can hold. */
export const MAX_WAIT_MS = 8760 * HOUR_MS;
/** Analysis rounds: at least 1s apart (Prometheus scrapes are seconds apart), at most a day. */
export const INTERVAL_RANGE_MS = { min: 1000, max: 24 * HOUR_MS } as const;
/** A check's or a hook's timeout: 0s would always time out; past 5m a round would stall the plan. */
export const TIMEOUT_RANGE_MS = { min: 100, max: 5 * 60_000 } as const;

export const Duration = durationBetween(0, MAX_WAIT_MS);
const Interval = durationBetween(INTERVAL_RANGE_MS.min, INTERVAL_RANGE_MS.max);
const Timeout = durationBetween(TIMEOUT_RANGE_MS.min, TIMEOUT_RANGE_MS.max);

/** `pause: {}` is a promotion gate: the step waits for a person. */
export const PromotionGate = z.strictObject({});
export const Pause = z.union([Duration, PromotionGate]);

export const Step = z.strictObject({
  weight: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100'),
  pause: Pause.optional(),
});

const labelMap = z.record(z.string(), z.string());

export const NginxTarget = z.strictObject({ ingress: objectName, canaryIngress: objectName });
export const GatewayApiTarget = z.strictObject({
  httpRoute: objectName,
  stableBackend: objectName,
  canaryBackend: objectName,
});
export const IstioDestination = z.strictObject({
  host: nonEmpty,
  subset: nonEmpty.optional(),
  port: z.number().int().min(1).max(65535).optional(),
});
export const IstioTarget = z.strictObject({
  virtualService: objectName,
  route: nonEmpty,
  stableDestination: IstioDestination,
  canaryDestination: IstioDestination,
});
export const SmiTarget = z.strictObject({
  trafficSplit: objectName,
  stableBackend: objectName,
  canaryBackend: objectName,
});
export const ServiceTarget = z.strictObject({
  name: objectName,
  stableSelector: labelMap.refine((m) => Object.keys(m).length > 0, 'must have at least one label'),
  canarySelector: labelMap.refine((m) => Object.keys(m).length > 0, 'must have at least one label'),
});

export const PROVIDERS = ['nginx', 'gatewayAPI', 'istio', 'smi', 'service'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const Target = z
  .strictObject({
    provider: z.enum(PROVIDERS),
    nginx: NginxTarget.optional(),
    gatewayAPI: GatewayApiTarget.optional(),
    istio: IstioTarget.optional(),
    smi: SmiTarget.optional(),
    service: ServiceTarget.optional(),
  })
  .superRefine((t, ctx) => {
    const blocks = PROVIDERS.filter((p) => t[p] !== undefined);
    if (!blocks.includes(t.provider)) {
      ctx.addIssue({ code: 'custom', path: [t.provider], message: `provider is ${t.provider}, so the ${t.provider} block is required` });
    }
    for (const other of blocks.filter((p) => p !== t.provider)) {
      ctx.addIssue({ code: 'custom', path: [other], message: `provider is ${t.provider}; remove the ${other} block` });
    }
  });

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export const TEMPLATES = ['error-rate', 'latency-p99'] as const;

const SecretKeyRef = z.strictObject({ name: objectName, key: nonEmpty });
const headerMap = z.record(z.string(), z.string());

export const Webhook = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  timeout: Timeout.optional(),
  headers: headerMap.optional(),
});

/** When a hook runs: before a step's weight is written, once a step's weight landed, once
 * after a rollback landed, once after the plan succeeded. */
export const HOOK_WHENS = ['beforeStep', 'afterStep', 'afterRollback', 'afterSuccess'] as const;
export type HookWhen = (typeof HOOK_WHENS)[number];
/** The most calls a hook gets after its first, within one run. */
export const MAX_HOOK_RETRIES = 5;

export const Hook = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-"').max(63),
  when: z.enum(HOOK_WHENS),
  webhook: Webhook,
  retries: z
    .number()
    .int()
    .min(0)
    .max(MAX_HOOK_RETRIES, `must be at most ${MAX_HOOK_RETRIES}`)
    .default(2)
    .describe('Calls after a failed first one (a non-2xx answer, a timeout, a refused connection), 1s, 2s, 4s... apart. Default 2.'),
});

export const Check = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-"').max(63),
    query: nonEmpty.optional(),
    stableQuery: nonEmpty
      .describe('For a query check: the same measurement for the stable backend, run by rollback.validation after a rollback. A query check without it is left out of the validation: a canary query says nothing about stable.')
      .optional(),
    template: z.enum(TEMPLATES).optional(),
    webhook: Webhook.optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    severity: z.enum(SEVERITIES).default('critical'),
    failureLimit: z.number().int().min(1, 'must be at least 1').default(1),
  })
  .superRefine((c, ctx) => {
    const metric = c.query !== undefined || c.template !== undefined;
    if (!metric && c.webhook === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs one of query, template or webhook' });
    }
    if (metric && c.webhook !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'a check is either a metric (query/template) or a webhook, not both' });
    }
    if (metric && c.min === undefined && c.max === undefined) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'a metric check needs min or max' });
    }
    if (c.stableQuery !== undefined && c.query === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stableQuery'], message: 'only a query check takes stableQuery (templates expand for the stable side themselves)' });
    }
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min ${c.min} is above max ${c.max}` });
    }
  });

export const PrometheusSource = z.strictObject({
  address: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  timeout: Timeout.optional(),
  headers: headerMap.optional(),
  bearerTokenFrom: z.strictObject({ secretKeyRef: SecretKeyRef }).optional(),
  basicAuthFrom: z.strictObject({ secretRef: z.strictObject({ name: objectName }) }).optional(),
  // Absent means false: credentials go over plain http only to in-cluster or loopback hosts.
  allowCredentialsOverHttp: z
    .boolean()
    .describe('Send bearerTokenFrom or basicAuthFrom credentials even over plain http to a host outside the cluster, where anyone on the path can read them. Default false.')
    .optional(),
});

export const Analysis = z.strictObject({
  interval: Interval.default('30s'),
  prometheus: PrometheusSource.optional(),
  checks: z.array(Check).default([]),
  noData: z.enum(['hold', 'fail']).default('hold'),
});

/** At least one analysis interval's worth: a validation measures the stable side's traffic. */
export const RollbackValidation = z.strictObject({
  duration: durationBetween(INTERVAL_RANGE_MS.min, MAX_WAIT_MS).describe(
    "How long, after RolledBack, the plan's analysis checks run against the stable backend (at analysis.interval) to confirm it serves all traffic well; the result is status.rollback.validation.",
  ),
});

export const Rollback = z.strictObject({
  automatic: z.boolean().default(true),
  rto: Duration.optional(),
  validation: RollbackValidation.optional(),
  alertmanager: z
    .strictObject({
      matchLabels: labelMap.refine((m) => Object.keys(m).length > 0, 'must name at least one label'),
    })
    .optional(),
});

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');

export const ChangeWindow = z
  .strictObject({ days: z.array(z.enum(WEEKDAYS)).min(1, 'must name at least one day'), start: clock, end: clock })
  .refine((w) => w.start !== w.end, { path: ['end'], message: 'must differ from start' });

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const Schedule = z.strictObject({
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
  windows: z.array(ChangeWindow).min(1, 'must have at least one window'),
});

export const NOTIFICATION_EVENTS = [
  'Started',
  'StepAdvanced',
  'Holding',
  'Paused',
  'Resumed',
  'WaitingForPromotion',
  'RollingBack',
  'RolledBack',
  'Succeeded',
  'Failed',
  'Retrying',
  // The rollback completed slower than spec.rollback.rto.
  'RtoMissed',
  // A summary sent every `every` while the plan runs; only to notifications that set `every`.
  'Progress',
  'RollbackValidationFailed',
  'RollbackValidated',
  'StableNotReady',
] as const;

export const NOTIFICATION_FORMATS = ['slack', 'teams', 'pagerduty', 'json'] as const;
export type NotificationFormat = (typeof NOTIFICATION_FORMATS)[number];

/** PagerDuty opens (or updates) an incident on these, at this severity... */
export const PAGERDUTY_TRIGGERS: Readonly<Partial<Record<(typeof NOTIFICATION_EVENTS)[number], 'critical' | 'error' | 'warning'>>> = {
  RollingBack: 'error',
  RolledBack: 'error',
  RtoMissed: 'critical',
  RollbackValidationFailed: 'critical',
  StableNotReady: 'critical',
  Failed: 'error',
  Holding: 'warning',
};
/** ...and resolves it on these: the plan went through, or a person started it again. */
export const PAGERDUTY_RESOLVES: ReadonlyArray<(typeof NOTIFICATION_EVENTS)[number]> = ['Succeeded', 'Retrying'];

/** Progress summaries no more often than once a minute: a chat channel is not a log. */
const ProgressInterval = durationBetween(60_000, MAX_WAIT_MS);

export const Notification = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    urlFrom: z.strictObject({ secretKeyRef: SecretKeyRef }).optional(),
    format: z
      .enum(NOTIFICATION_FORMATS)
      .default('slack')
      .describe('The body posted: slack (Block Kit with a text fallback; Mattermost and most chat webhooks read the text), teams (an Office 365 connector MessageCard), pagerduty (Events API v2; needs routingKeyFrom) or json (trafficshift.io/notification/v1).'),
    routingKeyFrom: z
      .strictObject({ secretKeyRef: SecretKeyRef })
      .describe('format pagerduty only: the Secret key holding the Events API v2 integration (routing) key.')
      .optional(),
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1, 'must name at least one event'),
    every: ProgressInterval.describe('Also send a Progress summary this often while the plan runs (Pending, Progressing, Paused, Holding, WaitingForPromotion); at least 1m.').optional(),
  })
  .superRefine((n, ctx) => {
    if ((n.url === undefined) === (n.urlFrom === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'needs exactly one of url or urlFrom' });
    if (n.format === 'pagerduty') {
      if (n.routingKeyFrom === undefined) ctx.addIssue({ code: 'custom', path: ['routingKeyFrom'], message: 'format pagerduty needs routingKeyFrom' });
      if (n.every !== undefined) ctx.addIssue({ code: 'custom', path: ['every'], message: 'format pagerduty opens and resolves incidents; progress summaries go to a chat format' });
      n.events.forEach((event, i) => {
        if (PAGERDUTY_TRIGGERS[event] === undefined && !PAGERDUTY_RESOLVES.includes(event)) {
          ctx.addIssue({
            code: 'custom',
            path: ['events', i],
            message: `format pagerduty triggers on ${Object.keys(PAGERDUTY_TRIGGERS).join(', ')} and resolves on ${PAGERDUTY_RESOLVES.join(', ')}; ${event} is neither`,
          });
        }
      });
    } else if (n.routingKeyFrom !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['routingKeyFrom'], message: `only format pagerduty takes a routing key (this one is ${n.format})` });
    }
    if (n.events.includes('Progress') && n.every === undefined) {
      const i = n.events.indexOf('Progress');
      ctx.addIssue({ code: 'custom', path: ['events', i], message: 'Progress is sent every `every`: set every (e.g. 15m)' });
    }
  });

export const Readiness = z.strictObject({
  enabled: z.boolean().default(true).describe('false turns the readiness gate off: weights are written whatever the backends ready endpoints.'),
  minReady: z.number().int().min(1).default(1).describe('Ready endpoints every canary backend needs before any weight above 0 is written to it.'),
  scaleWithWeight: z
    .boolean()
    .default(false)
    .describe('Also require ceil(stableReadyAtStart * weight / 100) ready endpoints at weight w, stableReadyAtStart being the stable backends ready endpoints when the plan started.'),
});

export const STRATEGIES = ['Canary', 'BlueGreen'] as const;

/** What the engine does when a target's weight was changed by someone else after a step landed. */
export const DRIFT_POLICIES = ['Repair', 'Hold'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];

export const MigrationPlanSpec = z
  .strictObject({
    description: z.string().optional(),
    strategy: z.enum(STRATEGIES).default('Canary'),
    targets: z.array(Target).min(1, 'must have at least one target'),
    steps: z.array(Step).min(1, 'must have at least one step'),
    analysis: Analysis.optional(),
    rollback: Rollback.default({ automatic: true }),
    successCriteria: z.strictObject({ bakeTime: Duration.default('0s') }).optional(),
    schedule: Schedule.optional(),
    notifications: z.array(Notification).optional(),
    paused: z.boolean().default(false),
    hooks: z
      .array(Hook)
      .max(20, 'must have at most 20 hooks')
      .optional()
      .describe(
        'Smoke tests and user journeys as webhooks (a 2xx answer passes). beforeStep must pass before a step\'s weight is written (a failure holds the plan at the previous weight and is tried again); afterStep runs once a step\'s weight landed and gates the step like a critical check (a failure rolls back when rollback.automatic); afterRollback and afterSuccess run once and only report.',
      ),
    readiness: Readiness.default({ enabled: true, minReady: 1, scaleWithWeight: false }).describe(
      'The readiness gate: no weight above 0 is written to a canary backend with fewer ready endpoints (EndpointSlices; ready Pods for the service provider) than it needs; the plan holds (BackendNotReady) until it has them. A backend outside the cluster (an ExternalName Service, an Istio host that is no Service) passes. A rollback never waits for it.',
    ),
    onDrift: z
      .enum(DRIFT_POLICIES)
      .default('Repair')
      .describe(
        'What to do when a target no longer holds the weight the plan set (someone, such as a GitOps tool with self-heal, changed it after the step landed). Repair (default) writes the step weight back and records DriftRepaired. Hold never writes over it: the plan records DriftDetected once, holds (Stalled TargetDrifted) and goes on when every target holds the step weight again; a rolled-back plan leaves the weight alone. A rollback, and the deletion of a plan that has not Succeeded, always write canary 0 to every target.',
      ),
  })
  .superRefine((spec, ctx) => {
    const steps = spec.steps;
    steps.forEach((s, i) => {
      const prev = steps[i - 1];
      if (prev && s.weight <= prev.weight) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'weight'], message: `must be greater than the previous step's ${prev.weight}` });
      }
    });
    const last = steps[steps.length - 1];
    if (last && last.weight !== 100) {
      ctx.addIssue({ code: 'custom', path: ['steps', steps.length - 1, 'weight'], message: 'the last step must be 100' });
    }
    if (spec.strategy === 'BlueGreen' && (steps.length !== 1 || last?.weight !== 100)) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'BlueGreen takes exactly one step, of weight 100' });
    }
    spec.targets.forEach((t, i) => {
      if (t.provider === 'service' && spec.strategy !== 'BlueGreen') {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'provider'], message: 'the service provider switches selectors, so it needs strategy BlueGreen' });
      }
    });
    const seenTargets = new Map<string, number>();
    spec.targets.forEach((t, i) => {
      const key = `${t.provider}/${targetObjectName(t)}`;
      const first = seenTargets.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['targets', i], message: `moves the same object as targets[${first}] (${key})` });
      } else seenTargets.set(key, i);
    });
    const seenHooks = new Map<string, number>();
    (spec.hooks ?? []).forEach((h, i) => {
      const first = seenHooks.get(h.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['hooks', i, 'name'], message: `"${h.name}" is already the name of hooks[${first}]` });
      } else seenHooks.set(h.name, i);
    });
    const checks = spec.analysis?.checks ?? [];
    const seenChecks = new Map<string, number>();
    checks.forEach((c, i) => {
      const first = seenChecks.get(c.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['analysis', 'checks', i, 'name'], message: `"${c.name}" is already the name of checks[${first}]` });
      } else seenChecks.set(c.name, i);
      if ((c.query !== undefined || c.template !== undefined) && spec.analysis?.prometheus === undefined) {
        ctx.addIssue({ code: 'custom', path: ['analysis', 'prometheus'], message: `check "${c.name}" queries metrics, so analysis.prometheus.address is required` });
      }
    });
    if (spec.rollback?.validation !== undefined && !checks.some(measuresStable)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rollback', 'validation'],
        message: 'runs the analysis checks against stable, and no check can: add a template, webhook, or query check with stableQuery to analysis.checks',
      });
    }
  }, {
    // zod skips these rules once any field failed to parse. Run them anyway when every failure
    // lies outside the fields they read, so a typo in `description` does not hide a step-order
    // error. A failure inside those fields skips them unless it kept the value's type (a
    // refinement, such as a duration's spelling or range, which the rules above never read); a
    // spec that is not an object at all (`spec: []`, an empty `spec:`) has nothing to cross-check.
    when: (payload) =>
      isPlainObject(payload.value) &&
      payload.issues.every((issue) => (issue.path?.length ?? 0) > 0 && (issue.continue === true || !CROSS_FIELD_INPUTS.has(String(issue.path?.[0])))),
  });

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The spec fields MigrationPlanSpec's cross-field rules read. */
const CROSS_FIELD_INPUTS: ReadonlySet<string> = new Set(['strategy', 'targets', 'steps', 'analysis', 'hooks', 'rollback']);

/** Whether rollback.validation runs a check against the stable backend: templates and webhooks
 * have a stable side of their own; a query needs its stableQuery. */
export function measuresStable(check: Pick<Check, 'query' | 'stableQuery'>): boolean {
  return check.query === undefined || check.stableQuery !== undefined;
}

/** The name of the object a target moves (the canary Ingress for nginx). */
export function targetObjectName(t: z.infer<typeof Target>): string {
  switch (t.provider) {
    case 'nginx': return t.nginx?.canaryIngress ?? '';
    case 'gatewayAPI': return t.gatewayAPI?.httpRoute ?? '';
    case 'istio': return t.istio?.virtualService ?? '';
    case 'smi': return t.smi?.trafficSplit ?? '';
    case 'service': return t.service?.name ?? '';
  }
}

// ---- status: written by the controller alone ----

export const PHASES = ['Pending', 'Progressing', 'Paused', 'Holding', 'WaitingForPromotion', 'RollingBack', 'RolledBack', 'Succeeded', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];
export const CHECK_RESULTS = ['Pass', 'Fail', 'NoData', 'Error'] as const;
export type CheckResultKind = (typeof CHECK_RESULTS)[number];

const Time = z.iso.datetime({ offset: true });

export const CheckStatus = z.strictObject({
  name: z.string(),
  severity: z.enum(SEVERITIES).optional(),
  value: z.number().nullable(),
  threshold: z.string(),
  result: z.enum(CHECK_RESULTS),
  consecutiveFailures: z.number().int().min(0),
  at: Time,
  message: z.string().optional(),
});

export const HistoryEntry = z.strictObject({
  at: Time,
  event: z.string(),
  weight: z.number().int().min(0).max(100),
  message: z.string(),
});

export const HOOK_RESULTS = ['Pass', 'Fail'] as const;
export type HookResultKind = (typeof HOOK_RESULTS)[number];
/** How many hook results status keeps (the latest ones). */
export const HOOK_STATUS_LIMIT = 20;

export const HookStatus = z.strictObject({
  name: z.string(),
  when: z.enum(HOOK_WHENS),
  /** The step (0-based, as currentStep) for beforeStep and afterStep. */
  step: z.number().int().min(0).optional(),
  result: z.enum(HOOK_RESULTS),
  at: Time,
  /** Calls made in this run (1 + retries used). */
  attempts: z.number().int().min(1).optional(),
  message: z.string().optional(),
});

export const VALIDATION_RESULTS = ['Running', 'Passed', 'Failed', 'NoData', 'Cancelled'] as const;
export type ValidationResult = (typeof VALIDATION_RESULTS)[number];

/** rollback.validation's run: the checks against the stable backend after RolledBack. */
export const RollbackValidationStatus = z.strictObject({
  result: z.enum(VALIDATION_RESULTS),
  startedAt: Time,
  completedAt: Time.optional(),
  /** Rounds run so far; those that passed; those in which some check breached its threshold. */
  rounds: z.number().int().min(0),
  passedRounds: z.number().int().min(0),
  breachedRounds: z.number().int().min(0),
  lastRoundAt: Time.optional(),
  /** The latest result of each check that measures stable. */
  checks: z.array(CheckStatus).optional(),
  message: z.string().optional(),
});

export const RollbackStatus = z.strictObject({
  reason: z.string(),
  triggeredAt: Time,
  completedAt: Time.optional(),
  recoverySeconds: z.number().min(0).optional(),
  validation: RollbackValidationStatus.optional(),
  /** The stable backends' ready endpoints when the rollback landed (absent: none could be counted). */
  stableReadyEndpoints: z.number().int().min(0).optional(),
});

/** One backend Service (or, for the service provider, the Pods a selector picks) as the gate saw it. */
export const BackendReadinessStatus = z.strictObject({
  service: z.string(),
  ready: z.number().int().min(0).optional(),
  required: z.number().int().min(0).optional(),
  external: z.boolean().optional(),
  message: z.string().optional(),
});

export const ReadinessStatus = z.strictObject({
  /** The stable backends' ready endpoints when the plan started; scaleWithWeight scales from it. */
  stableReadyAtStart: z.number().int().min(0).optional(),
  /** The canary backends at the last gate check (at most 8). */
  canary: z.strictObject({ weight: z.number().int().min(0).max(100), backends: z.array(BackendReadinessStatus).max(8) }).optional(),
});

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Reconciling', 'Stalled'] as const;
export const Condition = z.strictObject({
  type: z.enum(CONDITION_TYPES),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: Time,
  observedGeneration: z.number().int().optional(),
});

export const RoundVerdict = z.enum(['Pass', 'Hold', 'Fail']);

export const MigrationPlanStatus = z.strictObject({
  phase: z.enum(PHASES).optional(),
  observedGeneration: z.number().int().optional(),
  currentStep: z.number().int().min(0).optional(),
  canaryWeight: z.number().int().min(0).max(100).optional(),
  stepStartedAt: Time.optional(),
  /** When every check last ran, and what the round as a whole concluded. */
  lastRound: z.strictObject({ at: Time, verdict: RoundVerdict, message: z.string().optional() }).optional(),
  /** Set when the final weight's pause is over; Succeeded follows after successCriteria.bakeTime. */
  bakeStartedAt: Time.optional(),
  /** The step a person promoted (its pause is waived). */
  promotedStep: z.number().int().min(0).optional(),
  handledRequests: z
    .strictObject({ promote: z.string().optional(), rollback: z.string().optional(), retry: z.string().optional() })
    .optional(),
  checks: z.array(CheckStatus).optional(),
  /** The latest result of each hook run, newest last, at most HOOK_STATUS_LIMIT. */
  hooks: z.array(HookStatus).optional(),
  history: z.array(HistoryEntry).optional(),
  rollback: RollbackStatus.optional(),
  /** The run whose progress summaries (notifications' `every`) count from; set while the plan runs. */
  progressNotificationsSince: Time.optional(),
  /** When the last Progress summary was sent: the leader alone writes it, before sending. */
  lastProgressNotificationAt: Time.optional(),
  readiness: ReadinessStatus.optional(),
  conditions: z.array(Condition).optional(),
});

export const ObjectMeta = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
});

export const MigrationPlan = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: ObjectMeta,
  spec: MigrationPlanSpec,
  status: MigrationPlanStatus.optional(),
});

export type Duration = z.infer<typeof Duration>;
export type Step = z.infer<typeof Step>;
export type Target = z.infer<typeof Target>;
export type Readiness = z.infer<typeof Readiness>;
export type BackendReadinessStatus = z.infer<typeof BackendReadinessStatus>;
export type NginxTarget = z.infer<typeof NginxTarget>;
export type GatewayApiTarget = z.infer<typeof GatewayApiTarget>;
export type IstioTarget = z.infer<typeof IstioTarget>;
export type IstioDestination = z.infer<typeof IstioDestination>;
export type SmiTarget = z.infer<typeof SmiTarget>;
export type ServiceTarget = z.infer<typeof ServiceTarget>;
export type Check = z.infer<typeof Check>;
export type Webhook = z.infer<typeof Webhook>;
export type Hook = z.infer<typeof Hook>;
export type HookStatus = z.infer<typeof HookStatus>;
export type PrometheusSource = z.infer<typeof PrometheusSource>;
export type Analysis = z.infer<typeof Analysis>;
export type Schedule = z.infer<typeof Schedule>;
export type ChangeWindow = z.infer<typeof ChangeWindow>;
export type Notification = z.infer<typeof Notification>;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export type MigrationPlanSpec = z.infer<typeof MigrationPlanSpec>;
export type MigrationPlanStatus = z.infer<typeof MigrationPlanStatus>;
export type CheckStatus = z.infer<typeof CheckStatus>;
export type RollbackValidationStatus = z.infer<typeof RollbackValidationStatus>;
export type ReadinessStatus = z.infer<typeof ReadinessStatus>;
export type HistoryEntry = z.infer<typeof HistoryEntry>;
export type Condition = z.infer<typeof Condition>;
export type RoundVerdict = z.infer<typeof RoundVerdict>;
export type MigrationPlan = z.infer<typeof MigrationPlan>;
