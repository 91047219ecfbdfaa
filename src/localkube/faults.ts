// Programmatic fault injection for tests: make the next N matching requests fail, stall or
// lose their connection, the way a flaky API server or network does.

export interface FaultMatch {
  verb?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type FaultResponse = { status: number; message?: string } | { delayMs: number } | 'dropConnection';

export interface FaultSpec {
  match: FaultMatch;
  respond: FaultResponse;
  /** How many matching requests this fault hits; unlimited when absent. */
  times?: number;
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

export class Faults {
  private readonly active = new Set<ActiveFault>();

  inject(spec: FaultSpec): FaultHandle {
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

  /** The response of the first fault that matches, counting the hit; undefined if none. */
  take(target: FaultTarget): FaultResponse | undefined {
    for (const fault of this.active) {
      const m = fault.spec.match;
      if (
        (m.verb === undefined || m.verb === target.verb) &&
        (m.resource === undefined || m.resource === target.resource) &&
        (m.subresource === undefined || m.subresource === target.subresource) &&
        (m.namespace === undefined || m.namespace === target.namespace) &&
        (m.name === undefined || m.name === target.name)
      ) {
        fault.hits++;
        if (fault.spec.times !== undefined && fault.hits >= fault.spec.times) this.active.delete(fault);
        return fault.spec.respond;
      }
    }
    return undefined;
  }
}
