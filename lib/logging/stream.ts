/**
 * The log stream's configuration: file storage, retention by age and by bytes (the
 * oldest batches go first), a duplicate window for the shippers' resends, and direct
 * gets for the query side. The logging service creates it and keeps its limits current.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { DEFAULT_LOG_STREAM, DEFAULT_LOG_SUBJECT_PREFIX } from './subjects.js';

export const DEFAULT_LOG_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024 * 1024;
/** how long a resent batch is recognised (JetStream's default is 2 minutes) */
export const LOG_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

export interface LogStreamOptions {
  stream?: string;
  prefix?: string;
  /** lines older than this go (0: kept until max bytes) */
  maxAgeMs?: number;
  /** the stream's size at most; the oldest batches go first */
  maxBytes?: number;
}

/** Creates the stream, or updates its limits to these. */
export async function ensureLogStream(jsm: JetStreamManager, o: LogStreamOptions = {}): Promise<StreamInfo> {
  const name = o.stream ?? DEFAULT_LOG_STREAM;
  const maxAgeMs = o.maxAgeMs ?? DEFAULT_LOG_MAX_AGE_MS;
  const config = {
    name,
    subjects: [`${o.prefix ?? DEFAULT_LOG_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: maxAgeMs * 1e6,
    max_bytes: o.maxBytes ?? DEFAULT_LOG_MAX_BYTES,
    duplicate_window: Math.min(LOG_DUPLICATE_WINDOW_MS, maxAgeMs || LOG_DUPLICATE_WINDOW_MS) * 1e6,
    allow_direct: true,
  };
  try {
    const si = await jsm.streams.info(name);
    const c = si.config;
    if (c.max_age === config.max_age && c.max_bytes === config.max_bytes && c.duplicate_window === config.duplicate_window) return si;
    return await jsm.streams.update(name, { ...c, max_age: config.max_age, max_bytes: config.max_bytes, duplicate_window: config.duplicate_window });
  } catch (e) {
    if (!/stream not found/i.test((e as Error).message)) throw e;
    return await jsm.streams.add(config);
  }
}
