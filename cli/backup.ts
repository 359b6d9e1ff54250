/**
 * `flotilla backup FILE` and `flotilla restore FILE`: every live entry of the store's KV
 * bucket, with its revision, in a versioned JSON-lines file (docs/operations.md).
 *
 * Restore keeps revisions, because `metadata.resourceVersion` is the revision and
 * watchers and clients compare them: entries are written in revision order into a fresh
 * bucket, and the stream is padded with throwaway messages (purged at the end) so each
 * entry lands at exactly its old revision, and the next write lands after the backup's
 * revision. Writes are pipelined; each acknowledged revision is checked.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_BUCKET, KvStore, type StoreEntry } from '../lib/store/kvstore.js';
import { resolveDataDir, withDataFolderNats } from './datafolder.js';

export const BACKUP_FORMAT = 'flotilla-kv-backup';
export const BACKUP_VERSION = 1;

/** Key the padding messages go to; never a valid object key (no resource starts with "_"). */
export const PAD_KEY = '_restore.pad.x';

/** Pipelined writes in flight at once. */
const WINDOW = 1024;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  bucket: string;
  /** the store's revision when the backup was taken (>= every entry's revision) */
  revision: number;
  /** number of entry lines that follow */
  entries: number;
  createdAt: string;
  natsServerVersion: string;
}

export interface BackupEntry {
  key: string;
  revision: number;
  value: Uint8Array;
}

export interface RestoreResult {
  entries: number;
  /** entries that could not keep their revision (only with force into a used bucket) */
  renumbered: number;
  /** the store's revision afterwards */
  revision: number;
}

/** Every live entry, in revision order, with the store's revision. */
export async function snapshotStore(store: KvStore): Promise<{ header: BackupHeader; entries: BackupEntry[] }> {
  const before = await store.jsm.streams.info(store.streamName);
  // dump() waits for a last entry that an empty (or fully purged) stream never delivers.
  const dumped: StoreEntry[] = before.state.messages === 0 ? [] : await store.dump();
  const entries = dumped
    .filter((e) => e.operation === 'PUT' && e.value && !e.key.startsWith('_restore.'))
    .map((e) => ({ key: e.key, revision: e.revision, value: e.value! }));
  const revision = Math.max(before.state.last_seq, ...entries.map((e) => e.revision));
  return {
    header: {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      bucket: store.bucket,
      revision,
      entries: entries.length,
      createdAt: new Date().toISOString(),
      natsServerVersion: store.serverVersion,
    },
    entries,
  };
}

/** Writes a backup of the store to `file` (atomically: a partial file never has its final name). */
export async function backupStore(store: KvStore, file: string): Promise<BackupHeader> {
  const { header, entries } = await snapshotStore(store);
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp);
  const write = async (line: string) => {
    if (!out.write(line + '\n')) await once(out, 'drain');
  };
  try {
    await write(JSON.stringify(header));
    for (const e of entries) await write(JSON.stringify({ key: e.key, revision: e.revision, value: Buffer.from(e.value).toString('base64') }));
    out.end();
    await once(out, 'finish');
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw new Error(`backup: writing ${file}: ${(e as Error).message}`);
  }
  renameSync(tmp, file);
  return header;
}

/** Reads and checks a backup file. */
export async function readBackup(file: string): Promise<{ header: BackupHeader; entries: BackupEntry[] }> {
  const rl = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let header: BackupHeader | undefined;
  const entries: BackupEntry[] = [];
  let line = 0;
  for await (const text of rl) {
    line++;
    if (!text.trim()) continue;
    let rec: any;
    try {
      rec = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}:${line}: not JSON: ${(e as Error).message}`);
    }
    if (!header) {
      if (rec?.format !== BACKUP_FORMAT) throw new Error(`${file}: not a flotilla backup (format ${JSON.stringify(rec?.format)})`);
      if (rec.version !== BACKUP_VERSION) throw new Error(`${file}: backup format version ${rec.version} is not supported (this flotilla reads version ${BACKUP_VERSION})`);
      header = rec as BackupHeader;
      continue;
    }
    if (typeof rec?.key !== 'string' || !Number.isInteger(rec.revision) || typeof rec.value !== 'string') {
      throw new Error(`${file}:${line}: an entry needs key, revision and value`);
    }
    const prev = entries[entries.length - 1];
    if (prev && rec.revision <= prev.revision) throw new Error(`${file}:${line}: revision ${rec.revision} is not after ${prev.revision}`);
    if (rec.revision > header.revision) throw new Error(`${file}:${line}: revision ${rec.revision} is past the backup's revision ${header.revision}`);
    entries.push({ key: rec.key, revision: rec.revision, value: new Uint8Array(Buffer.from(rec.value, 'base64')) });
  }
  if (!header) throw new Error(`${file}: empty file, not a flotilla backup`);
  if (entries.length !== header.entries) throw new Error(`${file}: truncated: ${entries.length} entries, the header announces ${header.entries}`);
  return { header, entries };
}

/**
 * Restores entries into the store's bucket. Refuses a bucket that holds anything (or
 * whose revision is past the backup's first entry, so revisions could not be kept)
 * unless `force`: then entries are written over what is there and any that cannot keep
 * its revision is renumbered.
 */
