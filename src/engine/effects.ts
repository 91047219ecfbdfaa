// What each effect named in the transition table does to the status. Effects change only the
// working copy of the status and collect Events; the weights to write follow from the status.
import { parseDuration } from '../plan/duration';
import type { MigrationPlanSpec, MigrationPlanStatus, ValidationResult } from '../plan/schema';
import { boundText, requestFingerprint } from './bounds';
import type { Occurrence } from './events';
import { stableReady } from './readiness';
import { stepIndex, toIso, toMs } from './steps';
import { startedValidation } from './validation';
import type { Transition } from './transitions';
import type { Action, Observations } from './types';
import { forgetStepHooks } from './hooks';

export interface EffectContext {
  spec: MigrationPlanSpec | undefined;
  obs: Observations;
  occurrence: Occurrence;
  /** The working copy of the next status; effects change it in place. */
  status: MigrationPlanStatus;
  actions: Action[];
}

type Effect = NonNullable<Transition['effects']>[number];

const VALIDATION_RESULT: Partial<Record<Occurrence['on'], Exclude<ValidationResult, 'Running'>>> = {
  ValidationPassed: 'Passed',
  ValidationFailed: 'Failed',
  ValidationNoData: 'NoData',
  ValidationCancelled: 'Cancelled',
};

const APPLY: Record<Effect, (ctx: EffectContext) => void> = {
  start({ obs, status }) {
    status.currentStep = 0;
    // scaleWithWeight scales from the stable side's ready endpoints at the start of this attempt.
    const stableAtStart = stableReady(obs);
    // What the gate saw a moment ago (decide.ts) stays; the previous attempt's start does not.
    const canary = status.readiness?.canary;
    status.readiness = { ...(canary ? { canary } : {}), ...(stableAtStart === undefined ? {} : { stableReadyAtStart: stableAtStart }) };
    if (Object.keys(status.readiness).length === 0) delete status.readiness;
    delete status.stepStartedAt;
    delete status.lastRound;
    delete status.bakeStartedAt;
    delete status.promotedStep;
    // The previous attempt's rollback record stays visible until the plan starts again.
    delete status.rollback;
    forgetStepHooks(status);
  },
  advance({ spec, status }) {
    if (spec === undefined) return;
    status.currentStep = Math.min(stepIndex(spec, status) + 1, spec.steps.length - 1);
    delete status.stepStartedAt;
  },
  switch({ obs, status }) {
    status.bakeStartedAt = toIso(obs.now);
    delete status.stepStartedAt;
  },
  startBake({ obs, status }) {
    status.bakeStartedAt = toIso(obs.now);
  },
  beginRollback({ obs, occurrence, status }) {
    status.rollback = { reason: boundText(occurrence.message), triggeredAt: toIso(occurrence.at ?? obs.now) };
  },
  completeRollback({ spec, obs, status, actions }) {
    const rollback = status.rollback ?? { reason: 'unknown', triggeredAt: toIso(obs.now) };
    const triggeredAt = toMs(rollback.triggeredAt) ?? obs.now;
    const recoverySeconds = Math.max(0, (obs.now - triggeredAt) / 1000);
    const validation = startedValidation(spec, obs.now);
    status.rollback = { ...rollback, completedAt: toIso(obs.now), recoverySeconds, ...(validation ? { validation } : {}) };
    // The rollback waited for nothing; what it landed on is recorded, and a stable side with no
    // ready endpoint is said out loud (the RolledBack notification says it too).
    const stableNow = stableReady(obs);
    if (stableNow !== undefined) status.rollback.stableReadyEndpoints = stableNow;
    if (stableNow === 0) {
      const message = `traffic is back on stable, but the stable backends (${(obs.readiness?.stable ?? []).map((b) => b.service).join(', ')}) have 0 ready endpoints`;
      actions.push({ kind: 'event', type: 'Warning', reason: 'StableNotReady', message });
      // Never silence: the escalation path (PagerDuty triggers on it) hears of it too.
      actions.push({ kind: 'notify', event: 'StableNotReady', message });
    }
    const rto = spec?.rollback.rto;
    if (rto !== undefined && recoverySeconds * 1000 > parseDuration(rto)) {
      actions.push({
        kind: 'event',
        type: 'Warning',
        reason: 'RecoveryObjectiveMissed',
        message: `traffic was back on stable after ${recoverySeconds}s, above the recovery time objective of ${rto}`,
      });
      actions.push({ kind: 'notify', event: 'RtoMissed', message: `traffic was back on stable after ${recoverySeconds}s, above the recovery time objective of ${rto}` });
    }
  },
  consumeRequest({ occurrence, status }) {
    const request = occurrence.request;
    if (request === undefined) return;
    status.handledRequests = { ...status.handledRequests, [request.kind]: requestFingerprint(request.value) };
  },
  promote({ spec, status }) {
    if (spec === undefined) return;
    status.promotedStep = stepIndex(spec, status);
  },
  concludeValidation({ obs, occurrence, status }) {
    const validation = status.rollback?.validation;
    const result = VALIDATION_RESULT[occurrence.on];
    if (validation === undefined || result === undefined) return;
    status.rollback = { ...(status.rollback as NonNullable<MigrationPlanStatus['rollback']>), validation: { ...validation, result, completedAt: toIso(obs.now), message: occurrence.message } };
  },
  resetForRetry({ obs, status }) {
    // A retry during the validation ends it: the plan moves on, stable is no longer all there is.
    const validation = status.rollback?.validation;
    if (status.rollback && validation?.result === 'Running') {
      status.rollback = { ...status.rollback, validation: { ...validation, result: 'Cancelled', completedAt: toIso(obs.now), message: 'cancelled by a retry' } };
    }
    status.currentStep = 0;
    delete status.stepStartedAt;
    delete status.lastRound;
    delete status.bakeStartedAt;
    delete status.promotedStep;
    forgetStepHooks(status);
    status.checks = status.checks?.map((c) => ({ ...c, consecutiveFailures: 0 }));
    if (status.checks === undefined) delete status.checks;
  },
};

export function applyEffect(effect: Effect, ctx: EffectContext): void {
  APPLY[effect](ctx);
}

/** Effects after which a changed weight is the plan's decision, not a repair of someone's edit. */
export const MOVING_EFFECTS: readonly Effect[] = ['start', 'advance', 'switch', 'beginRollback', 'resetForRetry'];
