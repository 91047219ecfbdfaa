// A real Alertmanager for integration tests: one receiver, a webhook to the controller's
// POST /api/v1/alerts, and grouping timers short enough that a firing alert reaches the webhook
// within a second or two. Clustering is off (an empty --cluster.listen-address), so nothing
// listens beyond the loopback port it is given.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { freePort, launchServer, type ServerProcess } from '../../src/demo/prometheus';
import { BINARIES } from './prometheus';

export interface RunningAlertmanager {
  /** e.g. http://127.0.0.1:40124 */
  address: string;
  /** host:port, for Prometheus' alerting config. */
  host: string;
  /** The alerts it holds now (active, silenced or inhibited). */
  alerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string } }>>;
  stop(): Promise<void>;
}

function configYaml(webhookUrl: string, credentialsFile: string | undefined): string {
  return [
    'route:',
    '  receiver: trafficshift',
    // One group per alert, sent at once and again a second after any change (a resolve).
    "  group_by: ['...']",
    '  group_wait: 0s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: trafficshift',
    '    webhook_configs:',
    `      - url: ${JSON.stringify(webhookUrl)}`,
    '        send_resolved: true',
    // As a cluster runs it: a ServiceAccount token file, sent as a bearer token.
    ...(credentialsFile ? ['        http_config:', '          authorization:', `            credentials_file: ${JSON.stringify(credentialsFile)}`] : []),
    '',
  ].join('\n');
}

const AlertList = z.array(
  z.looseObject({ labels: z.record(z.string(), z.string()), status: z.looseObject({ state: z.string() }) }),
);

export async function startAlertmanager(options: { webhookUrl: string; bearerToken?: string }): Promise<RunningAlertmanager> {
  const binary = BINARIES.alertmanager;
  if (binary === undefined) throw new Error('alertmanager binary not found on PATH; guard the caller with haveBinaries("alertmanager")');
  const dir = mkdtempSync(join(tmpdir(), 'trafficshift-alertmanager-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const config = join(dir, 'alertmanager.yml');
  let credentialsFile: string | undefined;
  if (options.bearerToken !== undefined) {
    credentialsFile = join(dir, 'token');
    writeFileSync(credentialsFile, options.bearerToken, { mode: 0o600 });
  }
  writeFileSync(config, configYaml(options.webhookUrl, credentialsFile));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const address = `http://${host}`;
  let server: ServerProcess;
  try {
    server = await launchServer(
      binary,
      [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=${host}`, '--cluster.listen-address=', '--log.level=warn'],
      `${address}/-/ready`,
      30_000,
    );
  } catch (error) {
    remove();
    throw error;
  }
  return {
    address,
    host,
    async alerts() {
      const res = await fetch(`${address}/api/v2/alerts`);
      return AlertList.parse(await res.json());
    },
    async stop() {
      await server.stop();
      remove();
    },
  };
}
