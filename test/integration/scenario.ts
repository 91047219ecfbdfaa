// What the metric-gate integration files share: scenarios that run side by side in one file, and
// status polls gentle enough for several at once on a 2-core machine. Not a test file itself.
import { waitFor, type TestCluster } from '../support/cluster';
import { planStatus } from '../support/plans';
import type { MigrationPlanStatus, Phase } from '../../src/plan/schema';

/** How often a scenario reads its plan: several rounds a second would only load the API server. */
const POLL_MS = 150;

/** Aborted in teardown: every poll still waiting (a test that timed out) gives up at once. */
const stopping = new AbortController();

/** For afterAll, before stopping what the polls read: no poll outlives the file. */
export function stopPolling(): void {
  stopping.abort();
}

export class ScenarioStopped extends Error {
  override readonly name = 'ScenarioStopped';
}

export async function pollStatus(
  cluster: TestCluster,
  name: string,
  ok: (status: MigrationPlanStatus | undefined) => boolean,
  what: string,
  timeoutMs: number,
): Promise<MigrationPlanStatus> {
  let last: MigrationPlanStatus | undefined;
  try {
    await waitFor(async () => {
      if (stopping.signal.aborted) return true;
      return ok((last = await planStatus(cluster, name)));
    }, timeoutMs, `plan ${name}: ${what}`, POLL_MS);
  } catch (error) {
    const brief = last && {
      phase: last.phase,
      currentStep: last.currentStep,
      canaryWeight: last.canaryWeight,
      lastRound: last.lastRound,
      checks: last.checks?.map((c) => `${c.name}=${String(c.value)} ${c.result} x${c.consecutiveFailures}${c.message ? ` (${c.message})` : ''}`),
      history: last.history?.slice(-4).map((h) => `${h.event}@${h.weight}: ${h.message}`),
    };
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(brief)}`);
  }
  if (stopping.signal.aborted) throw new ScenarioStopped(`plan ${name}: stopped by teardown while waiting for ${what}`);
  return last as MigrationPlanStatus;
}

export function pollPhase(cluster: TestCluster, name: string, phase: Phase, timeoutMs: number): Promise<MigrationPlanStatus> {
  return pollStatus(cluster, name, (s) => s?.phase === phase, `phase ${phase}`, timeoutMs);
}

export function checkOf(status: MigrationPlanStatus | undefined, name: string): NonNullable<MigrationPlanStatus['checks']>[number] | undefined {
  return status?.checks?.find((c) => c.name === name);
}

/**
 * Scenarios of one file run at once: each starts in beforeAll and its test awaits what it saw.
 * A scenario that throws fails its own test only. (test.concurrent would not wait for beforeAll.)
 */
export class Scenarios<K extends string> {
  private readonly runs = new Map<K, Promise<unknown>>();

  start<T>(key: K, run: () => Promise<T>): void {
    const p = run();
    // Awaited by the scenario's test; until then a failure must not count as unhandled.
    p.catch(() => undefined);
    this.runs.set(key, p);
  }

  result<T>(key: K): Promise<T> {
    const p = this.runs.get(key);
    if (p === undefined) throw new Error(`scenario ${key} was never started (did beforeAll fail?)`);
    return p as Promise<T>;
  }

  /** Ends every scenario (a poll still waiting gives up at once, so each one's own cleanup runs)
   * and waits until all have ended, so teardown never pulls the rug from one. */
  async stop(): Promise<void> {
    stopPolling();
    await Promise.allSettled(this.runs.values());
  }
}
