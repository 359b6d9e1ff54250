/**
 * One message of the log stream: a batch of one container's lines, in the CRI log
 * format (`<RFC3339Nano> stdout|stderr F|P <text>\n`), with what every line shares in
 * headers: the node, the pod's uid and labels, the line count, the first and last line's
 * time (for the query side's index) and where in the node's files the batch came from
 * (for the shipper's resume). Lines are made safe as CRI makes them: a line over 16 KiB
 * is split (every piece but the last tagged P), and bytes that are not UTF-8 text
 * (invalid sequences, control characters but tab and ESC) are written as `\xNN`.
 */
import { isUtf8 } from 'node:buffer';

export const LOG_HEADERS = {
  node: 'Flotilla-Log-Node',
  podUid: 'Flotilla-Log-Pod-Uid',
  labels: 'Flotilla-Log-Labels',
  lines: 'Flotilla-Log-Lines',
  /** ms since the epoch of the first and last line */
  first: 'Flotilla-Log-First',
  last: 'Flotilla-Log-Last',
  /** `<attempt>/<inode>/<start>-<end>`: the byte range of the node's log file the batch holds */
  source: 'Flotilla-Log-Source',
} as const;

/** CRI's maximum line length (containerd's max_container_log_line_size default) */
export const MAX_LINE_BYTES = 16 * 1024;

export type LogStreamName = 'stdout' | 'stderr';

/** One line as stored. */
export interface LogLine {
  /** RFC3339Nano as the runtime wrote it */
  timestamp: string;
  /** ms since the epoch */
  time: number;
  stream: LogStreamName;
  /** a piece of a longer line: the next line of the same stream continues it */
  partial: boolean;
  text: string;
}

const BACKSLASH_X = 0x5c;
const HEX = '0123456789abcdef';

/** True when the byte must be escaped although valid UTF-8: C0 controls but TAB and ESC, and DEL. */
function isControl(b: number): boolean {
  return (b < 0x20 && b !== 0x09 && b !== 0x1b) || b === 0x7f;
}

/** The length of the valid UTF-8 sequence at i (1..4), or 0 when the bytes there are not one. */
function utf8SequenceLength(buf: Buffer, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** The text with invalid UTF-8 and control bytes written as `\xNN`; the same buffer when nothing needs it. */
export function escapeLogText(text: Buffer): Buffer {
  let clean = isUtf8(text);
  if (clean) {
    for (let i = 0; i < text.length; i++) {
      if (isControl(text[i]!)) {
        clean = false;
        break;
      }
    }
  }
  if (clean) return text;
  const out: number[] = [];
  const escape = (b: number) => out.push(BACKSLASH_X, 0x78, HEX.charCodeAt(b >> 4), HEX.charCodeAt(b & 15));
  for (let i = 0; i < text.length; ) {
    const n = utf8SequenceLength(text, i);
    if (n === 0 || (n === 1 && isControl(text[i]!))) {
      escape(text[i]!);
      i++;
      continue;
    }
    for (let k = 0; k < n; k++) out.push(text[i + k]!);
    i += n;
  }
  return Buffer.from(out);
}

/** Where to cut a UTF-8 text at most `max` bytes in: never inside a character. */
function cutAt(text: Buffer, start: number, max: number): number {
  let end = start + max;
  if (end >= text.length) return text.length;
  while (end > start && (text[end]! & 0xc0) === 0x80) end--;
  return end === start ? start + max : end;
}

/** A batch of one container's lines being built. */
export class LogBatch {
  private readonly parts: Buffer[] = [];
  bytes = 0;
  lines = 0;
  first = 0;
  last = 0;

  /** Adds a line (text without its newline): escaped, and split over 16 KiB. */
  add(timestamp: string, time: number, stream: LogStreamName, partial: boolean, text: Buffer): void {
    const safe = escapeLogText(text);
    const head = `${timestamp} ${stream} `;
    for (let start = 0; ; ) {
      const end = cutAt(safe, start, MAX_LINE_BYTES);
      const last = end >= safe.length;
      this.push(Buffer.from(`${head}${last && !partial ? 'F' : 'P'} `), time);
      this.parts.push(safe.subarray(start, end), NEWLINE);
      this.bytes += end - start + 1;
      if (last) break;
      start = end;
    }
  }

  private push(head: Buffer, time: number): void {
    if (this.lines === 0) this.first = time;
    this.last = time;
    this.lines++;
    this.parts.push(head);
    this.bytes += head.length;
  }

  body(): Buffer {
    return Buffer.concat(this.parts, this.bytes);
  }
}

const NEWLINE = Buffer.from('\n');

/** The ms of a second-resolution RFC3339 prefix, cached: a batch's lines share few seconds. */
let lastSecond = '';
let lastSecondMs = 0;

/** Splits RFC3339Nano into ms since the epoch of its whole second and its nanoseconds (0..999999999). */
export function parseTimestamp(ts: string): { secondMs: number; nanos: number } | undefined {
  const dot = ts.indexOf('.', 17);
  let zone = dot < 0 ? 19 : dot + 1;
  if (dot >= 0) while (zone < ts.length && ts.charCodeAt(zone) >= 48 && ts.charCodeAt(zone) <= 57) zone++;
  const second = dot < 0 ? ts : ts.slice(0, dot) + ts.slice(zone);
  let secondMs: number;
  if (second === lastSecond) secondMs = lastSecondMs;
  else {
    secondMs = Date.parse(second);
    if (Number.isNaN(secondMs)) return undefined;
    lastSecond = second;
    lastSecondMs = secondMs;
  }
  const frac = dot < 0 ? '' : ts.slice(dot + 1, zone);
  const nanos = frac ? Number(frac.slice(0, 9).padEnd(9, '0')) : 0;
  return { secondMs, nanos };
}

/** Nanoseconds since the epoch, as a decimal string (Loki's timestamps). */
export function timestampNanos(ts: string): string {
  const p = parseTimestamp(ts);
  if (!p) return '0';
  return `${Math.floor(p.secondMs / 1000)}${String(p.nanos).padStart(9, '0')}`;
}

/** RFC3339Nano in UTC of ms since the epoch plus nanoseconds within that ms. */
export function formatTimestamp(ms: number, subMsNanos = 0): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(subMsNanos).padStart(6, '0')}Z`;
}

/** Calls `each` for every line of a batch's body, in order. Lines that do not parse are skipped. */
export function forEachLogLine(body: Uint8Array, each: (line: LogLine) => void | false): void {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let start = 0; start < buf.length; ) {
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    const s1 = buf.indexOf(0x20, start);
    const s2 = s1 < 0 || s1 >= nl ? -1 : buf.indexOf(0x20, s1 + 1);
    const s3 = s2 < 0 || s2 >= nl ? -1 : buf.indexOf(0x20, s2 + 1);
    if (s3 >= 0 && s3 < nl) {
      const timestamp = buf.toString('latin1', start, s1);
      const p = parseTimestamp(timestamp);
      if (p) {
        const line: LogLine = {
          timestamp,
          time: p.secondMs + Math.floor(p.nanos / 1e6),
          stream: buf[s1 + 4] === 0x6f ? 'stdout' : 'stderr', // "stdout"[3] is "o"
          partial: buf[s2 + 1] === 0x50,
          text: buf.toString('utf8', s3 + 1, nl),
        };
        if (each(line) === false) return;
      }
    }
    start = nl + 1;
  }
}
