// `trafficshift wait NAME --for Succeeded|RolledBack|Ready [--timeout 5m]`: the CI gate. It
// watches the plan and exits as soon as the answer is known:
//   0    the plan reached the state (Ready: its Ready condition is True)
//   1    it can no longer get there without a person: it settled elsewhere (waiting for
//        Succeeded or Ready and it is RollingBack, RolledBack or Failed; waiting for RolledBack
//        and it Succeeded or Failed), or it was deleted, or an error
//   2    --timeout passed first
//   130  Ctrl-C
// A plan that settled but has a retry (or, when Failed, a rollback) written and not yet handled
// is not judged until the controller has acted on it, nor one whose newest spec the controller
// has not seen yet: `trafficshift retry x && trafficshift wait x --for Succeeded` does not fail
// on the RolledBack it starts from.
import { Command, InvalidArgumentError, Option } from 'commander';
import { waitForPlan, watchPlan } from '../../steering/feed';
import { planView, type PlanView } from '../../steering/view';
import { withConnection, withConnectionOptions, type Connection, type ConnectionFlags } from '../connect';
import type { CliContext } from '../context';
import { INTERRUPTED, interruptible } from '../interrupt';
import { planMessage, truncate, whereText } from '../render';
import { aboutToMove, isSettled } from '../settled';
import { durationText, parseTimeout, TIMED_OUT } from './rollback';

export const WAIT_TARGETS = ['Succeeded', 'RolledBack', 'Ready'] as const;
export type WaitTarget = (typeof WAIT_TARGETS)[number];

export interface WaitFlags extends ConnectionFlags {
  for: WaitTarget;
  /** Milliseconds. */
  timeout: number;
}

export type Verdict = { ok: true; view: PlanView } | { ok: false; why: string };

function reached(view: PlanView, want: WaitTarget): boolean {
  switch (want) {
    case 'Succeeded':
      return view.phase === 'Succeeded';
    case 'RolledBack':
      return view.phase === 'RolledBack' && !aboutToMove(view);
    case 'Ready':
      return view.conditions.some((c) => c.type === 'Ready' && c.status === 'True') && !aboutToMove(view);
  }
}

/** The answer, once the plan as last seen gives one; undefined while it may still get there. */
export function judge(view: PlanView | undefined, want: WaitTarget, ref: { namespace: string; name: string }): Verdict | undefined {
  const id = `${ref.namespace}/${ref.name}`;
  if (view === undefined) return { ok: false, why: `${id} was deleted while waiting for ${want}` };
  if (reached(view, want)) return { ok: true, view };
  const why = planMessage(view);
  const detail = why === '' ? '' : `: ${truncate(why, 200)}`;
  // A rollback under way ends RolledBack, never Succeeded: no need to wait it out.
  if (want !== 'RolledBack' && view.phase === 'RollingBack') return { ok: false, why: `${id} is rolling back, so it will not be ${want}${detail}` };
  if (isSettled(view)) return { ok: false, why: `${id} is ${view.phase}, not ${want}, and will not get there without a person${detail}` };
  return undefined;
}

function parseWaitTarget(text: string): WaitTarget {
  const found = WAIT_TARGETS.find((t) => t.toLowerCase() === text.replace(/^condition=/i, '').toLowerCase());
  if (found === undefined) throw new InvalidArgumentError(`"${text}" is not one of ${WAIT_TARGETS.join(', ')}`);
  return found;
}

function success(view: PlanView, want: WaitTarget): string {
  const id = `${view.namespace}/${view.name}`;
  if (want === 'RolledBack') return `${id} is RolledBack: ${view.rollback?.reason ?? 'no reason recorded'}`;
  if (want === 'Ready') return `${id} is Ready (phase ${view.phase}, canary ${view.canaryWeight}%)`;
  return `${id} Succeeded (canary ${view.canaryWeight}%)`;
}

export async function runWait(conn: Connection, name: string, flags: WaitFlags, ctx: CliContext, signal: AbortSignal): Promise<number> {
  const ref = conn.ref(name);
  const feed = await watchPlan(conn.kube, ref);
  try {
    const verdict = await waitForPlan(feed, (obj) => judge(obj === undefined ? undefined : planView(obj), flags.for, ref), flags.timeout, { signal });
    if (verdict?.ok === true) {
      ctx.stdout.write(`${success(verdict.view, flags.for)}\n`);
      return 0;
    }
    if (verdict?.ok === false) {
      ctx.stderr.write(`error: ${verdict.why}\n`);
      return 1;
    }
    const last = feed.current();
    const view = last === undefined ? undefined : planView(last);
    const now = view === undefined ? 'gone' : `now ${view.phase} at ${whereText(view)}`;
    if (signal.aborted) {
      ctx.stderr.write(`interrupted while waiting for ${ref.namespace}/${ref.name} to be ${flags.for} (${now})\n`);
      return INTERRUPTED;
    }
    ctx.stderr.write(`error: timed out after ${durationText(flags.timeout)} waiting for ${ref.namespace}/${ref.name} to be ${flags.for} (${now})\n`);
    return TIMED_OUT;
  } finally {
    await feed.stop();
  }
}

export function waitCommand(ctx: CliContext): Command {
  const cmd = new Command('wait')
    .description('wait until a plan is Succeeded, RolledBack or Ready, for CI (exit 0 reached, 1 settled elsewhere or failed, 2 timed out)')
    .argument('<name>', 'the MigrationPlan');
  withConnectionOptions(cmd)
    .addOption(new Option('--for <state>', `the state to wait for: ${WAIT_TARGETS.join(', ')} (Ready: the Ready condition is True)`).argParser(parseWaitTarget).makeOptionMandatory())
    .addOption(
      new Option('--timeout <duration>', 'give up after this long').default(5 * 60_000, '5m').argParser(parseTimeout),
    )
    .action(async (name: string, flags: WaitFlags) => {
      ctx.setExitCode(await interruptible(ctx, (signal) => withConnection(ctx, flags, (conn) => runWait(conn, name, flags, ctx, signal))));
    });
  return cmd;
}
