// Programmatic fault injection for tests: make the next N matching requests fail, stall or
// lose their connection, the way a flaky API server or network does. A fault may hit only a
// fraction of the requests it matches (drawn from a random source the caller may seed), so a
// chaos run can answer one write in five with a 500 and rerun the same draws from its seed.

/** Each field matches one value, any of several, or (absent) everything. */
export interface FaultMatch {
  verb?: string | readonly string[];
  resource?: string | readonly string[];
  subresource?: string | readonly string[];
  namespace?: string | readonly string[];
  name?: string | readonly string[];
}

export type FaultResponse = { status: number; message?: string } | { delayMs: number } | 'dropConnection';

export interface FaultSpec {
  match: FaultMatch;
  /** A response, or one chosen per hit (say, a 500 or a 409 at random). */
  respond: FaultResponse | ((target: FaultTarget) => FaultResponse);
  /** How many matching requests this fault hits; unlimited when absent. */
  times?: number;
  /** The share of matching requests it hits, 0..1; every one when absent. */
  fraction?: number;
  /** Uniform in [0, 1), drawn once per matching request when `fraction` is set. Math.random by default. */
  random?: () => number;
}

export interface FaultHandle {
  remove(): void;
  /** How many requests this fault has hit so far. */
  readonly hits: number;
}

interface ActiveFault {
  spec: FaultSpec;
  hits: number;
}

export interface FaultTarget {
  verb: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

function fieldMatches(want: string | readonly string[] | undefined, value: string): boolean {
  if (want === undefined) return true;
  return typeof want === 'string' ? want === value : want.includes(value);
}

export class Faults {
  private readonly active = new Set<ActiveFault>();

  inject(spec: FaultSpec): FaultHandle {
    if (spec.fraction !== undefined && !(spec.fraction >= 0 && spec.fraction <= 1)) throw new Error(`fault fraction ${spec.fraction} is not within 0..1`);
    const fault: ActiveFault = { spec, hits: 0 };
    this.active.add(fault);
    return {
      remove: () => {
        this.active.delete(fault);
      },
      get hits() {
        return fault.hits;
      },
    };
  }

  clear(): void {
    this.active.clear();
  }

  /** The response of the first fault that matches and hits, counting the hit; undefined if none.
   * A fault that matches but spares this request (its fraction) lets later faults try. */
  take(target: FaultTarget): FaultResponse | undefined {
    for (const fault of this.active) {
      const m = fault.spec.match;
      if (
        fieldMatches(m.verb, target.verb) &&
        fieldMatches(m.resource, target.resource) &&
        fieldMatches(m.subresource, target.subresource) &&
        fieldMatches(m.namespace, target.namespace) &&
        fieldMatches(m.name, target.name)
      ) {
        const { fraction, random = Math.random } = fault.spec;
        if (fraction !== undefined && random() >= fraction) continue;
        fault.hits++;
        if (fault.spec.times !== undefined && fault.hits >= fault.spec.times) this.active.delete(fault);
        const respond = fault.spec.respond;
        return typeof respond === 'function' ? respond(target) : respond;
      }
    }
    return undefined;
  }
}
