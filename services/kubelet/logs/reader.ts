/**
 * Reads a container's CRI log, as upstream's kuberuntime ReadLogs: the files containerd
 * writes (`<RFC3339Nano> stdout|stderr F|P <text>` per line; P marks a line split by
 * the runtime, joined here with the lines after it up to the F), the rotated ones first
 * (`<n>.log.<timestamp>`, oldest first, see rotation.ts), then the live `<n>.log`. It
 * applies tailLines, since, timestamps and limitBytes, and with follow keeps reading the
 * live file, switching to the new file when it is rotated, until the container exits or
 * the reader is stopped. A log shipper can follow the same files the same way.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** One log line: partial lines joined. */
export interface LogEntry {
  /** the timestamp as the runtime wrote it */
  timestamp: string;
  /** ms since the epoch */
  time: number;
  stream: 'stdout' | 'stderr';
  /** the text with its newline (absent only when the log ends inside a line) */
  text: Buffer;
  /** with `joinPartials: false`: the runtime split this line (P); the next entry continues it */
  partial?: boolean;
  /** with `lenient`: the line was not CRI format; it is the whole line, timed when read */
  malformed?: boolean;
}

export interface CriLogParserOptions {
  /** join P lines with the lines after them up to the F (default true); a shipper keeps each piece */
  joinPartials?: boolean;
  /** a line that is not CRI format is emitted as `malformed` stdout text instead of throwing */
  lenient?: boolean;
}

export interface LogReadOptions {
  follow?: boolean;
  /** the last N lines only */
  tailLines?: number;
  /** lines written before this (ms since the epoch) are left out */
  sinceMs?: number;
  /** each line prefixed with its RFC3339Nano timestamp and a space */
  timestamps?: boolean;
  /** stop after this many bytes of output */
  limitBytes?: number;
}

export interface LogReadControl {
  /** stops a follow */
  signal?: AbortSignal;
  /** whether the container still runs: a follow ends once it does not and the file is read */
  running?: () => boolean;
  /** how often a follow looks for more (default 100 ms) */
  pollMs?: number;
}

/** Thrown when a log file line is not CRI format; the message names the file. */
export class LogFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogFormatError';
  }
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
const NEWLINE_BYTES = Buffer.from('\n');

/**
 * Turns CRI log bytes into entries: split at newlines, parse, join partial lines. Bytes
 * after the last newline wait for the next push (the runtime is mid-write). What it keeps
 * and emits is its own copy, so a caller may reuse the buffer it pushed.
 */
export class CriLogParser {
  private rest: Buffer = Buffer.alloc(0);
  private partial?: { timestamp: string; time: number; stream: 'stdout' | 'stderr'; parts: Buffer[] };

  private readonly join: boolean;
  private readonly lenient: boolean;

  constructor(
    private readonly where = 'log',
    opts: CriLogParserOptions = {},
  ) {
    this.join = opts.joinPartials ?? true;
    this.lenient = opts.lenient ?? false;
  }

  /** Bytes pushed but not emitted yet (the unfinished last line): the caller's read position less this is where the next line starts. */
  get pending(): number {
    return this.rest.length;
  }

  push(chunk: Buffer, emit: (e: LogEntry) => void): void {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.line(buf.subarray(start, nl), emit);
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
  }

  private malformed(l: Buffer, emit: (e: LogEntry) => void): void {
    if (!this.lenient) throw new LogFormatError(`${this.where}: not a CRI log line: ${JSON.stringify(l.subarray(0, 80).toString())}`);
    const now = new Date();
    emit({ timestamp: now.toISOString(), time: now.getTime(), stream: 'stdout', text: Buffer.concat([l, NEWLINE_BYTES]), malformed: true });
  }

  /** The end of the input: a partial line still open is emitted as it is. */
  end(emit: (e: LogEntry) => void): void {
    const p = this.partial;
    this.partial = undefined;
    if (p) emit({ timestamp: p.timestamp, time: p.time, stream: p.stream, text: Buffer.concat(p.parts) });
  }

  private line(l: Buffer, emit: (e: LogEntry) => void): void {
    if (l.length === 0) return;
    const s1 = l.indexOf(SPACE);
    const s2 = s1 < 0 ? -1 : l.indexOf(SPACE, s1 + 1);
    const s3 = s2 < 0 ? -1 : l.indexOf(SPACE, s2 + 1);
    if (s3 < 0 && s2 < 0) return this.malformed(l, emit);
    const timestamp = l.subarray(0, s1).toString();
    const stream = l.subarray(s1 + 1, s2).toString();
    // the tag may be the last field when the text is empty ("... stdout F")
    const tag = l.subarray(s2 + 1, s3 < 0 ? l.length : s3).toString();
    const text = s3 < 0 ? Buffer.alloc(0) : l.subarray(s3 + 1);
    const time = Date.parse(timestamp);
    if (Number.isNaN(time) || (stream !== 'stdout' && stream !== 'stderr')) return this.malformed(l, emit);
    // tags are ':'-separated; the first says partial (P) or full (F)
    const partial = tag === 'P' || tag.startsWith('P:');
    if (!this.join) {
      emit({ timestamp, time, stream, text: Buffer.concat([text, NEWLINE_BYTES]), partial });
      return;
    }
    const p = this.partial;
    if (partial) {
      if (p) p.parts.push(Buffer.from(text));
      else this.partial = { timestamp, time, stream, parts: [Buffer.from(text)] };
      return;
    }
    if (p) {
      this.partial = undefined;
      emit({ timestamp: p.timestamp, time: p.time, stream: p.stream, text: Buffer.concat([...p.parts, text, NEWLINE_BYTES]) });
    } else emit({ timestamp, time, stream, text: Buffer.concat([text, NEWLINE_BYTES]) });
  }
}

