// Property-based: random valid plans driven through random worlds (time passing, check results
// including NoData and Error, requests, writes that land late, hand edits, missing targets,
// broken specs, deletion). The engine's own status is fed back, as the controller does.
// PROP_SEED and PROP_RUNS override the fixed seed and run count for a longer hunt.
import fc from 'fast-check';
import { analysisDue, decide, hooksDue, roundDue, type AnalysisRound, type Decision, type HookResult, type Observations, type TargetObservation } from '../../src/engine';
import { Hook, MigrationPlanSpec, MigrationPlanStatus, PHASES, type CheckResultKind, type RequestKind } from '../../src/plan/schema';

const T0 = Date.parse('2026-11-25T08:00:00.000Z');

/** `arb` about once in `oneIn` draws, null otherwise (fc.option's freq is the chance of null). */
const rarely = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: oneIn - 1 }, { arbitrary: arb, weight: 1 });

const pauseArb = fc.constantFrom<unknown>(undefined, '10s', '1m', {});
const checkArb = fc.record({
  severity: fc.constantFrom('critical', 'critical', 'warning', 'info'),
  failureLimit: fc.integer({ min: 1, max: 3 }),
  measuresStable: fc.boolean(),
});

const planArb = fc
  .record({
    blueGreen: fc.boolean(),
    targetCount: fc.integer({ min: 1, max: 3 }),
    weights: fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 3 }),
    pauses: fc.array(pauseArb, { minLength: 4, maxLength: 4 }),
    checks: fc.array(checkArb, { maxLength: 3 }),
    noData: fc.constantFrom('hold', 'fail'),
    automatic: fc.boolean(),
    bakeTime: fc.constantFrom('0s', '30s', '2m'),
    interval: fc.constantFrom('10s', '30s'),
    window: rarely(fc.record({ start: fc.integer({ min: 0, max: 23 }), length: fc.integer({ min: 1, max: 20 }) }), 5),
    validation: fc.constantFrom(null, null, '30s', '2m'),
  })
  .map((p) => {
    const stepWeights = p.blueGreen ? [100] : [...[...p.weights].sort((a, b) => a - b), 100];
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    return MigrationPlanSpec.parse({
      strategy: p.blueGreen ? 'BlueGreen' : 'Canary',
      targets: Array.from({ length: p.targetCount }, (_, i) => ({ provider: 'smi', smi: { trafficSplit: `split-${i}`, stableBackend: 'v1', canaryBackend: 'v2' } })),
      steps: stepWeights.map((weight, i) => (p.pauses[i] === undefined ? { weight } : { weight, pause: p.pauses[i] })),
      ...(p.checks.length > 0
        ? {
            analysis: {
              interval: p.interval,
              noData: p.noData,
              prometheus: { address: 'http://prometheus:9090' },
              checks: p.checks.map(({ measuresStable, ...c }, i) => ({ name: `check-${i}`, query: 'q', ...(measuresStable ? { stableQuery: 's' } : {}), max: 0.01, ...c })),
            },
          }
        : {}),
      rollback: {
        automatic: p.automatic,
        rto: '20s',
        ...(p.validation !== null && p.checks.some((c) => c.measuresStable) ? { validation: { duration: p.validation } } : {}),
      },
      successCriteria: { bakeTime: p.bakeTime },
      ...(p.window ? { schedule: { timeZone: 'UTC', windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: hh(p.window.start), end: hh(p.window.start + p.window.length) }] } } : {}),
    });
  });

const resultArb = fc.constantFrom<CheckResultKind>('Pass', 'Pass', 'Pass', 'Pass', 'Fail', 'NoData', 'Error');
const tickArb = fc.record({
  advanceSeconds: fc.integer({ min: 0, max: 90 }),
  results: fc.array(resultArb, { minLength: 3, maxLength: 3 }),
  request: rarely(fc.constantFrom<RequestKind>('promote', 'promote', 'promote', 'rollback', 'retry', 'retry'), 6),
  lands: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }), // >= 3: the pending write lands now
  drift: rarely(fc.record({ target: fc.integer({ min: 0, max: 2 }), weight: fc.integer({ min: 0, max: 100 }) }), 15),
  missing: rarely(fc.integer({ min: 0, max: 2 }), 15),
  paused: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  specError: fc.integer({ min: 0, max: 29 }).map((n) => n === 0),
});

