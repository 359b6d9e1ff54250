/**
 * The node's log shipper (a logging agent's role, as Promtail or Fluent Bit on a DaemonSet):
 * it follows every container's CRI log files under the kubelet's pod log folder
 * (`<ns>_<pod>_<uid>/<container>/<attempt>.log`, rotated ones first, see rotation.ts) and
 * publishes each chunk read as one message of the log stream (lib/logging: subject
 * `<prefix>.<ns>.<pod>.<container>`, the pod's labels and node in headers), waiting for
 * JetStream's ack before it moves on.
 *
 * Nothing is lost or doubled across restarts of the shipper, the logging service or
 * nats-server: a batch's position (file inode and byte range) travels in its headers and
 * its Nats-Msg-Id, so a batch sent again after a lost ack is dropped by the stream's
 * duplicate window; a follower resumes after the later of its saved position (written
 * only after acks) and the last batch the stream holds for its pod's uid.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_LOG_STREAM, DEFAULT_LOG_SUBJECT_PREFIX, LOG_HEADERS, LogBatch, logSubject } from '../../../lib/logging/mod.js';
import { LogPublisher } from './publisher.js';
import { CriLogParser, type LogEntry } from './reader.js';

/** What the shipper asks the kubelet about a pod. */
export interface ShippedPods {
  /** the pod's labels while the kubelet has it (undefined: gone) */
  labels(namespace: string, name: string, uid: string): Record<string, string> | undefined;
}

export interface LogShipperOptions {
  nc: NatsConnection;
  nodeName: string;
  /** the kubelet's `<root-dir>/pods` */
  podLogDir: string;
  /** where positions.json is kept */
  stateDir: string;
  pods: ShippedPods;
  stream?: string;
  prefix?: string;
  /** how often files are looked at for more (default 200 ms) */
  pollMs?: number;
  /** bytes read (and sent as one message) at most (default 128 KiB; escaping may grow a batch up to 4 times) */
  readBytes?: number;
  log?: (line: string) => void;
}

/** Where a follower is: the byte offset in the file with that inode (of that container attempt). */
export interface ShipPosition {
  attempt: number;
  ino: number;
  offset: number;
}

interface LogFile {
  name: string;
  attempt: number;
  ino: number;
  size: number;
}

const LOG_FILE = /^(\d+)\.log(?:\.(\d{8}-\d{6}))?$/;

/** A container's log files in the order they were written: by attempt, rotated ones (oldest first) before the live one. */
export async function containerLogFiles(dir: string): Promise<LogFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const parsed = names.flatMap((name) => {
    const m = LOG_FILE.exec(name);
    return m ? [{ name, attempt: Number(m[1]), rotated: m[2] ?? '~' }] : [];
  });
  parsed.sort((a, b) => a.attempt - b.attempt || (a.rotated < b.rotated ? -1 : a.rotated > b.rotated ? 1 : 0));
  const files: LogFile[] = [];
  for (const p of parsed) {
    const st = await stat(path.join(dir, p.name)).catch(() => undefined);
    if (st) files.push({ name: p.name, attempt: p.attempt, ino: st.ino, size: st.size });
  }
  return files;
}

/** `<attempt>/<inode>/<start>-<end>` of a batch. */
export function formatSource(attempt: number, ino: number, start: number, end: number): string {
  return `${attempt}/${ino}/${start}-${end}`;
}

export function parseSource(v: string | undefined): ShipPosition | undefined {
  const m = v ? /^(\d+)\/(\d+)\/(\d+)-(\d+)$/.exec(v) : null;
  return m ? { attempt: Number(m[1]), ino: Number(m[2]), offset: Number(m[4]) } : undefined;
}

