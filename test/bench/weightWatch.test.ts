// The scale bench's watch of canary weights: when a set of Ingresses all hold one weight.
import { WeightWatch } from '../../src/bench/weightWatch';

describe('WeightWatch', () => {
  it('resolves with the time the last of the set was seen at the weight, not before', async () => {
    const watch = new WeightWatch();
    for (const name of ['a', 'b', 'c']) watch.see(name, 10, 1);
    const seen = watch.until(['a', 'b', 'c'], 0, 10_000);
    let settled = false;
    void seen.then(() => (settled = true));
    watch.see('a', 0, 100);
    watch.see('b', 0, 200);
    watch.see('a', 10, 250); // back up: 'a' no longer holds 0
    watch.see('c', 0, 300);
    await Promise.resolve();
    expect(settled).toBe(false);
    watch.see('a', 0, 400);
    await expect(seen).resolves.toBe(400);
  });

  it('is null after the timeout, and close ends every wait', async () => {
    const watch = new WeightWatch();
    watch.see('a', 10, 1);
    await expect(watch.until(['a'], 0, 10)).resolves.toBeNull();
    const pending = watch.until(['a'], 0, 60_000);
    watch.close();
    await expect(pending).resolves.toBeNull();
  });

  it('forgets a deleted Ingress: a set naming it never holds', async () => {
    const watch = new WeightWatch();
    watch.see('a', 0, 1);
    watch.see('a', undefined, 2);
    expect(watch.weight('a')).toBeUndefined();
    await expect(watch.until(['a'], 0, 10)).resolves.toBeNull();
  });
});
