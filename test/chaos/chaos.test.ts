// The short chaos of `make test`: the harness of `make chaos` (src/bench/chaos.ts), two seeds of
// a few plans each, with its three leader SIGKILLs, one write in five answered 500 or 409, and
// watches ended with 410s. A failing seed reruns alone with
// `node dist/bench/chaos.js --runs 1 --seed <seed> --plans 6`.
//
// Each run ends by killing every controller process it started, whether it passed or threw (and
// test/support/jest/ kills any a timed-out test left behind).
import { ChaosChecks, DEFAULTS, runChaos } from '../../src/bench/chaos';

const SEEDS = [101, 102];
const PLANS = 6;
/** A run takes about 20 s on an idle 2-core machine: three kills each cost a lease (3 s) and a
 * Node start-up. The run's own deadline covers a machine several times slower (a whole `make
 * test` beside it); jest's limit adds the kills' own waits for a leader, which the run's
 * deadline does not bound. */
const RUN_DEADLINE_MS = 150_000;
const TEST_TIMEOUT_MS = 240_000;

let checks: ChaosChecks;

beforeAll(async () => {
  checks = new ChaosChecks();
  await checks.start();
});

afterAll(async () => {
  await checks?.stop();
});

it.each(SEEDS)(
  `seed %i: ${PLANS} plans through ${DEFAULTS.kills} leader kills and API faults end as seeded, each step written once, only by the Lease's holder`,
  async (seed) => {
    const result = await runChaos(seed, checks, { ...DEFAULTS, plans: PLANS, runDeadlineMs: RUN_DEADLINE_MS });
    const ended = result.plans.map((p) => ({ plan: p.name, phase: p.phase }));
    expect({ violations: result.violations, kills: result.kills.length, ended }).toEqual({
      violations: [],
      kills: DEFAULTS.kills,
      ended: result.plans.map((p) => ({ plan: p.name, phase: p.expected })),
    });
    // The faults really happened: a run that injected none would prove nothing.
    expect(result.faults.writes500 + result.faults.writes409).toBeGreaterThan(0);
    expect(result.faults.watchesExpired).toBeGreaterThan(0);
  },
  TEST_TIMEOUT_MS,
);

it(
  'catches two writers: with a Lease each, both replicas lead and write, and the run reports writes by the replica the Lease does not name',
  async () => {
    const result = await runChaos(103, checks, { ...DEFAULTS, plans: 4, kills: 0, runDeadlineMs: RUN_DEADLINE_MS, splitBrain: true });
    expect(result.violations).toEqual(expect.arrayContaining([expect.stringMatching(/ b: replica-b0 wrote .* while the Lease names replica-a0$/)]));
  },
  TEST_TIMEOUT_MS,
);