/** The later of two positions, by where their files stand in the container's file order. */
export function laterPosition(files: LogFile[], a: ShipPosition | undefined, b: ShipPosition | undefined): ShipPosition | undefined {
  if (!a || !b) return a ?? b;
  if (a.ino === b.ino) return a.offset >= b.offset ? a : b;
  const ia = files.findIndex((f) => f.ino === a.ino);
  const ib = files.findIndex((f) => f.ino === b.ino);
  if (ia >= 0 && ib >= 0) return ia > ib ? a : b;
  if (ia >= 0 || ib >= 0) return ia >= 0 ? a : b;
  return a.attempt >= b.attempt ? a : b;
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

export class LogShipper {
  private readonly publisher: LogPublisher;
  private jsm?: JetStreamManager;
  private readonly stream: string;
  private readonly prefix: string;
  private readonly pollMs: number;
  private readonly readBytes: number;
  private readonly log: (line: string) => void;
  private readonly followers = new Map<string, Promise<void>>();
  private readonly positions: Record<string, ShipPosition>;
  private readonly positionsFile: string;
  private saveTimer?: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private scanning?: Promise<void>;

  constructor(private readonly opts: LogShipperOptions) {
    this.stream = opts.stream ?? DEFAULT_LOG_STREAM;
    this.prefix = opts.prefix ?? DEFAULT_LOG_SUBJECT_PREFIX;
    this.pollMs = opts.pollMs ?? 200;
    this.readBytes = opts.readBytes ?? 128 * 1024;
    this.log = opts.log ?? (() => undefined);
    this.publisher = new LogPublisher(opts.nc, this.abort.signal, this.log);
    mkdirSync(opts.stateDir, { recursive: true });
    this.positionsFile = path.join(opts.stateDir, 'positions.json');
    try {
      this.positions = JSON.parse(readFileSync(this.positionsFile, 'utf8')) as Record<string, ShipPosition>;
    } catch {
      this.positions = {};
    }
    // folders removed since (by hand, or a new root dir) need no position
    for (const key of Object.keys(this.positions)) if (!existsSync(path.join(opts.podLogDir, key))) delete this.positions[key];
  }

  /** what was shipped (for tests, benchmarks and metrics) */
  get stats(): LogPublisher['stats'] {
    return this.publisher.stats;
  }

  start(): void {
    this.scanning ??= this.scanLoop();
  }

  /** Stops following; what was acked is saved. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.scanning;
    await Promise.all(this.followers.values());
    clearTimeout(this.saveTimer);
    this.saveNow();
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  /** Finds container folders the shipper does not follow yet. */
  private async scanLoop(): Promise<void> {
    const done = new Set<string>();
    while (!this.stopped) {
      let pods: string[] = [];
      try {
        pods = await readdir(this.opts.podLogDir);
      } catch {
        /* no pod has run yet */
      }
      for (const podDir of pods) {
        const parts = podDir.split('_');
        if (parts.length !== 3) continue;
        const containers = await readdir(path.join(this.opts.podLogDir, podDir)).catch(() => [] as string[]);
        for (const container of containers) {
          const key = `${podDir}/${container}`;
          const [namespace, pod, uid] = parts as [string, string, string];
          // a folder read to its end whose pod was gone is looked at again only if the pod shows up
          if (this.followers.has(key) || (done.has(key) && this.opts.pods.labels(namespace, pod, uid) === undefined)) continue;
          done.delete(key);
          const run = this.follow(key, { namespace, pod, uid, container }).then(
            (finished) => {
              this.followers.delete(key);
              if (finished) done.add(key);
            },
            (e) => {
              this.followers.delete(key);
              this.log(`log shipper: following ${key}: ${errorText(e)}`);
            },
          );
          this.followers.set(key, run);
        }
      }
      await this.pause(Math.max(this.pollMs, 500));
    }
  }

  /** The last batch the stream holds for this container of this pod uid, as a position. */
  private async streamPosition(subject: string, uid: string): Promise<ShipPosition | undefined> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        this.jsm ??= await jetstreamManager(this.opts.nc, { checkAPI: false });
        const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
        if (!m || m.header.get(LOG_HEADERS.podUid) !== uid) return undefined;
        return parseSource(m.header.get(LOG_HEADERS.source));
      } catch (e) {
        const code = (e as { code?: string | number; api_error?: { err_code?: number } }).api_error?.err_code;
        // 10059: stream not found (nothing shipped yet; the logging service creates it)
        if (code === 10059 || /stream not found/i.test(errorText(e))) return undefined;
        if (attempt === 0) this.log(`log shipper: looking up ${subject}'s last batch: ${errorText(e)}; trying again`);
        await this.pause(Math.min(5000, 250 * 2 ** attempt));
      }
    }
    return undefined;
  }

  /**
   * Follows one container's files until its pod is gone and every file is read (true), or
   * the shipper stops (false).
   */
  private async follow(key: string, ref: { namespace: string; pod: string; uid: string; container: string }): Promise<boolean> {
    const dir = path.join(this.opts.podLogDir, `${ref.namespace}_${ref.pod}_${ref.uid}`, ref.container);
    const subject = logSubject(this.prefix, ref);
    const remote = await this.streamPosition(subject, ref.uid);
    if (this.stopped) return false;
    let files = await containerLogFiles(dir);
    let pos = laterPosition(files, this.positions[key], remote);
    let labels: Record<string, string> = {};
    let goneChecks = 0;
    const buf = Buffer.allocUnsafe(this.readBytes);
    while (!this.stopped) {
      files = await containerLogFiles(dir);
      let i = pos ? files.findIndex((f) => f.ino === pos!.ino) : 0;
      if (i < 0) {
        // its file was rotated away while nobody read it (the oldest go first, so what is
        // left of its attempt is newer): on with the first file from its attempt on
        i = files.findIndex((f) => f.attempt >= pos!.attempt);
        if (i >= 0) pos = { attempt: files[i]!.attempt, ino: files[i]!.ino, offset: 0 };
      }
      const file = i >= 0 ? files[i] : undefined;
      let progressed = false;
      if (file) {
        const offset = pos?.ino === file.ino ? pos.offset : 0;
        if (file.size > offset) {
          labels = this.opts.pods.labels(ref.namespace, ref.pod, ref.uid) ?? labels;
          const at = await this.shipFile(path.join(dir, file.name), file, offset, buf, subject, ref, labels, key);
          if (at === undefined) return false;
          pos = { attempt: file.attempt, ino: file.ino, offset: at };
          progressed = at > offset;
        }
        if (!progressed && i < files.length - 1) {
          // read to its end and a later file exists: the runtime writes there now
          pos = { attempt: files[i + 1]!.attempt, ino: files[i + 1]!.ino, offset: 0 };
          continue;
        }
      }
      if (progressed) {
        goneChecks = 0;
        continue;
      }
      // all read: the pod's folder stays, so a deleted pod's last lines are shipped first
      if (this.opts.pods.labels(ref.namespace, ref.pod, ref.uid) === undefined && ++goneChecks > 3) return true;
      await this.pause(this.pollMs);
    }
    return false;
  }

  /**
   * Ships one file from `offset` to its current end, a read at a time; returns the offset
   * after the last complete line acked (undefined when stopped).
   */
  private async shipFile(
    filePath: string,
    file: LogFile,
    offset: number,
    buf: Buffer,
    subject: string,
    ref: { uid: string; container: string },
    labels: Record<string, string>,
    key: string,
  ): Promise<number | undefined> {
    const fh = await open(filePath, 'r').catch(() => undefined);
    if (!fh) return offset;
    const parser = new CriLogParser(filePath, { joinPartials: false, lenient: true });
    let read = offset;
    let acked = offset;
    try {
      while (!this.stopped) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, read);
        if (bytesRead === 0) return acked;
        read += bytesRead;
        const batch = new LogBatch();
        parser.push(buf.subarray(0, bytesRead), (e: LogEntry) => batch.add(e.timestamp, e.time, e.stream, e.partial ?? false, e.text.subarray(0, e.text.length - 1)));
        const end = read - parser.pending;
        if (batch.lines === 0) {
          if (parser.pending >= 4 * 1024 * 1024) return acked; // no line end in 4 MiB: not a log the runtime wrote
          continue;
        }
        const ok = await this.publisher.publish(subject, batch, {
          node: this.opts.nodeName,
          uid: ref.uid,
          labels,
          source: formatSource(file.attempt, file.ino, acked, end),
          msgID: `${ref.uid}/${ref.container}/${file.ino}/${acked}-${end}`,
        });
        if (!ok) return undefined;
        acked = end;
        this.positions[key] = { attempt: file.attempt, ino: file.ino, offset: acked };
        this.saveSoon();
      }
      return undefined;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  private saveSoon(): void {
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, 500);
  }

  private saveNow(): void {
    try {
      const tmp = `${this.positionsFile}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.positions));
      renameSync(tmp, this.positionsFile);
    } catch (e) {
      this.log(`log shipper: saving positions: ${errorText(e)}`);
    }
  }
}
