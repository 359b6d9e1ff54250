/**
 * metav1.Time and metav1.MicroTime as the API writes them: RFC 3339 in UTC, Time with
 * whole seconds (`2026-11-24T19:00:00Z`), MicroTime with exactly six fractional digits
 * (`2026-11-24T19:00:00.123000Z`), as upstream's MarshalJSON formats them. Every
 * timestamp a component writes into an object goes through here.
 */
export function metaTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

let lastMicroMs = NaN;
let lastMicro = '';

/** metav1.MicroTime: JavaScript clocks have milliseconds, so the last three digits are 0. */
export function metaMicroTime(ms: number = Date.now()): string {
  // writers stamp bursts of objects (a batch's Events) within one millisecond
  if (ms === lastMicroMs) return lastMicro;
  lastMicro = new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  lastMicroMs = ms;
  return lastMicro;
}

const RFC3339 = /^(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))$/;

/**
 * A client's RFC 3339 timestamp as upstream's decode/encode round trip gives it back: in
 * UTC, with no fraction (`micro` false, metav1.Time) or with six fractional digits,
 * truncated (`micro`, metav1.MicroTime). Undefined when `s` is not RFC 3339 (validation
 * reports it).
 */
export function canonicalTime(s: string, micro: boolean): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, date, hms, frac = '', z, sign, oh, om] = m;
  let base = `${date}T${hms}`;
  if (!z) {
    const offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
    const t = Date.parse(`${base}Z`);
    if (Number.isNaN(t)) return undefined;
    base = new Date(t - offsetMs).toISOString().slice(0, 19);
  }
  if (!micro) return `${base}Z`;
  return `${base}.${frac.slice(0, 6).padEnd(6, '0')}Z`;
}
