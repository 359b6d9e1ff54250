/**
 * Cell formatting shared by the printer columns of every kind, matching what the
 * upstream apiserver puts in Table cells.
 */

/**
 * The AGE-style cell for a timestamp: the time elapsed from `timestamp` to `now` in
 * upstream's HumanDuration form ("5s", "3m2s", "4h", "2d3h", "3y12d"), or "<unknown>"
 * when the timestamp is absent or unparsable.
 *
 * @param timestamp an RFC 3339 string (metav1.Time / MicroTime), a Date, or ms since epoch
 * @param now the render time in ms since epoch
 */
export function translateAge(timestamp: string | number | Date | null | undefined, now: number): string {
  if (timestamp === null || timestamp === undefined || timestamp === '') return '<unknown>';
  const at = timestamp instanceof Date ? timestamp.getTime() : typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
  if (!Number.isFinite(at)) return '<unknown>';
  return humanDuration(now - at);
}

/** HumanDuration of k8s.io/apimachinery/pkg/util/duration, on milliseconds. */
function humanDuration(ms: number): string {
  // Go truncates toward zero when converting durations to whole units.
  const seconds = Math.trunc(ms / 1000);
  // Up to two seconds in the future still reads "0s": clocks of machines differ a little.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24);
    const dy = days % 365;
    const years = Math.trunc(days / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}
