import { decide } from '../../src/engine';
import { appendHistory, HISTORY_LIMIT, mergeConditions } from '../../src/engine/record';
import type { HistoryEntry } from '../../src/plan/schema';
import { atStep, canary, condition, iso, obs, weights } from './fixtures';

const entry = (i: number): HistoryEntry => ({ at: iso(i), event: `e${i}`, weight: 0, message: `m${i}` });

describe('history', () => {
  it('keeps the last 50 entries', () => {
    const full = Array.from({ length: HISTORY_LIMIT }, (_, i) => entry(i));
    const next = appendHistory(full, [entry(50), entry(51)]);
    expect(next).toHaveLength(50);
    expect(next[0]?.event).toBe('e2');
    expect(next[49]?.event).toBe('e51');
  });

  it('stays bounded when decide appends to a full history', () => {
    const status = atStep(1, 25, 0, { history: Array.from({ length: 50 }, (_, i) => entry(i)) });
    const d = decide(canary(), status, obs(10, { targets: weights(25, 60) })); // drift repair appends
    expect(d.status.history).toHaveLength(50);
    expect(d.status.history?.[49]?.event).toBe('DriftRepaired');
  });
});

describe('conditions', () => {
  it('keeps lastTransitionTime while a status is unchanged and moves it when the status flips', () => {
    const plan = canary();
    const first = decide(plan, atStep(1, 25, 0), obs(10, { targets: weights(25, 25) }));
    expect(condition(first, 'Progressing')).toMatchObject({ status: 'True', lastTransitionTime: iso(10), observedGeneration: 1 });
    const second = decide(plan, first.status, obs(20, { targets: weights(25, 25), generation: 2 }));
    expect(condition(second, 'Progressing')).toMatchObject({ status: 'True', lastTransitionTime: iso(10), observedGeneration: 2 });
    const paused = decide(canary({ paused: true }), second.status, obs(30, { targets: weights(25, 25), generation: 3 }));
    expect(condition(paused, 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused', lastTransitionTime: iso(30) });
    expect(condition(paused, 'Ready')).toMatchObject({ status: 'False', lastTransitionTime: iso(10) });
  });

  it('changes lastTransitionTime only on a status flip, not on a new reason', () => {
    const before = mergeConditions(undefined, [{ type: 'Stalled', status: 'True', reason: 'TargetNotFound', message: 'a' }], 1000, 1);
    const after = mergeConditions(before, [{ type: 'Stalled', status: 'True', reason: 'TargetInvalid', message: 'b' }], 5000, 1);
    expect(after[0]).toMatchObject({ reason: 'TargetInvalid', lastTransitionTime: new Date(1000).toISOString() });
  });
});
