/**
 * A metav1.MicroTime: RFC 3339 with exactly six fractional digits. A real API server rejects
 * the three digits of `toISOString()` in a Lease's acquireTime/renewTime and an Event's
 * eventTime (400), so every MicroTime field goes through here.
 */
export function microTime(date: Date): string {
  const iso = date.toISOString(); // always YYYY-MM-DDTHH:MM:SS.mmmZ for years 0..9999
  return `${iso.slice(0, -1)}000Z`;
}

/** A metav1.Time: RFC 3339 in whole seconds, the form the server stores and returns. */
export function metaTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
