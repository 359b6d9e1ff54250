/**
 * resource.Quantity: fixed-point resource amounts ("500m", "1.5Gi", "2e3") held exactly
 * as a bigint mantissa and a base-10 exponent, never as a float. Parsing, rounding and
 * the canonical string follow k8s.io/apimachinery/pkg/api/resource, including its habit
 * of handing back the caller's own string when it was already canonical.
 */

export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

const SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${SPLIT_RE}'`;
export const ERR_NUMERIC = 'unable to parse numeric part of quantity';
export const ERR_SUFFIX = "unable to parse quantity's suffix";

/** A malformed quantity string; the message is upstream's. */
export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

const MAX_INT64 = (1n << 63n) - 1n;
/** Every quantity is rounded up to whole nano-units (10^-9). */
const NANO = -9;
/**
 * Bounds that keep the bigint arithmetic small for hostile input (upstream has none but a
 * request-size limit): at most this many digits, and values below 10^MAX_EXPONENT.
 */
const MAX_DIGITS = 400;
const MAX_EXPONENT = 1000;

const pow10cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) {
    let p = pow10cache[n];
    if (p === undefined) pow10cache[n] = p = 10n ** BigInt(n);
    return p;
  }
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** Divides by 10^digits, rounding away from zero; reports whether it was exact. */
function shiftDownAwayFromZero(n: bigint, digits: number): { value: bigint; exact: boolean } {
  if (digits <= 0) return { value: n * pow10(-digits), exact: true };
  const d = pow10(digits);
  const q = n / d;
  const r = n % d;
  if (r === 0n) return { value: q, exact: true };
  return { value: n < 0n ? q - 1n : q + 1n, exact: false };
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExponent: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const binarySuffixByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

export class Quantity {
  /** the value is unscaled × 10^scale */
  readonly unscaled: bigint;
  readonly scale: number;
  readonly format: QuantityFormat;
  /** the canonical string, when known (upstream keeps the parsed text if it was canonical) */
  private s: string | undefined;

  constructor(unscaled: bigint, scale: number, format: QuantityFormat, cached?: string) {
    this.unscaled = unscaled;
    this.scale = scale;
    this.format = format;
    this.s = cached;
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  /** The value in units of 10^scale, rounded away from zero (upstream ScaledValue). */
  scaledValue(scale: number): bigint {
    return shiftDownAwayFromZero(this.unscaled, scale - this.scale).value;
  }

  /** The value in base units, rounded away from zero: "1.1" → 2, "100m" → 1 (upstream Value). */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** The value in thousandths, rounded away from zero: cpu "250m" → 250n (upstream MilliValue). */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** An approximation for metrics and display only. */
  asApproximateFloat64(): number {
    return Number(this.unscaled) * Math.pow(10, this.scale);
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const [a, b] = align(this, other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equal(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** Exact sum. Adding to a zero takes the other's format, as upstream. */
  add(other: Quantity): Quantity {
    const [a, b] = align(this, other);
    return new Quantity(a + b, Math.min(this.scale, other.scale), this.isZero() ? other.format : this.format);
  }

  /** Exact difference. Subtracting from a zero takes the other's format, as upstream. */
  sub(other: Quantity): Quantity {
    const [a, b] = align(this, other);
    return new Quantity(a - b, Math.min(this.scale, other.scale), this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.scale, this.format);
  }

  /** Rounds away from zero to a multiple of 10^scale (upstream RoundUp); `exact` says nothing was lost. */
  roundUp(scale: number): { quantity: Quantity; exact: boolean } {
    if (this.scale >= scale) return { quantity: this, exact: true };
    const { value, exact } = shiftDownAwayFromZero(this.unscaled, scale - this.scale);
    return { quantity: exact ? this : new Quantity(value, scale, this.format), exact };
  }

  /** The canonical form: "1.5Gi" → "1536Mi", "0.5" → "500m", "1000m" → "1". */
  toString(): string {
    if (this.s === undefined) this.s = canonicalize(this);
    return this.s;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Both mantissas brought to the smaller exponent so they can be compared or added. */
function align(x: Quantity, y: Quantity): [bigint, bigint] {
  if (x.scale === y.scale) return [x.unscaled, y.unscaled];
  if (x.scale > y.scale) return [x.unscaled * pow10(x.scale - y.scale), y.unscaled];
  return [x.unscaled, y.unscaled * pow10(y.scale - x.scale)];
}

function canonicalize(q: Quantity): string {
  if (q.isZero()) return '0';
  let format = q.format;
  let rounded = 0n;
  if (format === 'BinarySI') {
    const v = q.unscaled;
    // |q| < 1024 reads better in decimal (and fractions cannot be binary)
    const small = q.scale >= 0 ? abs(v) * pow10(q.scale) < 1024n : abs(v) < 1024n * pow10(-q.scale);
    if (small) {
      format = 'DecimalSI';
    } else {
      const r = shiftDownAwayFromZero(v, -q.scale);
      if (!r.exact) format = 'DecimalSI';
      else rounded = r.value;
    }
  }
  const sign = q.unscaled < 0n ? '-' : '';
  if (format === 'BinarySI') {
    let m = abs(rounded);
    let power = 0;
    while (power < 6 && m % 1024n === 0n) {
      m /= 1024n;
      power++;
    }
    return sign + m.toString() + binarySuffixByPower[power];
  }
  // move every factor of ten into the exponent, then settle on a multiple of three
  let m = abs(q.unscaled);
  let e = q.scale;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  while (e % 3 !== 0) {
    m *= 10n;
    e--;
  }
  if (format === 'DecimalExponent') return sign + m.toString() + (e === 0 ? '' : 'e' + e);
  if (e > 18) {
    // beyond "E" upstream has no suffix; keep the value exact rather than print a wrong one
    m *= pow10(e - 18);
    e = 18;
  }
  return sign + m.toString() + decimalSuffixByExponent[e];
}

interface Scanned {
  positive: boolean;
  /** the signed number without its suffix, e.g. "-1.5" */
  value: string;
  /** integer digits without leading zeros ("0" when there are none) */
  num: string;
  /** fraction digits */
  denom: string;
  suffix: string;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const SUFFIX_CHARS = 'eEinumkKMGTP';

/** Splits a quantity into sign, digits and suffix the way upstream's scanner does. */
function scan(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str.charCodeAt(i))) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, value: str, num, denom: '', suffix: '' };
  pos = i;
  if (num.length === 0) num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str.charCodeAt(i))) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str.charCodeAt(pos))) pos++;
  if (pos < end) throw new QuantityError(ERR_FORMAT_WRONG);
  return { positive, value, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } {
  const d = decimalSuffixes[suffix];
  if (d !== undefined && Object.hasOwn(decimalSuffixes, suffix)) return { base: 10, exponent: d, format: 'DecimalSI' };
  const b = binarySuffixes[suffix];
  if (b !== undefined && Object.hasOwn(binarySuffixes, suffix)) return { base: 2, exponent: b, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1);
    // strconv.ParseInt(s, 10, 64): optional sign, decimal digits, within int64
    if (!/^[+-]?[0-9]+$/.test(digits)) throw new QuantityError(ERR_SUFFIX);
    const big = BigInt(digits);
    if (big > MAX_INT64 || big < -MAX_INT64 - 1n) throw new QuantityError(ERR_SUFFIX);
    // upstream narrows the exponent to int32
    return { base: 10, exponent: Number(BigInt.asIntN(32, big)), format: 'DecimalExponent' };
  }
  throw new QuantityError(ERR_SUFFIX);
}

/**
 * Parses a quantity string exactly. Throws QuantityError with upstream's messages.
 * Fractions finer than 1n round away from zero ("0.1n" → "1n"); binary amounts are
 * capped at 2^63-1 as upstream.
 */
export function parseQuantity(str: string): Quantity {
  if (typeof str !== 'string' || str.length === 0) throw new QuantityError(ERR_FORMAT_WRONG);
  if (str === '0') return new Quantity(0n, 0, 'DecimalSI', '0');

  const { positive, value, num, denom, suffix } = scan(str);
  const { base, exponent, format: parsedFormat } = interpretSuffix(suffix);
  let format = parsedFormat;
  if (num.length + denom.length > MAX_DIGITS || exponent > MAX_EXPONENT) throw new QuantityError(ERR_NUMERIC);

  // Upstream's fast path (small int64-sized values) is also the only one that keeps the
  // caller's string as the canonical form, so its conditions are reproduced exactly.
  let precision: number;
  let scale = 0;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= NANO) {
      const shifted = num + denom;
      let result = BigInt(shifted) * mantissa;
      if (result <= MAX_INT64) {
        if (!positive) result = -result;
        let keep: boolean;
        if (format === 'BinarySI') {
          keep = exponent % 10 === 0 && (BigInt(shifted) & 7n) !== 0n;
        } else {
          keep = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        }
        return new Quantity(result, scale, format, keep ? str : undefined);
      }
    }
  }

  if (!/[0-9]/.test(value)) throw new QuantityError(ERR_NUMERIC);
  let amount = BigInt(num + denom);
  let s = -denom.length;
  if (base === 10) {
    // anything this small rounds to one nano-unit anyway
    s += Math.max(exponent, -MAX_EXPONENT);
  } else {
    amount <<= BigInt(exponent);
  }
  if (amount !== 0n && s < NANO) {
    amount = shiftDownAwayFromZero(amount, NANO - s).value;
    s = NANO;
  }
  if (format === 'BinarySI') {
    const cmpMax = s >= 0 ? amount * pow10(s) > MAX_INT64 : amount > MAX_INT64 * pow10(-s);
    if (cmpMax) {
      amount = MAX_INT64;
      s = 0;
    }
    if (amount !== 0n && (s >= 0 ? false : amount < pow10(-s))) format = 'DecimalSI';
  }
  return new Quantity(positive ? amount : -amount, s, format);
}

/** True when `s` parses as a quantity. */
export function isQuantity(s: string): boolean {
  try {
    parseQuantity(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * A quantity as it arrives in JSON: upstream accepts a string or a bare number (whose
 * text is parsed the same way, after trimming spaces).
 */
export function quantityFromJSON(v: unknown): Quantity {
  if (typeof v === 'string') return parseQuantity(v.trim());
  if (typeof v === 'number' && Number.isFinite(v)) return parseQuantity(String(v));
  throw new QuantityError(ERR_FORMAT_WRONG);
}

/** A whole-unit quantity, e.g. newQuantity(4n) for 4 cpus, newQuantity(1n << 30n, 'BinarySI') for 1Gi. */
export function newQuantity(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(BigInt(value), 0, format);
}

/** A quantity in thousandths, e.g. newMilliQuantity(250n) is "250m". */
export function newMilliQuantity(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(BigInt(value), -3, format);
}

/** The canonical text of a quantity string: canonicalQuantity("1.5Gi") === "1536Mi". */
export function canonicalQuantity(s: string): string {
  return parseQuantity(s).toString();
}
