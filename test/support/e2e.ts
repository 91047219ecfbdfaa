// The setup most end-to-end files share, registered once per file: a cluster seen through a
// namespace of its own, a webhook check server, the built controller process, and the targets
// the file makes (their weight recorders stop at the end). Read the fields inside tests and hooks:
// they are set in beforeAll.
import { startCluster, type ClusterOptions, type TestCluster } from './cluster';
import { CheckServer } from './checkServer';
import { startControllerProcess, type ControllerProcess, type ControllerProcessOptions } from './controllerProcess';
import { makeTarget } from './plans';
import type { Target } from '../../src/plan/schema';
import type { WeightRecorder } from './targets';

export interface E2eRun {
  readonly cluster: TestCluster;
  readonly checks: CheckServer;
  /** The check server's URL, for webhook checks. */
  readonly checkUrl: string;
  readonly controller: ControllerProcess;
  /** A target of `provider` named `base`, its objects created, its recorder stopped at the end. */
  target(provider: Target['provider'], base: string): Promise<{ target: Target; recorder: WeightRecorder }>;
}

export function useE2eRun(label: string, options: ControllerProcessOptions & { cluster?: ClusterOptions } = {}): E2eRun {
  const recorders: WeightRecorder[] = [];
  const state: { cluster?: TestCluster; checks?: CheckServer; checkUrl?: string; controller?: ControllerProcess } = {};
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not there: read it inside a test or hook, after beforeAll`);
    return value;
  };

  beforeAll(async () => {
    state.cluster = await startCluster(label, options.cluster);
    state.checks = new CheckServer();
    state.checkUrl = await state.checks.start();
    state.controller = await startControllerProcess(state.cluster, options);
  });

  afterAll(async () => {
    for (const r of recorders) r.stop();
    await state.controller?.stop();
    await state.checks?.stop();
    await state.cluster?.close();
  });

  return {
    get cluster() {
      return need(state.cluster, 'the cluster');
    },
    get checks() {
      return need(state.checks, 'the check server');
    },
    get checkUrl() {
      return need(state.checkUrl, 'the check server');
    },
    get controller() {
      return need(state.controller, 'the controller');
    },
    async target(provider, base) {
      const made = await makeTarget(need(state.cluster, 'the cluster'), provider, base);
      recorders.push(made.recorder);
      return made;
    },
  };
}