const scenarioArb = fc.record({
  plan: planArb,
  ticks: fc.array(tickArb, { minLength: 5, maxLength: 60 }),
  deleteAfter: rarely(fc.integer({ min: 0, max: 40 }), 4),
});

function fail(message: string): never {
  throw new Error(message);
}

const isRollbackPhase = (p: string | undefined) => p === 'RollingBack' || p === 'RolledBack';

/** What a call promised, checked against the status it produced. */
function checkCall(spec: MigrationPlanSpec, before: MigrationPlanStatus | undefined, o: Observations, d: Decision, retryPending: boolean): void {
  const stepWeights = new Set(spec.steps.map((s) => s.weight));
  const sets = d.actions.flatMap((a) => (a.kind === 'setWeight' ? [a] : []));
  for (const s of sets) {
    if (!(s.weight === 0 || stepWeights.has(s.weight))) fail(`wrote ${s.weight}, not 0 nor a step weight`);
    if (!Number.isInteger(s.weight) || s.weight < 0 || s.weight > 100) fail(`wrote ${s.weight}: stable would be ${100 - s.weight}`);
    for (const i of s.targets) {
      const t = o.targets[i];
      if (t === undefined || !t.ok) fail(`wrote to targets[${i}], which is not ok`);
      if (t.weight === s.weight) fail(`wrote ${s.weight} to targets[${i}], which already holds it`);
    }
  }
  if (sets.length > 1) fail('more than one setWeight in one call');
  const upwardProblem = movedUpTooFar(spec, o, sets);
  if (upwardProblem) fail(upwardProblem);
  const after = d.status.phase ?? 'Pending';
  for (const s of sets) {
    if (s.weight > 0 && spec.strategy === 'Canary' && s.weight !== spec.steps[d.status.currentStep ?? 0]?.weight) fail(`wrote ${s.weight} at step ${d.status.currentStep}`);
    if (!isRollbackPhase(after) && o.targets.some((t) => !t.ok)) fail('moved some targets while another was missing');
  }
  const roundHadTrouble =
    o.round !== undefined &&
    (spec.analysis?.checks ?? []).some((c) => c.severity !== 'info' && o.round?.outcomes.find((x) => x.name === c.name)?.result !== 'Pass');
  if (roundHadTrouble) {
    if ((d.status.currentStep ?? 0) > (before?.currentStep ?? 0)) fail('advanced in a call whose round had NoData, Error or a breach');
    if (spec.strategy === 'BlueGreen' && before?.bakeStartedAt === undefined && d.status.bakeStartedAt !== undefined) fail('switched in a call whose round did not pass');
    if (d.status.phase === 'Succeeded' && before?.phase !== 'Succeeded') fail('succeeded in a call whose round did not pass');
  }
  if (isRollbackPhase(before?.phase)) {
    if (sets.some((s) => s.weight > 0)) fail('wrote canary > 0 while rolling back');
    if (!isRollbackPhase(d.status.phase) && !(retryPending && d.status.phase === 'Pending')) fail(`left ${before?.phase} for ${d.status.phase} without retry`);
  }
  if (isRollbackPhase(d.status.phase) && sets.some((s) => s.weight > 0)) fail('wrote canary > 0 on entering a rollback');
  if (before?.phase === 'Succeeded') {
    if (sets.length > 0) fail('a Succeeded plan wrote a weight');
    if (d.status.phase !== 'Succeeded') fail(`left Succeeded for ${d.status.phase}`);
  }
  if (o.specError && sets.some((s) => s.weight > 0)) fail('moved traffic forward with an invalid spec');
  if ((d.status.history?.length ?? 0) > 50) fail(`history has ${d.status.history?.length} entries`);
  if (d.status.observedGeneration !== o.generation) fail('observedGeneration differs from generation');
  if (d.nextEvaluationAt !== undefined && d.nextEvaluationAt < o.now) fail('nextEvaluationAt is in the past');
  // A rollback validation only measures, only in RolledBack, never stalls, and its result, once
  // in, is final for that rollback.
  const validation = d.status.rollback?.validation;
  const validationBefore = before?.rollback?.validation;
  if (validation?.result === 'Running') {
    if (d.status.phase !== 'RolledBack') fail(`a validation runs in ${d.status.phase}`);
    if (!o.specError && !o.deleting && d.nextEvaluationAt === undefined) fail('a running validation asks for no next call');
  }
  if (validation !== undefined && spec.rollback.validation === undefined && validation.result === 'Running') fail('a validation runs that the spec does not ask for');
  if (validationBefore && validationBefore.result !== 'Running' && before?.rollback?.triggeredAt === d.status.rollback?.triggeredAt && validation?.result !== validationBefore.result) {
    fail(`the validation's ${validationBefore.result} became ${validation?.result ?? 'nothing'} within one rollback`);
  }
  if (o.round?.side === 'stable' && sets.some((s) => s.weight > 0)) fail('a stable round moved traffic up');
  // zod is the slow part of this test: parse the status whenever the phase moves.
  if (d.status.phase !== before?.phase) mustParse(d.status);
}

