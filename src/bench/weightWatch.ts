// The scale bench times a rollback from the request sent to the moment its own watch of Ingresses
// sees every target at 0: this keeps each canary Ingress's latest weight as the watch delivers it,
// and wakes whoever waits for a set of them to hold one weight, with the time the last one was seen.

interface Waiter {
  names: readonly string[];
  weight: number;
  resolve: (seenAt: number | null) => void;
  timer: NodeJS.Timeout;
}

export class WeightWatch {
  private readonly weights = new Map<string, number>();
  private waiters: Waiter[] = [];

  /** What the watch delivered for one canary Ingress, and when; undefined once it is deleted. */
  see(name: string, weight: number | undefined, at: number): void {
    if (weight === undefined) this.weights.delete(name);
    else this.weights.set(name, weight);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!this.holds(w.names, w.weight)) return true;
      clearTimeout(w.timer);
      w.resolve(at);
      return false;
    });
  }

  weight(name: string): number | undefined {
    return this.weights.get(name);
  }

  private holds(names: readonly string[], weight: number): boolean {
    return names.every((n) => this.weights.get(n) === weight);
  }

  /**
   * The time the watch saw every one of `names` at `weight`: now when they already are, null when
   * not within `timeoutMs`. Call it before sending the request it times, so no event is missed.
   */
  until(names: readonly string[], weight: number, timeoutMs: number): Promise<number | null> {
    if (this.holds(names, weight)) return Promise.resolve(Date.now());
    return new Promise((resolve) => {
      const waiter: Waiter = {
        names,
        weight,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(null);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Ends every wait (null), so a failed run does not hold the process open. */
  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters = [];
  }
}
