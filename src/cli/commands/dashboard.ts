// `trafficshift dashboard`: opens the controller's dashboard signed in as the current kubeconfig
// user. It prints URL/#token=TOKEN, with the bearer token the kubeconfig gives that user (a token,
// a token file, or an exec or auth-provider plugin's, usually short-lived), and opens it in a
// browser. A fragment never reaches the server: the page moves the token to the tab's session
// storage and takes it out of the address bar. The dashboard acts with that token, so cluster
// RBAC decides what the viewer may see and steer, as for kubectl.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { z } from 'zod';
import { Command, InvalidArgumentError } from 'commander';
import { KubeConfigError, type KubeConfigSources } from '../../kube';
import { connect, withConnectionOptions, type ConnectionFlags } from '../connect';
import type { CliContext } from '../context';

export const DEFAULT_DASHBOARD_URL = 'http://127.0.0.1:8080';
export const PORT_FORWARD_HINT = 'kubectl port-forward -n trafficshift-system svc/trafficshift 8080';

export interface DashboardFlags extends ConnectionFlags {
  url: string;
  /** commander's --no-open: false when given. */
  open: boolean;
}

export interface DashboardDeps {
  sources?: KubeConfigSources;
  /** Opens a URL in a browser; resolves false when it could not. */
  openUrl?: (url: string) => Promise<boolean>;
  platform?: NodeJS.Platform;
}

export function parseDashboardUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`"${text}" is not a URL (e.g. ${DEFAULT_DASHBOARD_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`"${text}" is not an http(s) URL`);
  if (url.hash !== '' || url.search !== '') throw new InvalidArgumentError(`"${text}": give the controller's address without a query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

/** The bearer token the kubeconfig's current user sends (running its exec or auth-provider
 * plugin when it has one); undefined when it authenticates otherwise (client certificates,
 * basic auth). */
export async function bearerTokenOf(kubeConfig: ConnectionLike['kubeConfig']): Promise<string | undefined> {
  const options = await kubeConfig.applyToFetchOptions({});
  const header = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).get('authorization');
  const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

type ConnectionLike = ReturnType<typeof connect>;

const KubeconfigUsers = z.looseObject({ users: z.array(z.looseObject({ name: z.string(), user: z.looseObject({ tokenFile: z.string().optional() }).optional() })).optional() });

/** kubectl's `tokenFile` for the user `user`, read from the kubeconfig files in the order kubectl
 * merges them (the first file naming the user wins). client-node reads only `token-file`, so a
 * kubeconfig written for kubectl would otherwise look tokenless. */
export function tokenFromTokenFile(flags: ConnectionFlags, user: string, env: NodeJS.ProcessEnv = process.env, home = homedir()): string | undefined {
  const files = flags.kubeconfig
    ? [flags.kubeconfig]
    : (env['KUBECONFIG'] ?? '').split(path.delimiter).filter((f) => f !== '').concat(env['KUBECONFIG'] ? [] : [path.join(home, '.kube', 'config')]);
  for (const file of files) {
    let parsed;
    try {
      parsed = KubeconfigUsers.safeParse(load(readFileSync(file, 'utf8')));
    } catch {
      continue;
    }
    const entry = parsed.data?.users?.find((u) => u.name === user);
    if (entry === undefined) continue;
    const tokenFile = entry.user?.tokenFile;
    if (tokenFile === undefined) return undefined;
    const token = readFileSync(path.isAbsolute(tokenFile) ? tokenFile : path.join(path.dirname(file), tokenFile), 'utf8').trim();
    return token === '' ? undefined : token;
  }
  return undefined;
}

/** The platform's "open this URL" program and its arguments. */
export function openCommand(url: string, platform: NodeJS.Platform = process.platform): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  // cmd's start takes the first quoted argument as a window title, and & separates commands.
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
  return ['xdg-open', [url]];
}

/** Starts `command` detached (the CLI never waits for the browser); false when it cannot start. */
export function startDetached(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(command, args, { stdio: 'ignore', detached: true });
    } catch {
      resolve(false);
      return;
    }
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  return startDetached(...openCommand(url, platform));
}

export async function runDashboard(flags: DashboardFlags, ctx: CliContext, deps: DashboardDeps = {}): Promise<number> {
  let conn: ConnectionLike;
  try {
    conn = connect(flags, deps.sources);
  } catch (error) {
    if (!(error instanceof KubeConfigError)) throw error;
    ctx.stderr.write(`error: ${error.message.split('\n')[0]?.trim()}\n`);
    return 1;
  }
  try {
    let token: string | undefined;
    try {
      token = (await bearerTokenOf(conn.kubeConfig)) ?? tokenFromTokenFile(flags, conn.user, deps.sources?.env, deps.sources?.home);
    } catch (error) {
      ctx.stderr.write(`error: cannot get a token for the kubeconfig user "${conn.user}": ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
      return 1;
    }
    if (token === undefined) {
      ctx.stderr.write(
        `error: the dashboard needs a bearer token, and the kubeconfig user "${conn.user}" has none (it authenticates with a client certificate or a password).\n` +
          'Get one for a ServiceAccount with the RBAC you need and paste it into the dashboard, or put it in your kubeconfig:\n' +
          '  kubectl create token <serviceaccount> -n <namespace>\n',
      );
      return 1;
    }
    const query = flags.namespace ? `?namespace=${encodeURIComponent(flags.namespace)}` : '';
    const url = `${flags.url}/${query}#token=${encodeURIComponent(token)}`;
    ctx.stdout.write(`${url}\n`);
    ctx.stderr.write(
      `The dashboard acts as the kubeconfig user "${conn.user}" with this token (kept in the browser tab's session storage only; the #fragment is never sent to the server).\n` +
        `Reach the controller first if it is in a cluster: ${PORT_FORWARD_HINT}\n`,
    );
    if (flags.open) {
      const opened = await (deps.openUrl ?? ((u: string) => openInBrowser(u, deps.platform)))(url).catch(() => false);
      if (!opened) ctx.stderr.write('Could not open a browser here: open the URL above yourself.\n');
    }
    return 0;
  } finally {
    conn.kube.close();
  }
}

export function dashboardCommand(ctx: CliContext, deps: DashboardDeps = {}): Command {
  const cmd = new Command('dashboard').description("open the controller's dashboard in a browser, signed in with the current kubeconfig user's bearer token");
  withConnectionOptions(cmd)
    .option('--url <url>', `the controller's address (${PORT_FORWARD_HINT} makes the default reach it)`, parseDashboardUrl, DEFAULT_DASHBOARD_URL)
    .option('--no-open', 'print the URL only; do not start a browser')
    .action(async (flags: DashboardFlags) => {
      ctx.setExitCode(await runDashboard(flags, ctx, deps));
    });
  return cmd;
}