/** A write above what the targets hold goes at most to the first step above the highest of them. */
function movedUpTooFar(spec: MigrationPlanSpec, o: Observations, sets: ReadonlyArray<{ weight: number }>): string | undefined {
  const held = o.targets.flatMap((t) => (t.ok ? [t.weight] : []));
  const highest = held.length > 0 ? Math.max(...held) : 0;
  const nextStep = Math.min(...spec.steps.map((s) => s.weight).filter((w) => w > highest), Number.POSITIVE_INFINITY);
  const bad = sets.find((s) => s.weight > highest && s.weight > nextStep);
  return bad ? `moved up to ${bad.weight} while the targets held at most ${highest} (next step ${nextStep})` : undefined;
}

function mustParse(status: MigrationPlanStatus | undefined): void {
  const parsed = MigrationPlanStatus.safeParse(status);
  if (!parsed.success) fail(`status does not parse: ${parsed.error.message}`);
}

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function runScenario({ plan, ticks, deleteAfter }: Scenario): void {
  const targets: number[] = plan.targets.map(() => 0);
  const pendingWrites: Array<number | undefined> = plan.targets.map(() => undefined);
  const requests: Observations['requests'] = {};
  let status: MigrationPlanStatus | undefined;
  let now = T0;
  let generation = 1;
  let wasPaused = false;
  ticks.forEach((tick, index) => {
    now += tick.advanceSeconds * 1000;
    // metadata.generation moves when the spec does (here: spec.paused).
    if (tick.paused !== wasPaused) generation += 1;
    wasPaused = tick.paused;
    // The world: late writes land, a person edits a weight, a target goes missing.
    pendingWrites.forEach((w, i) => {
      if (w !== undefined && (tick.lands[i] ?? 9) >= 3) {
        targets[i] = w;
        pendingWrites[i] = undefined;
      }
    });
    if (tick.drift && tick.drift.target < targets.length) targets[tick.drift.target] = tick.drift.weight;
    if (tick.request) requests[tick.request] = { value: `${tick.request}-${index}`, requestedAt: now };
    const spec = tick.paused ? { ...plan, paused: true } : plan;
    const deleting = deleteAfter !== null && index >= deleteAfter;
    // The controller calls again at once while the engine says something is due now.
    for (let call = 0; ; call++) {
      if (call > 8) fail(`no fixpoint at one instant after ${call} calls (phase ${status?.phase})`);
      const observed: TargetObservation[] = targets.map((weight, i) =>
        tick.missing === i ? { ok: false, reason: 'TargetNotFound', message: `TrafficSplit split-${i} not found` } : { ok: true, weight },
      );
      let round: AnalysisRound | undefined;
      const side = tick.specError || deleting ? undefined : roundDue(spec, status, now);
      if (side === 'canary') {
        round = { completedAt: now, outcomes: (spec.analysis?.checks ?? []).map((c, i) => ({ name: c.name, value: null, result: tick.results[i] ?? 'Pass' })) };
      } else if (side === 'stable') {
        const checks = (spec.analysis?.checks ?? []).filter((c) => c.stableQuery !== undefined);
        round = { completedAt: now, side, outcomes: checks.map((c, i) => ({ name: c.name, value: null, result: tick.results[i] ?? 'Pass' })) };
      }
      const o: Observations = {
        now,
        generation,
        targets: observed,
        requests: { ...requests },
        ...(round ? { round } : {}),
        ...(tick.specError ? { specError: { path: 'spec.steps[0].weight', message: 'must be at least 1' } } : {}),
        ...(deleting ? { deleting: true } : {}),
      };
      const retryPending = requests.retry !== undefined && requests.retry.value !== status?.handledRequests?.retry;
      const d = decide(tick.specError ? undefined : spec, status, o);
      checkCall(spec, status, o, d, retryPending);
      for (const a of d.actions) if (a.kind === 'setWeight') for (const i of a.targets) pendingWrites[i] = a.weight;
      status = d.status;
      if (d.nextEvaluationAt !== now) break;
    }
  });
  mustParse(status);
}