export async function restoreStore(
  store: KvStore,
  backup: { header: BackupHeader; entries: BackupEntry[] },
  opts: { force?: boolean } = {},
): Promise<RestoreResult> {
  const { header, entries } = backup;
  const stream = store.streamName;
  let state = (await store.jsm.streams.info(stream)).state;
  const firstRevision = entries[0]?.revision ?? header.revision + 1;
  if (!opts.force) {
    if (state.messages > 0) {
      throw new Error(`restore: bucket ${store.bucket} is not empty (${state.messages} entries, revision ${state.last_seq}); restore into a fresh bucket or pass --force`);
    }
    if (state.last_seq >= firstRevision) {
      throw new Error(`restore: bucket ${store.bucket} is already at revision ${state.last_seq}, past the backup's first revision ${firstRevision}; restore into a fresh bucket or pass --force (resourceVersions would change)`);
    }
  }
  // On an empty stream a purge up to a sequence moves the stream's next sequence there,
  // which skips the padding of the (often long) run of revisions before the first entry.
  if (state.messages === 0 && firstRevision > state.last_seq + 1) {
    await store.jsm.streams.purge(stream, { seq: firstRevision });
    state = (await store.jsm.streams.info(stream)).state;
  }

  let next = state.last_seq + 1;
  let renumbered = 0;
  let failure: Error | undefined;
  const inflight = new Set<Promise<void>>();
  const empty = new Uint8Array(0);
  const send = async (key: string, value: Uint8Array, expected: number | undefined) => {
    const p: Promise<void> = store.kv.put(key, value).then(
      (rev) => {
        if (expected !== undefined && rev !== expected) {
          failure ??= new Error(`restore: ${key} landed at revision ${rev}, expected ${expected} (is something else writing to bucket ${store.bucket}?)`);
        }
      },
      (e: Error) => {
        failure ??= new Error(`restore: writing ${key}: ${e.message}`);
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= WINDOW) await Promise.race(inflight);
  };
  const padTo = async (revision: number) => {
    while (next < revision && !failure) await send(PAD_KEY, empty, next++);
  };

  try {
    for (const e of entries) {
      if (failure) break;
      await padTo(e.revision);
      if (next === e.revision) {
        await send(e.key, e.value, next++);
      } else {
        renumbered++;
        await send(e.key, e.value, undefined);
        next++;
      }
    }
    await padTo(header.revision + 1);
    await Promise.all(inflight);
    if (failure) throw failure;
  } finally {
    await Promise.allSettled(inflight);
    await store.jsm.streams.purge(stream, { filter: `$KV.${store.bucket}.${PAD_KEY}` });
  }
  const after = (await store.jsm.streams.info(stream)).state;
  return { entries: entries.length, renumbered, revision: after.last_seq };
}

async function openExisting(nc: NatsConnection, bucket: string): Promise<KvStore> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(`KV_${bucket}`);
  } catch (e) {
    throw new Error(`backup: no bucket ${bucket} on this NATS server (${(e as Error).message})`);
  }
  return await KvStore.open(nc, { bucket });
}

const log = (line: string) => process.stderr.write(`flotilla: ${line}\n`);

/** Connects to the named NATS, or to the data folder's (starting nats-server on it if no cluster runs). */
async function withStore<T>(
  values: { nats?: string; data?: string; bucket?: string },
  open: (nc: NatsConnection, bucket: string) => Promise<KvStore>,
  fn: (store: KvStore) => Promise<T>,
): Promise<T> {
  const run = async (url: string, stateBucket?: string) => {
    const nc = await connect({ servers: url, name: 'flotilla-backup', timeout: 5000 }).catch((e: Error) => {
      throw new Error(`cannot connect to NATS at ${url}: ${e.message}`);
    });
    try {
      return await fn(await open(nc, values.bucket ?? stateBucket ?? DEFAULT_BUCKET));
    } finally {
      await nc.drain().catch(() => nc.close());
    }
  };
  const url = values.nats ?? (process.env.NATS_URL || undefined);
  if (url) return await run(url);
  return await withDataFolderNats(resolveDataDir(values.data), (u, state) => run(u, state?.bucket), log);
}

const COMMON_OPTIONS = {
  nats: { type: 'string' },
  data: { type: 'string' },
  bucket: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const BACKUP_USAGE = `usage: flotilla backup FILE [--nats URL | --data DIR] [--bucket NAME]

Writes every object of the store, with its revision, to FILE. Without --nats (or
$NATS_URL) it reads the data folder's store, through the running cluster's NATS or a
nats-server it starts for the purpose.`;

export const RESTORE_USAGE = `usage: flotilla restore FILE [--nats URL | --data DIR] [--bucket NAME] [--force]

Restores a backup into an empty bucket, keeping every object byte for byte and every
resourceVersion. --force writes over a bucket that is not empty (objects that cannot keep
their resourceVersion are renumbered).`;

export async function runBackup(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: COMMON_OPTIONS, allowPositionals: true });
  if (values.help || positionals.length !== 1) {
    console.log(BACKUP_USAGE);
    return values.help ? 0 : 2;
  }
  const file = positionals[0]!;
  const header = await withStore(values, openExisting, (store) => backupStore(store, file));
  log(`backed up ${header.entries} entries of bucket ${header.bucket} at revision ${header.revision} to ${file}`);
  return 0;
}

export async function runRestore(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, force: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log(RESTORE_USAGE);
    return values.help ? 0 : 2;
  }
  const backup = await readBackup(positionals[0]!);
  const result = await withStore(values, (nc, bucket) => KvStore.open(nc, { bucket }), (store) => restoreStore(store, backup, { force: values.force }));
  log(`restored ${result.entries} entries (backup of bucket ${backup.header.bucket} at revision ${backup.header.revision}); store revision now ${result.revision}`);
  if (result.renumbered) log(`warning: ${result.renumbered} entries got new revisions (resourceVersions changed); restart running apiservers`);
  return 0;
}
