// `trafficshift list`: every plan in a namespace (or all), as `kubectl get mp` would show it
// with the step and a short message; `-o json|yaml` gives the plans' views for scripts. One LIST
// call: the weights are those the plans' status records (`status NAME` reads the targets live).
import { Command, Option } from 'commander';
import type { KubeObject } from '../../kube';
import { plansResource } from '../../plan/ref';
import { NotAPlan, planView, type PlanView } from '../../steering/view';
import { withConnection, withConnectionOptions, type Connection, type ConnectionFlags } from '../connect';
import type { CliContext } from '../context';
import { listTable, serialize, type OutputFormat } from '../render';

export interface ListFlags extends ConnectionFlags {
  selector?: string;
  output?: OutputFormat;
}

function viewsOf(items: readonly KubeObject[]): PlanView[] {
  const views: PlanView[] = [];
  for (const item of items) {
    try {
      views.push(planView(item));
    } catch (error) {
      if (!(error instanceof NotAPlan)) throw error;
    }
  }
  return views.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export async function runList(conn: Connection, flags: ListFlags, ctx: CliContext, now: () => Date = () => new Date()): Promise<number> {
  const allNamespaces = flags.allNamespaces === true;
  const list = await conn.kube.list(plansResource(allNamespaces ? undefined : conn.namespace), flags.selector ? { labelSelector: flags.selector } : {});
  const views = viewsOf(list.items);
  if (flags.output !== undefined) {
    ctx.stdout.write(serialize({ items: views }, flags.output));
    return 0;
  }
  if (views.length === 0) {
    // kubectl's wording, on stderr, so `| wc -l` counts plans.
    ctx.stderr.write(allNamespaces ? 'No resources found\n' : `No resources found in ${conn.namespace} namespace.\n`);
    return 0;
  }
  ctx.stdout.write(`${listTable(views, { allNamespaces, now: now() }).join('\n')}\n`);
  return 0;
}

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'print for scripts instead of people').choices(['json', 'yaml']);
}

export function listCommand(ctx: CliContext): Command {
  const cmd = new Command('list')
    .alias('ls')
    .description('list migration plans: phase, step, canary weight, age and what each is doing');
  withConnectionOptions(cmd, { allNamespaces: true })
    .option('-l, --selector <selector>', 'label selector, passed to the API server (e.g. team=shop,tier!=edge)')
    .addOption(outputOption())
    .action(async (flags: ListFlags) => {
      ctx.setExitCode(await withConnection(ctx, flags, (conn) => runList(conn, flags, ctx)));
    });
  return cmd;
}
