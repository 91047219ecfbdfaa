// How long the end-to-end and integration tests wait. These are deadlines, not expectations of
// speed: on an idle 2-core machine each wait below ends within a few seconds. They are set to
// hold with a second full test run and a compiler beside it on the same two cores, where a step
// of a 1 s-interval plan was seen to take up to 35 s. A test that asserts speed says so itself.

/** The controller reaching a state: a phase, a weight on a target, a plan gone. */
export const SETTLE_MS = 90_000;
/** A watch or a read catching up with a state already seen elsewhere (an Event after the status). */
export const CATCH_UP_MS = 30_000;
