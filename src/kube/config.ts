import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeConfigOptions {
  /** `--kubeconfig`: wins over everything else. */
  kubeconfig?: string;
  /** `--context`: a context of the loaded file; the file's current-context otherwise. */
  context?: string;
}

/** Where the defaults come from; tests pass their own instead of touching the process. */
export interface KubeConfigSources {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  /** Prefix in front of the pod's service-account path (/var/run/secrets/...); '' in production. */
  fsRoot: string;
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The usual kubeconfig search: `--kubeconfig`, then $KUBECONFIG (colon-separated files, merged,
 * the first one's current-context wins), then ~/.kube/config, then the in-cluster service
 * account. Unlike client-node's loadFromDefault it never falls back to http://localhost:8080:
 * finding nothing is an error that says where it looked.
 */
export function loadKubeConfig(
  opts: KubeConfigOptions = {},
  sources: KubeConfigSources = { env: process.env, home: homedir(), fsRoot: '' },
): KubeConfig {
  const kc = new KubeConfig();
  const envFiles = (sources.env['KUBECONFIG'] ?? '').split(process.platform === 'win32' ? ';' : ':').filter((f) => f !== '');
  const homeFile = join(sources.home, '.kube', 'config');
  const tokenFile = `${sources.fsRoot}${SERVICE_ACCOUNT_DIR}/token`;
  if (opts.kubeconfig) {
    loadFile(kc, opts.kubeconfig, '--kubeconfig');
  } else if (envFiles.length > 0) {
    const [first, ...rest] = envFiles as [string, ...string[]];
    loadFile(kc, first, '$KUBECONFIG');
    for (const file of rest) {
      const more = new KubeConfig();
      loadFile(more, file, '$KUBECONFIG');
      kc.mergeConfig(more, true);
    }
  } else if (existsSync(homeFile)) {
    loadFile(kc, homeFile, '~/.kube/config');
  } else if (sources.env['KUBERNETES_SERVICE_HOST'] && existsSync(tokenFile)) {
    kc.loadFromCluster(sources.fsRoot);
  } else {
    throw new KubeConfigError(
      `no kubeconfig found: no --kubeconfig, $KUBECONFIG is empty, ${homeFile} does not exist, and not running in a pod (no KUBERNETES_SERVICE_HOST or ${tokenFile})`,
    );
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new KubeConfigError(`context "${opts.context}" is not in the kubeconfig (contexts: ${known.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new KubeConfigError(`kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
  }
  return kc;
}

function loadFile(kc: KubeConfig, file: string, origin: string): void {
  if (!existsSync(file)) throw new KubeConfigError(`kubeconfig ${file} (from ${origin}) does not exist`);
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new KubeConfigError(`kubeconfig ${file} (from ${origin}) could not be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
