/**
 * Writes a volume's files so a container never sees a half-written set, as upstream's
 * AtomicWriter (pkg/volume/util/atomic_writer.go): the files go into a fresh
 * timestamped folder `..<time>.<random>`, the symlink `..data` is then swapped to it
 * with one rename, and every user-visible top-level name is a symlink `name ->
 * ..data/name`. Names that left the payload are removed, then the old folder. Writing
 * the same payload again changes nothing. The folder is bind-mounted as a whole, so a
 * container follows the swap (a subPath mount of one file does not, as upstream).
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PayloadFile {
  data: Buffer;
  /** permission bits, e.g. 0o644 */
  mode: number;
}

/** relative path → content */
export type Payload = Map<string, PayloadFile>;

const DATA_DIR = '..data';
const DATA_DIR_TMP = '..data_tmp';

export class AtomicWriterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AtomicWriterError';
  }
}

/** upstream validatePath: relative, no `..` element, no element starting with `..` */
export function validatePayloadPath(p: string): void {
  if (!p) throw new AtomicWriterError('invalid path: must not be empty');
  if (path.isAbsolute(p)) throw new AtomicWriterError(`invalid path: must be relative path: ${p}`);
  if (p.length > 4096) throw new AtomicWriterError(`invalid path: must be less than or equal to 4096 characters`);
  const parts = p.split('/');
  if (parts.includes('..')) throw new AtomicWriterError(`invalid path: must not contain '..': ${p}`);
  if (parts[0]!.startsWith('..')) throw new AtomicWriterError(`invalid path: must not start with '..': ${p}`);
}

function timestampName(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.`;
}

/** Every file under dir, relative path → content and mode. */
function readTree(dir: string, prefix = '', out: Payload = new Map()): Payload {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) readTree(full, rel, out);
    else out.set(rel, { data: readFileSync(full), mode: statSync(full).mode & 0o7777 });
  }
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.mode !== v.mode || !w.data.equals(v.data)) return false;
  }
  return true;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export class AtomicWriter {
  constructor(readonly dir: string) {}

  /** Writes the payload; true when something changed. */
  write(payload: Payload): boolean {
    for (const p of payload.keys()) validatePayloadPath(p);
    mkdirSync(this.dir, { recursive: true });
    const dataLink = path.join(this.dir, DATA_DIR);
    let oldTs: string | undefined;
    try {
      oldTs = readlinkSync(dataLink);
    } catch {
      oldTs = undefined;
    }
    const visible = new Set([...payload.keys()].map((p) => p.split('/')[0]!));
    if (oldTs && exists(path.join(this.dir, oldTs)) && samePayload(readTree(path.join(this.dir, oldTs)), payload)) {
      this.linkVisible(visible);
      return false;
    }
    const tsDir = mkdtempSync(path.join(this.dir, timestampName()));
    for (const [rel, f] of payload) {
      const file = path.join(tsDir, rel);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
      writeFileSync(file, f.data);
      chmodSync(file, f.mode);
    }
    chmodSync(tsDir, 0o755);
    const tmpLink = path.join(this.dir, DATA_DIR_TMP);
    rmSync(tmpLink, { force: true });
    symlinkSync(path.basename(tsDir), tmpLink);
    renameSync(tmpLink, dataLink);
    this.linkVisible(visible);
    // names no longer in the payload go (everything but the ..-prefixed bookkeeping)
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith('..') || visible.has(name)) continue;
      rmSync(path.join(this.dir, name), { recursive: true, force: true });
    }
    if (oldTs && oldTs !== path.basename(tsDir)) rmSync(path.join(this.dir, oldTs), { recursive: true, force: true });
    return true;
  }

  private linkVisible(names: Set<string>): void {
    for (const name of names) {
      const link = path.join(this.dir, name);
      if (!exists(link)) symlinkSync(path.join(DATA_DIR, name), link);
    }
  }
}
