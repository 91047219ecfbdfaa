// Whether two values would be the same JSON on the wire. The controller compares the status it
// read with the status the engine decided, to skip a write that changes nothing. util's
// isDeepStrictEqual is the wrong test for that: it tells `{ a: undefined }` from `{}`, which the
// API server stores alike, and objects of another realm (structuredClone's, under jest's VM) from
// plain ones, so every reconcile would write a status that did not change.
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => jsonEqual(v, other[i]));
  }
  const left = Object.entries(a).filter(([, v]) => v !== undefined);
  const right = b as Record<string, unknown>;
  const rightCount = Object.values(right).filter((v) => v !== undefined).length;
  return left.length === rightCount && left.every(([k, v]) => Object.hasOwn(right, k) && jsonEqual(v, right[k]));
}
