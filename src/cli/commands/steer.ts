// `trafficshift pause|resume|promote|retry NAME`: each writes exactly the patch kubectl would
// (src/steering/requests), and writes nothing when the plan already is where it was asked to
// go. A request the plan's phase cannot take is refused here with exit 1, before anything is
// written, rather than written and then ignored by the controller.
import { Command } from 'commander';
import { ACTIVE_PHASES } from '../../engine/steps';
import type { Phase } from '../../plan/schema';
import { getPlan, requestPromote, requestRetry, setPaused } from '../../steering/requests';
import { planView, type PlanView } from '../../steering/view';
import { withConnection, withConnectionOptions, type Connection, type ConnectionFlags } from '../connect';
import type { CliContext } from '../context';
import { whereText } from '../render';

type SteerFlags = ConnectionFlags;

function id(view: PlanView): string {
  return `${view.namespace}/${view.name}`;
}

async function currentView(conn: Connection, name: string): Promise<PlanView> {
  return planView(await getPlan(conn.kube, conn.ref(name)));
}

export async function runPause(conn: Connection, name: string, paused: boolean, ctx: CliContext): Promise<number> {
  const view = await currentView(conn, name);
  if (view.paused === paused) {
    ctx.stdout.write(`${id(view)} is already ${paused ? 'paused' : 'not paused'} (phase ${view.phase}); nothing written\n`);
    return 0;
  }
  await setPaused(conn.kube, conn.ref(name), paused);
  ctx.stdout.write(
    paused
      ? `${id(view)} paused: it holds at canary ${view.canaryWeight}% until resumed (checks still run and can still roll it back)\n`
      : `${id(view)} resumed at ${whereText(view)}\n`,
  );
  return 0;
}

const PROMOTABLE: readonly Phase[] = ACTIVE_PHASES;

export async function runPromote(conn: Connection, name: string, ctx: CliContext): Promise<number> {
  const view = await currentView(conn, name);
  if (!PROMOTABLE.includes(view.phase)) {
    ctx.stderr.write(`error: cannot promote ${id(view)}: it is ${view.phase}; promote works while it is ${PROMOTABLE.join(', ')}\n`);
    return 1;
  }
  if (view.pendingRequests.promote !== undefined) {
    ctx.stdout.write(`${id(view)}: a promote is already pending ("${view.pendingRequests.promote}"); nothing written\n`);
    return 0;
  }
  await requestPromote(conn.kube, conn.ref(name));
  const note =
    view.phase === 'Paused' ? '; it stays paused until resumed' : view.phase === 'Holding' ? '; a hold (a failing check, a target it cannot read) still stops it' : '';
  ctx.stdout.write(`${id(view)} promoted at ${whereText(view)}: the controller waives this step's pause${note}\n`);
  return 0;
}

export async function runRetry(conn: Connection, name: string, ctx: CliContext): Promise<number> {
  const view = await currentView(conn, name);
  switch (view.phase) {
    case 'RolledBack':
    case 'Failed': {
      if (view.pendingRequests.retry !== undefined) {
        ctx.stdout.write(`${id(view)}: a retry is already pending ("${view.pendingRequests.retry}"); nothing written\n`);
        return 0;
      }
      await requestRetry(conn.kube, conn.ref(name));
      ctx.stdout.write(`${id(view)} retried: it starts again from the first step\n`);
      return 0;
    }
    case 'RollingBack':
      ctx.stderr.write(`error: cannot retry ${id(view)}: it is rolling back; retry once it is RolledBack (trafficshift wait ${view.name} --for RolledBack)\n`);
      return 1;
    case 'Succeeded':
      ctx.stderr.write(`error: cannot retry ${id(view)}: it Succeeded, which is final; to migrate again, create a new plan\n`);
      return 1;
    default:
      ctx.stdout.write(`${id(view)} is already running (phase ${view.phase}); nothing written\n`);
      return 0;
  }
}

function steerCommand(ctx: CliContext, name: string, description: string, run: (conn: Connection, plan: string) => Promise<number>): Command {
  const cmd = new Command(name).description(description).argument('<name>', 'the MigrationPlan');
  return withConnectionOptions(cmd).action(async (plan: string, flags: SteerFlags) => {
    ctx.setExitCode(await withConnection(ctx, flags, (conn) => run(conn, plan)));
  });
}

export function pauseCommand(ctx: CliContext): Command {
  return steerCommand(ctx, 'pause', 'hold a plan at its current weight (sets spec.paused; checks still run)', (conn, plan) => runPause(conn, plan, true, ctx));
}

export function resumeCommand(ctx: CliContext): Command {
  return steerCommand(ctx, 'resume', 'let a paused plan go on (clears spec.paused)', (conn, plan) => runPause(conn, plan, false, ctx));
}

export function promoteCommand(ctx: CliContext): Command {
  return steerCommand(ctx, 'promote', "waive the current step's pause or promotion gate (the trafficshift.io/promote annotation)", (conn, plan) => runPromote(conn, plan, ctx));
}

export function retryCommand(ctx: CliContext): Command {
  return steerCommand(ctx, 'retry', 'start a RolledBack or Failed plan again from its first step (the trafficshift.io/retry annotation)', (conn, plan) => runRetry(conn, plan, ctx));
}
