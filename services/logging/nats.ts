/**
 * The query API over NATS: a `log` session (lib/stream) on `flotilla.logging.query` whose
 * options are {query, start, end (ms since the epoch), limit, direction, follow}. The
 * answer is NDJSON on the stdout channel: `{"stream":N,"labels":{...}}` the first time a
 * label set appears, then `{"s":N,"ts":"<ns>","line":"..."}` per line (`"p":true` on a
 * piece of a split line), in the query's direction; with follow, the newest `limit` lines
 * in time order, then new lines as they are stored, until the opener ends the session.
 */
import { once } from 'node:events';
import { BadRequestError } from '../../lib/api/errors.js';
import { Channel, type StreamAcceptor, type StreamChannel, type StreamRequest } from '../../lib/stream/mod.js';
import { LogQLParseError, parseLogQL } from './logql.js';
import type { Direction, LogQuerier, LogResultEntry } from './query.js';

export interface LogSessionOptions {
  query?: string;
  start?: number;
  end?: number;
  limit?: number;
  direction?: Direction;
  follow?: boolean;
}

export const DEFAULT_QUERY_LIMIT = 100;
export const DEFAULT_QUERY_RANGE_MS = 3600_000;

/** Writes entries as NDJSON, announcing each label set once. */
export class EntryWriter {
  private readonly ids = new Map<Readonly<Record<string, string>>, number>();

  constructor(private readonly out: StreamChannel, private readonly signal: AbortSignal) {}

  async write(entries: LogResultEntry[]): Promise<void> {
    let text = '';
    for (const e of entries) {
      let id = this.ids.get(e.labels);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(e.labels, id);
        text += JSON.stringify({ stream: id, labels: e.labels }) + '\n';
      }
      text += JSON.stringify(e.partial ? { s: id, ts: e.ts, line: e.line, p: true } : { s: id, ts: e.ts, line: e.line }) + '\n';
      if (text.length > 64 * 1024) {
        await this.send(text);
        text = '';
      }
    }
    if (text) await this.send(text);
  }

  private async send(text: string): Promise<void> {
    if (!this.out.write(Buffer.from(text))) await once(this.out, 'drain', { signal: this.signal }).catch(() => undefined);
  }
}

export function logQueryAcceptor(querier: LogQuerier): StreamAcceptor {
  return (req: StreamRequest) => {
    const o = (req.options ?? {}) as LogSessionOptions;
    if (typeof o.query !== 'string') throw new BadRequestError('a log query session needs options.query (LogQL)');
    let parsed;
    try {
      parsed = parseLogQL(o.query);
    } catch (e) {
      if (e instanceof LogQLParseError) throw new BadRequestError(e.message);
      throw e;
    }
    const now = Date.now();
    const end = o.end ?? now;
    const start = o.start ?? end - DEFAULT_QUERY_RANGE_MS;
    const limit = o.limit ?? DEFAULT_QUERY_LIMIT;
    if (!Number.isFinite(start) || !Number.isFinite(end) || start > end) throw new BadRequestError(`the query's start (${o.start}) must be a time before its end (${o.end})`);
    if (!Number.isInteger(limit) || limit < 1) throw new BadRequestError(`limit must be a positive integer, got ${o.limit}`);
    const direction: Direction = o.follow ? 'backward' : (o.direction ?? 'backward');
    if (direction !== 'forward' && direction !== 'backward') throw new BadRequestError(`direction must be forward or backward, got ${o.direction}`);
    return async (session) => {
      const out = session.channel(Channel.STDOUT);
      const writer = new EntryWriter(out, session.signal);
      const res = await querier.query({ query: parsed, startMs: start, endMs: o.follow ? Infinity : end, limit, direction });
      // a follow shows the newest lines as a terminal would: oldest first
      await writer.write(o.follow ? res.entries.reverse() : res.entries);
      if (o.follow) await querier.follow(parsed, res.lastSeq + 1, (entries) => writer.write(entries), session.signal);
      out.end();
    };
  };
}