/** The rotated files of a log, oldest first (`<base>.<timestamp>`; not `.tmp` or `.gz`). */
export async function rotatedFiles(logPath: string): Promise<string[]> {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(`${base}.`) && !n.endsWith('.tmp') && !n.endsWith('.gz'))
    .sort()
    .map((n) => path.join(dir, n));
}

const READ_BYTES = 64 * 1024;

/**
 * Writes a container's log to `out` (awaited: backpressure) with the options applied.
 * Resolves when done: the end of the files, or with follow when the container has
 * exited and its file is read, or when `signal` aborts.
 */
export async function readLogs(logPath: string, opts: LogReadOptions, out: (chunk: Buffer) => Promise<void> | void, ctl: LogReadControl = {}): Promise<void> {
  let left = opts.limitBytes ?? Infinity;
  const since = opts.sinceMs ?? -Infinity;
  const pollMs = ctl.pollMs ?? 100;
  const stopped = () => ctl.signal?.aborted || left <= 0;
  const write = async (e: LogEntry): Promise<void> => {
    if (left <= 0 || e.time < since) return;
    let b = opts.timestamps ? Buffer.concat([Buffer.from(`${e.timestamp} `), e.text]) : e.text;
    if (b.length > left) b = b.subarray(0, left);
    left -= b.length;
    await out(b);
  };
  const tail = opts.tailLines;
  const ring: LogEntry[] = [];
  let pending: LogEntry[] = [];
  const collect = (e: LogEntry) => {
    if (tail === undefined) pending.push(e);
    else if (tail > 0) {
      ring.push(e);
      if (ring.length > tail) ring.shift();
    }
  };
  const drain = async () => {
    const batch = pending;
    pending = [];
    for (const e of batch) {
      if (stopped()) return;
      await write(e);
    }
  };

  // what is there now: the rotated files, then the live one up to its current end
  const parser = new CriLogParser(logPath);
  // one read buffer for the whole read: the parser copies what it keeps
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const readOn = (fh: FileHandle, pos: number, to: (e: LogEntry) => void) => readToEnd(fh, pos, buf, (b) => parser.push(b, to), drain, stopped);
  for (const f of await rotatedFiles(logPath)) {
    const fh = await open(f, 'r').catch(() => undefined);
    if (!fh) continue; // removed by rotation meanwhile
    try {
      await readOn(fh, 0, collect);
    } finally {
      await fh.close();
    }
    if (stopped()) return;
  }
  let live = await openWhenThere(logPath, ctl, pollMs, !!opts.follow);
  try {
    let pos = live ? await readOn(live.fh, 0, collect) : 0;
    if (!opts.follow || !live) parser.end(collect);
    // the tail is taken over what exists when the request comes; later lines all follow
    if (tail !== undefined) pending = ring.splice(0);
    await drain();
    if (!opts.follow || !live) return;
    // the same parser goes on: a line the runtime was writing at the request stays whole
    const emit = (e: LogEntry) => pending.push(e);
    for (;;) {
      if (stopped()) return;
      const before = pos;
      pos = await readOn(live.fh, pos, emit);
      if (pos > before) continue;
      // at the end of the live file: rotated, exited, or nothing new yet
      const now = await stat(logPath).catch(() => undefined);
      if (now && now.ino !== live.ino) {
        // rotated: the runtime has reopened; what it wrote to the old file before is read first
        await readOn(live.fh, pos, emit);
        await live.fh.close();
        live = await openWhenThere(logPath, ctl, pollMs, true);
        if (!live) return;
        pos = 0;
        continue;
      }
      if (ctl.running && !ctl.running()) {
        // the last lines may land just after the exit is seen
        pos = await readOn(live.fh, pos, emit);
        parser.end(emit);
        return await drain();
      }
      await sleep(pollMs, undefined, { signal: ctl.signal }).catch(() => undefined);
    }
  } finally {
    await live?.fh.close().catch(() => undefined);
  }
}

/**
 * Opens the live file. With `wait`, while it does not exist (a rotation renamed it and the
 * runtime has not reopened yet, or the container is starting) it looks again, as long as
 * the container runs (2 s at most when nobody says).
 */
async function openWhenThere(logPath: string, ctl: LogReadControl, pollMs: number, wait: boolean): Promise<{ fh: FileHandle; ino: number } | undefined> {
  for (let i = 0; ; i++) {
    try {
      const fh = await open(logPath, 'r');
      return { fh, ino: (await fh.stat()).ino };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    // a rotation renames, then the runtime creates the new file: give it a moment
    if (!wait || ctl.signal?.aborted || (ctl.running ? !ctl.running() && i > 2 : i * pollMs > 2000)) return undefined;
    await sleep(pollMs, undefined, { signal: ctl.signal }).catch(() => undefined);
  }
}

/** Reads from `pos` to the file's current end; returns the new position. */
async function readToEnd(fh: FileHandle, pos: number, buf: Buffer, push: (b: Buffer) => void, drain: () => Promise<void>, stopped: () => boolean | undefined): Promise<number> {
  for (;;) {
    if (stopped()) return pos;
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return pos;
    pos += bytesRead;
    push(buf.subarray(0, bytesRead));
    await drain();
  }
}