/** Any status that parses, as a person with `kubectl edit --subresource=status` could write it. */
const handWrittenStatusArb = fc
  .record({
    phase: fc.constantFrom(...PHASES),
    currentStep: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100_000 })),
    canaryWeight: fc.integer({ min: 0, max: 100 }),
    startedSecondsAgo: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
    roundSecondsAgo: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
    verdict: fc.constantFrom('Pass', 'Hold', 'Fail'),
    bakeSecondsAgo: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
    promotedStep: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
    history: fc.array(fc.record({ event: fc.constantFrom('Started', 'StepAdvanced', 'BakeStarted', 'DriftRepaired'), weight: fc.integer({ min: 0, max: 100 }) }), { maxLength: 5 }),
  })
  .map((s) => {
    const ago = (sec: number | undefined) => (sec === undefined ? undefined : new Date(T0 - sec * 1000).toISOString());
    return MigrationPlanStatus.parse({
      phase: s.phase,
      currentStep: s.currentStep,
      canaryWeight: s.canaryWeight,
      ...(s.startedSecondsAgo !== undefined ? { stepStartedAt: ago(s.startedSecondsAgo) } : {}),
      ...(s.roundSecondsAgo !== undefined ? { lastRound: { at: ago(s.roundSecondsAgo), verdict: s.verdict } } : {}),
      ...(s.bakeSecondsAgo !== undefined ? { bakeStartedAt: ago(s.bakeSecondsAgo) } : {}),
      ...(s.promotedStep !== undefined ? { promotedStep: s.promotedStep } : {}),
      history: s.history.map((h) => ({ ...h, at: new Date(T0 - 60_000).toISOString(), message: 'written by hand' })),
    });
  });

/** The round a controller would run now, every check passing or every check failing; none when
 * no round is due. */
function dueRound(plan: MigrationPlanSpec, status: MigrationPlanStatus | undefined, now: number, pass: boolean): AnalysisRound | undefined {
  if (!analysisDue(plan, status, now)) return undefined;
  return { completedAt: now, outcomes: (plan.analysis?.checks ?? []).map((c) => ({ name: c.name, value: 0, result: pass ? ('Pass' as const) : ('Fail' as const) })) };
}

