// `trafficshift status NAME [--watch]`: one plan as people look at it: phase, a step progress
// bar, the live weight on each target, every check's latest value against its threshold,
// pending requests, the rollback and the last events.
//
// --watch follows the plan through a watch on it (no polling of the plan; the live target
// weights are read again on each change and every few seconds, since the controller writes
// targets after the status). It ends on Ctrl-C (exit 0) or once the plan is settled (Succeeded,
// RolledBack or Failed, with nothing pending that would move it again; exit 0, also when it
// already was at the start), and exits 1 if the plan is deleted. In a terminal the view is
// redrawn in place; piped, one line per visible change; with -o json one JSON document per line
// per change (-o yaml: one YAML document each).
import { Command } from 'commander';
import type { KubeObject } from '../../kube';
import type { PlanRef } from '../../plan/ref';
import { watchPlan } from '../../steering/feed';
import { getPlan } from '../../steering/requests';
import { planView, readTargetWeights, type PlanView } from '../../steering/view';
import { withConnection, withConnectionOptions, type Connection, type ConnectionFlags } from '../connect';
import type { CliContext, TextSink } from '../context';
import { interruptible } from '../interrupt';
import { compactLine, compactState, serialize, statusLines, truncate, type OutputFormat } from '../render';
import { isSettled } from '../settled';
import { outputOption } from './list';

export interface StatusFlags extends ConnectionFlags {
  watch?: boolean;
  output?: OutputFormat;
}

export interface StatusDeps {
  now?: () => Date;
  /** How often --watch reads the live target weights again without a change of the plan. */
  refreshMs?: number;
}

/** The view with every target's live weight (a target that cannot be read says why). */
export async function liveView(conn: Connection, obj: KubeObject): Promise<PlanView> {
  return planView(obj, await readTargetWeights(conn.kube, obj));
}

interface Presenter {
  /** `last`: the plan is settled and the watch ends with this view. */
  show(view: PlanView, last: boolean): void;
}

/** Cursor up N lines to column 1, and clear from there to the end of the screen. */
export const ANSI = {
  up: (n: number): string => `\x1b[${n}A\r`,
  clearLine: '\x1b[2K',
  clearBelow: '\x1b[J',
};

interface TerminalLike extends TextSink {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/** Redraws the whole view in place: up to the first line of the last frame, each line cleared
 * and rewritten, anything the last frame had below cleared. Lines are cut to the terminal's
 * width (a wrapped line would throw the count off) and the frame to its height. */
function terminalPresenter(out: TerminalLike, now: () => Date): Presenter {
  let drawn = 0;
  let lastBody: string | undefined;
  return {
    show(view, last) {
      const body = statusLines(view, now());
      // Nothing visible changed (the ages in it do change, once a second at most).
      if (!last && body.join('\n') === lastBody) return;
      lastBody = body.join('\n');
      let lines = [...body, last ? `(${view.phase}: done watching)` : '(watching; Ctrl-C to stop)'];
      const width = out.columns && out.columns > 10 ? out.columns - 1 : undefined;
      if (width !== undefined) lines = lines.map((l) => truncate(l, width));
      if (out.rows && out.rows > 3 && lines.length > out.rows - 1) lines = [...lines.slice(0, out.rows - 2), '…', lines[lines.length - 1] as string];
      out.write(`${drawn > 0 ? ANSI.up(drawn) : ''}${lines.map((l) => `${ANSI.clearLine}${l}\n`).join('')}${ANSI.clearBelow}`);
      drawn = lines.length;
    },
  };
}

/** One line per visible change, with the time. */
function linePresenter(out: TextSink, now: () => Date): Presenter {
  let last: string | undefined;
  return {
    show(view) {
      const state = compactState(view);
      if (state === last) return;
      last = state;
      out.write(`${compactLine(view, now())}\n`);
    },
  };
}

/** One document per change: a JSON line, or a YAML document. */
function documentPresenter(out: TextSink, format: OutputFormat): Presenter {
  let last: string | undefined;
  return {
    show(view) {
      const text = serialize(view, format, { oneLine: true });
      if (text === last) return;
      last = text;
      out.write(format === 'yaml' ? `---\n${text}` : text);
    },
  };
}

function presenterFor(flags: StatusFlags, ctx: CliContext, now: () => Date): Presenter {
  if (flags.output !== undefined) return documentPresenter(ctx.stdout, flags.output);
  if ((ctx.stdout as TerminalLike).isTTY === true) return terminalPresenter(ctx.stdout, now);
  return linePresenter(ctx.stdout, now);
}

const REFRESH_MS = 2_000;

export async function watchStatus(conn: Connection, ref: PlanRef, flags: StatusFlags, ctx: CliContext, signal: AbortSignal, deps: StatusDeps = {}): Promise<number> {
  const now = deps.now ?? ((): Date => new Date());
  const presenter = presenterFor(flags, ctx, now);
  const feed = await watchPlan(conn.kube, ref);
  try {
    for (;;) {
      // Listen before reading, so a change while the targets are read is not missed.
      const refresh = new AbortController();
      const timer = setTimeout(() => refresh.abort(), deps.refreshMs ?? REFRESH_MS);
      const next = feed.nextChange(AbortSignal.any([signal, refresh.signal]));
      try {
        const obj = feed.current();
        if (obj === undefined) {
          ctx.stderr.write(`${ref.namespace}/${ref.name} was deleted\n`);
          return 1;
        }
        const view = await liveView(conn, obj);
        const settled = isSettled(view);
        presenter.show(view, settled);
        if (settled) return 0;
        await next;
      } finally {
        clearTimeout(timer);
      }
      if (signal.aborted) return 0;
    }
  } finally {
    await feed.stop();
  }
}

export async function runStatus(conn: Connection, name: string, flags: StatusFlags, ctx: CliContext, signal: AbortSignal, deps: StatusDeps = {}): Promise<number> {
  const ref = conn.ref(name);
  if (flags.watch) return watchStatus(conn, ref, flags, ctx, signal, deps);
  const view = await liveView(conn, await getPlan(conn.kube, ref));
  ctx.stdout.write(flags.output !== undefined ? serialize(view, flags.output) : `${statusLines(view, (deps.now ?? (() => new Date()))()).join('\n')}\n`);
  return 0;
}

export function statusCommand(ctx: CliContext): Command {
  const cmd = new Command('status')
    .description('show a plan: phase, step progress, live weight per target, check values against thresholds, requests, rollback, last events')
    .argument('<name>', 'the MigrationPlan');
  withConnectionOptions(cmd)
    .option('-w, --watch', 'keep showing the plan as it changes, until it is settled (Succeeded, RolledBack, Failed) or Ctrl-C; redrawn in a terminal, one line per change when piped')
    .addOption(outputOption())
    .action(async (name: string, flags: StatusFlags) => {
      ctx.setExitCode(await interruptible(ctx, (signal) => withConnection(ctx, flags, (conn) => runStatus(conn, name, flags, ctx, signal))));
    });
  return cmd;
}
