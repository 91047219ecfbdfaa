// `trafficshift rollback NAME [--reason TEXT] [--timeout 60s] [--no-wait]`: the one-command
// rollback. It writes the rollback request (the trafficshift.io/rollback annotation), watches the
// plan until the controller has put every target back on stable, reads each target to make sure,
// and prints the reason, the recovery time and every target at 0.
//
// Exit: 0 once RolledBack (also when it already was); 1 when refused (a Succeeded plan) or on an
// error; 2 when not rolled back within --timeout (the request stands; the line names the targets
// still carrying traffic); 130 on Ctrl-C (the request stands). --no-wait: 0 once written.
import { Command, Option } from 'commander';
import type { KubeObject } from '../../kube';
import type { PlanRef } from '../../plan/ref';
import { watchPlan, type PlanFeed } from '../../steering/feed';
import { getPlan } from '../../steering/requests';
import { rollBackAndWait, type RollbackOutcome } from '../../steering/rollback';
import type { TargetWeight } from '../../steering/view';
import { withConnection, withConnectionOptions, type Connection, type ConnectionFlags } from '../connect';
import type { CliContext } from '../context';
import { parseDurationFlag } from '../flags';
import { INTERRUPTED, interruptible } from '../interrupt';
import { table, truncate } from '../render';

export interface RollbackFlags extends ConnectionFlags {
  reason?: string;
  /** Milliseconds. */
  timeout: number;
  /** false with --no-wait. */
  wait: boolean;
}

/** Exit code when the rollback (or `wait`) did not finish in time. */
export const TIMED_OUT = 2;

export function durationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = ms / 1000;
  return seconds < 120 ? `${Number(seconds.toFixed(1))}s` : `${Number((seconds / 60).toFixed(1))}m`;
}

export function defaultReason(conn: Connection): string {
  return `rollback requested by ${conn.user} via trafficshift CLI`;
}

function targetLines(targets: readonly TargetWeight[]): string[] {
  return table(targets.map((t) => [t.target, t.weight === null ? '?' : `${t.weight}%`, t.problem ?? '']), '  ');
}

function carryingText(targets: readonly TargetWeight[]): string {
  return targets.map((t) => (t.weight === null ? `${t.target} (${truncate(t.problem ?? 'cannot read', 160)})` : `${t.target} at ${t.weight}%`)).join(', ');
}

/** A feed that shows the plan as read once: for --no-wait, which waits for nothing and so
 * needs no watch (nor list and watch rights). */
function snapshotFeed(obj: KubeObject): PlanFeed {
  return { current: () => obj, nextChange: () => Promise.resolve() };
}

function report(outcome: RollbackOutcome, ref: PlanRef, flags: RollbackFlags, ctx: CliContext, signal: AbortSignal): number {
  const id = `${ref.namespace}/${ref.name}`;
  switch (outcome.kind) {
    case 'done': {
      const took = outcome.recoverySeconds === undefined ? '' : ` in ${outcome.recoverySeconds}s`;
      ctx.stdout.write(outcome.written ? `rolled back ${id}${took}: ${outcome.reason}\n` : `${id} was already rolled back${took}: ${outcome.reason}\n`);
      const lines = targetLines(outcome.targets);
      if (lines.length > 0) ctx.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
    case 'refused':
      ctx.stderr.write(`error: cannot roll back: ${outcome.message}\n`);
      return 1;
    case 'pending': {
      if (!flags.wait) {
        ctx.stdout.write(`rollback of ${id} requested: ${outcome.reason}\n(not waiting; trafficshift wait ${ref.name} -n ${ref.namespace} --for RolledBack waits for it)\n`);
        return 0;
      }
      const still = outcome.carrying.length > 0
        ? `still carrying canary traffic: ${carryingText(outcome.carrying)}`
        : 'no target carries canary traffic, but the controller has not confirmed the rollback yet (is it running?)';
      if (signal.aborted) {
        ctx.stderr.write(`interrupted: the rollback request for ${id} stands and the controller carries it out (phase ${outcome.phase}); ${still}\n`);
        return INTERRUPTED;
      }
      ctx.stderr.write(`error: ${id} is not rolled back after ${durationText(flags.timeout)} (phase ${outcome.phase}; the request stands): ${still}\n`);
      return TIMED_OUT;
    }
  }
}

export async function runRollback(conn: Connection, name: string, flags: RollbackFlags, ctx: CliContext, signal: AbortSignal): Promise<number> {
  const ref = conn.ref(name);
  const reason = flags.reason?.trim() || defaultReason(conn);
  if (!flags.wait) {
    const outcome = await rollBackAndWait(conn.kube, snapshotFeed(await getPlan(conn.kube, ref)), ref, reason, { timeoutMs: 0 });
    return report(outcome, ref, flags, ctx, signal);
  }
  const feed = await watchPlan(conn.kube, ref);
  try {
    const outcome = await rollBackAndWait(conn.kube, feed, ref, reason, { timeoutMs: flags.timeout, signal });
    return report(outcome, ref, flags, ctx, signal);
  } finally {
    await feed.stop();
  }
}

export function parseTimeout(text: string): number {
  return parseDurationFlag(text, 1000, 'wait at least 1s');
}

export function rollbackCommand(ctx: CliContext): Command {
  const cmd = new Command('rollback')
    .description('put all traffic back on stable now, and wait until every target holds 0 (exit 0 rolled back, 1 refused or failed, 2 timed out)')
    .argument('<name>', 'the MigrationPlan');
  withConnectionOptions(cmd)
    .option('--reason <text>', 'why; shown in the status, the events and notifications (default: who asked, via the CLI)')
    .addOption(new Option('--timeout <duration>', 'how long to wait for every target to hold 0').default(60_000, '60s').argParser(parseTimeout))
    .option('--no-wait', 'write the request and return at once')
    .action(async (name: string, flags: RollbackFlags) => {
      ctx.setExitCode(await interruptible(ctx, (signal) => withConnection(ctx, flags, (conn) => runRollback(conn, name, flags, ctx, signal))));
    });
  return cmd;
}
