// The dashboard client's pure parts, without a browser: which buttons a phase offers (they must
// match what the REST API accepts), the Server-Sent Events parser (the stream arrives in chunks
// cut anywhere), and the worst check. The type assertions at the end stop the build when the
// client's copy of the API's shapes drifts from the server's.
import type { z } from 'zod';
import { allowedActions, worstCheck, type Action } from '../../src/dashboard/web/actions';
import { parseSse, type SseEvent } from '../../src/dashboard/web/sse';
import type * as Web from '../../src/dashboard/web/types';
import type { Info, Timeline } from '../../src/api/schemas';
import { ACTIVE_PHASES, ROLLBACKABLE_PHASES } from '../../src/engine/steps';
import { PHASES, type Phase } from '../../src/plan/schema';
import type { PlanView } from '../../src/steering/view';

describe('the buttons a plan offers', () => {
  const offered = (phase: Phase, paused = false): Action[] => allowedActions({ phase, paused });

  it.each(PHASES.map((p) => [p]))('%s: promote only where the API promotes, rollback where it rolls back, retry after RolledBack or Failed', (phase) => {
    const actions = offered(phase);
    expect(actions.includes('promote')).toBe(ACTIVE_PHASES.includes(phase));
    // RollingBack: the API answers a second rollback with the one under way, so the button stays.
    expect(actions.includes('rollback')).toBe(ROLLBACKABLE_PHASES.includes(phase) || phase === 'RollingBack');
    expect(actions.includes('retry')).toBe(phase === 'RolledBack' || phase === 'Failed');
  });

  it('pause unless paused or final, resume only when paused', () => {
    expect(offered('Progressing')).toEqual(['pause', 'promote', 'rollback']);
    expect(offered('Paused', true)).toEqual(['resume', 'promote', 'rollback']);
    expect(offered('Succeeded')).toEqual([]);
    expect(offered('RolledBack')).toEqual(['retry']);
    expect(offered('Failed')).toEqual(['rollback', 'retry']);
  });
});

describe('parseSse', () => {
  const parseAll = (chunks: string[]): { events: SseEvent[]; retries: number[]; rest: string } => {
    const events: SseEvent[] = [];
    const retries: number[] = [];
    let rest = '';
    for (const chunk of chunks) rest = parseSse(rest + chunk, (e) => events.push(e), (ms) => retries.push(ms));
    return { events, retries, rest };
  };
  const stream = 'retry: 2000\n\nevent: snapshot\ndata: {"plans":[]}\n\n: ping\n\nevent: plan\ndata: {"name":"a"}\n\nevent: deleted\ndata: {"namespace":"n","name":"a"}\n\n';

  it('reads events, retry and comments, however the stream is cut', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { events, retries, rest } = parseAll([stream.slice(0, cut), stream.slice(cut)]);
      expect(events).toEqual([
        { event: 'snapshot', data: '{"plans":[]}' },
        { event: 'plan', data: '{"name":"a"}' },
        { event: 'deleted', data: '{"namespace":"n","name":"a"}' },
      ]);
      expect(retries).toEqual([2000]);
      expect(rest).toBe('');
    }
  });

  it('joins multi-line data, takes CRLF, and keeps an unfinished event for the next chunk', () => {
    const { events, rest } = parseAll(['data: a\r\ndata: b\r\n\r\nevent: plan\ndata: {"x"']);
    expect(events).toEqual([{ event: 'message', data: 'a\nb' }]);
    expect(rest).toBe('event: plan\ndata: {"x"');
  });
});

it('worstCheck: Fail over Error over NoData over Pass', () => {
  expect(worstCheck([{ result: 'Pass' }, { result: 'NoData' }, { result: 'Fail' }, { result: 'Error' }])).toEqual({ result: 'Fail' });
  expect(worstCheck([{ result: 'Pass' }, { result: 'NoData' }])).toEqual({ result: 'NoData' });
  expect(worstCheck([])).toBeUndefined();
});

// What the server answers must be readable as what the client expects (compile-time only).
const _view: Web.PlanView = {} as PlanView;
const _timeline: Web.Timeline = {} as z.infer<typeof Timeline>;
const _info: Web.Info = {} as z.infer<typeof Info>;
const _phase: Web.Phase = {} as Phase;
void [_view, _timeline, _info, _phase];
