/**
 * Go's time.ParseDuration, which every upstream component's duration flags use
 * (`--node-monitor-grace-period=40s`, `1m30s`, `1.5h`, `300ms`): a signed sequence of
 * decimal numbers, each with a unit (ns, us, µs, ms, s, m, h). Answers milliseconds.
 */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const TERM = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration "${text}"`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < s.length) {
    const at = TERM.lastIndex;
    const m = TERM.exec(s);
    if (!m || m.index !== at) {
      if (/^\d+\.?\d*$/.test(s.slice(at))) throw new Error(`time: missing unit in duration "${text}"`);
      throw invalid();
    }
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return sign * total;
}
