/**
 * metav1.Time as the API writes it: RFC 3339 in UTC with whole seconds
 * (`2026-11-24T19:00:00Z`). Every timestamp a component writes into an object goes
 * through here, so none carries milliseconds the stock clients would not expect.
 */
export function metaTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