describe('engine properties', () => {
  it('never moves traffic up more than one step, whatever a parsable status claims', () => {
    const worldArb = fc.record({
      plan: planArb,
      status: handWrittenStatusArb,
      held: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 3, maxLength: 3 }),
      pass: fc.boolean(),
      promote: fc.boolean(),
    });
    fc.assert(
      fc.property(worldArb, ({ plan, status, held, pass, promote }) => {
        let current = status;
        const targets = plan.targets.map((_, i) => held[i] ?? 0);
        // A few calls in a row, writes landing at once: each call may go up one step at most.
        for (let call = 0; call < 6; call++) {
          const now = T0 + call * 1000;
          const round = dueRound(plan, current, now, pass);
          const o: Observations = {
            now,
            generation: 1,
            targets: targets.map((weight) => ({ ok: true, weight })),
            requests: promote ? { promote: { value: `p-${call}` } } : {},
            ...(round ? { round } : {}),
          };
          const d = decide(plan, current, o);
          const sets = d.actions.flatMap((a) => (a.kind === 'setWeight' ? [a] : []));
          const problem = movedUpTooFar(plan, o, sets);
          if (problem) fail(`${problem}; status was ${JSON.stringify(current)}`);
          // Up only by a decision the plan recorded: its history since the latest start names the weight.
          const highest = Math.max(0, ...targets);
          const history = d.status.history ?? [];
          const since = history.map((h) => h.event).lastIndexOf('Started');
          for (const s of sets.filter((x) => x.weight > highest)) {
            const recorded = history.slice(Math.max(0, since)).some((h) => ['Started', 'StepAdvanced', 'Switched', 'StepChanged'].includes(h.event) && h.weight === s.weight);
            if (!recorded) fail(`moved up to ${s.weight} with no decision recorded; status was ${JSON.stringify(current)}`);
          }
          for (const a of d.actions) if (a.kind === 'setWeight') for (const t of a.targets) targets[t] = a.weight;
          current = d.status;
        }
      }),
      { seed: 20261202, numRuns: 3000 },
    );
  });

  it('a weight never lands on a backend the readiness gate refused', () => {
    const worldArb = fc.record({
      plan: planArb,
      status: fc.option(handWrittenStatusArb, { nil: undefined }),
      gate: fc.record({ minReady: fc.integer({ min: 1, max: 3 }), scaleWithWeight: fc.boolean() }),
      held: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 3, maxLength: 3 }),
      // The canary's ready endpoints at each call (undefined: could not be counted), and stable's.
      canaryReady: fc.array(fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), { minLength: 6, maxLength: 6 }),
      stableReady: fc.integer({ min: 0, max: 12 }),
      pass: fc.boolean(),
      promote: fc.boolean(),
    });
    fc.assert(
      fc.property(worldArb, ({ plan: base, status, gate, held, canaryReady, stableReady, pass, promote }) => {
        const plan = { ...base, readiness: { enabled: true, ...gate } };
        let current = status;
        const targets = plan.targets.map((_, i) => held[i] ?? 0);
        for (let call = 0; call < 6; call++) {
          const now = T0 + call * 1000;
          const ready = canaryReady[call];
          const round = dueRound(plan, current, now, pass);
          const o: Observations = {
            now,
            generation: 1,
            targets: targets.map((weight) => ({ ok: true, weight })),
            requests: promote ? { promote: { value: `p-${call}` } } : {},
            readiness: {
              canary: [ready === undefined ? { service: 'shop/canary', message: 'forbidden' } : { service: 'shop/canary', ready }],
              stable: [{ service: 'shop/stable', ready: stableReady }],
            },
            ...(round ? { round } : {}),
          };
          const d = decide(plan, current, o);
          const stableAtStart = current?.readiness?.stableReadyAtStart ?? d.status.readiness?.stableReadyAtStart ?? stableReady;
          for (const a of d.actions) {
            if (a.kind !== 'setWeight' || a.weight === 0) continue;
            if (!a.targets.some((t) => (targets[t] ?? 0) < a.weight)) continue; // lowering only
            const required = Math.max(gate.minReady, gate.scaleWithWeight ? Math.ceil((stableAtStart * a.weight) / 100) : 0);
            if (ready === undefined || ready < required) {
              fail(`wrote ${a.weight} with canary ready ${String(ready)}, needing ${required}; status was ${JSON.stringify(current)}`);
            }
          }
          for (const a of d.actions) if (a.kind === 'setWeight') for (const t of a.targets) targets[t] = a.weight;
          current = d.status;
        }
      }),
      { seed: 20261203, numRuns: 2000 },
    );
  });

  it('holds every invariant over random plans and worlds', () => {
    fc.assert(fc.property(scenarioArb, (s) => runScenario(s)), { seed: Number(process.env.PROP_SEED ?? 20261127), numRuns: Number(process.env.PROP_RUNS ?? 2000) });
  });

  it('reaches Succeeded when the world cooperates (every check passes, writes land, promotes arrive)', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const calm = { ...plan, schedule: undefined };
        let status: MigrationPlanStatus | undefined;
        const targets = calm.targets.map(() => 0);
        let now = T0;
        for (let i = 0; i < 400 && status?.phase !== 'Succeeded'; i++) {
          const round = analysisDue(calm, status, now)
            ? { completedAt: now, outcomes: (calm.analysis?.checks ?? []).map((c) => ({ name: c.name, value: 0, result: 'Pass' as const })) }
            : undefined;
          const d = decide(calm, status, { now, generation: 1, targets: targets.map((weight) => ({ ok: true, weight })), requests: { promote: { value: `p-${status?.currentStep}-${status?.bakeStartedAt ?? ''}-${status?.phase}` } }, ...(round ? { round } : {}) });
          for (const a of d.actions) if (a.kind === 'setWeight') for (const t of a.targets) targets[t] = a.weight;
          status = d.status;
          now = Math.max(now + 1000, d.nextEvaluationAt ?? now + 10_000);
        }
        expect(status?.phase).toBe('Succeeded');
        expect(targets.every((w) => w === 100)).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
  it('never writes a step weight before its beforeStep hooks passed, nor completes a step before its afterStep hooks passed', () => {
    const hooks = [
      Hook.parse({ name: 'load', when: 'beforeStep', webhook: { url: 'http://loadgen.shop/start' } }),
      Hook.parse({ name: 'journeys', when: 'afterStep', webhook: { url: 'http://checks.shop/journeys' } }),
    ];
    const passed = (status: MigrationPlanStatus, when: string, step: number): boolean =>
      (status.hooks ?? []).some((h) => h.when === when && h.step === step && h.result === 'Pass');
    fc.assert(
      fc.property(planArb, fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), (plan, answers) => {
        const spec = { ...plan, hooks, schedule: undefined };
        let status: MigrationPlanStatus | undefined;
        const targets = spec.targets.map(() => 0);
        let now = T0;
        let turn = 0;
        for (let i = 0; i < 200 && status?.phase !== 'Succeeded' && status?.phase !== 'RolledBack'; i++) {
          const round = analysisDue(spec, status, now)
            ? { completedAt: now, outcomes: (spec.analysis?.checks ?? []).map((c) => ({ name: c.name, value: 0, result: 'Pass' as const })) }
            : undefined;
          const results: HookResult[] = hooksDue(spec, status, now).map((call) => ({
            name: call.hook.name, when: call.when, step: call.step, result: answers[turn++ % answers.length] ? 'Pass' : 'Fail', attempts: 1, completedAt: now,
          }));
          const d = decide(spec, status, {
            now, generation: 1, targets: targets.map((weight) => ({ ok: true, weight })),
            requests: { promote: { value: `p-${status?.currentStep}-${status?.bakeStartedAt ?? ''}-${status?.phase}` } },
            ...(round ? { round } : {}), ...(results.length > 0 ? { hooks: results } : {}),
          });
          const step = d.status.currentStep ?? 0;
          for (const a of d.actions) {
            if (a.kind !== 'setWeight') continue;
            if (a.weight > 0 && !passed(d.status, 'beforeStep', step)) fail(`wrote ${a.weight} at step ${step} before its beforeStep hook passed`);
            for (const t of a.targets) targets[t] = a.weight;
          }
          const before = status?.currentStep ?? 0;
          if (status !== undefined && step > before && !passed(d.status, 'afterStep', before)) fail(`left step ${before} before its afterStep hook passed`);
          if (d.status.phase === 'Succeeded' && spec.strategy === 'Canary' && !passed(d.status, 'afterStep', step)) fail('succeeded before the last afterStep hook passed');
          status = d.status;
          now = Math.max(now + 1000, d.nextEvaluationAt ?? now + 10_000);
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
