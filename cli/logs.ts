/**
 * `flotilla logs QUERY`: cluster-level logs from the logging service, in LogQL
 * (`{namespace="shop",app="web"} |= "error"`), over NATS: a query session on
 * `flotilla.logging.query` (services/logging/nats.ts). Lines are printed oldest first;
 * with -f the newest --limit lines, then new lines as they are shipped, pods that start
 * later included, until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { parseDuration } from '../lib/api/duration.js';
import { ServiceUnavailableError } from '../lib/api/errors.js';
import { formatTimestamp, LOG_QUERY_SUBJECT } from '../lib/logging/mod.js';
import { Channel, openStream } from '../lib/stream/mod.js';
import { readState, resolveDataDir } from './datafolder.js';

export const LOGS_USAGE = `usage: flotilla logs QUERY [--since 1h | --from TIME] [--to TIME] [--limit 1000] [--forward] [-f]
                     [-o default|raw|jsonl] [--nats URL] [--data DIR]

QUERY is LogQL: a stream selector over namespace, pod, container, node, stream (stdout or
stderr) and the pod's labels (dots and slashes in their names written "_"), with =, !=, =~, !~,
then line filters |= "text", != "text", |~ "regexp", !~ "regexp":

  flotilla logs '{namespace="shop",app="web"} |= "error"' --since 1h -f

  --since D      lines of the last D (Go duration: 30s, 5m, 1h; default 1h)
  --from, --to   the range in RFC3339 (--to defaults to now)
  --limit N      lines at most (default 1000): the newest N of the range, or with --forward the oldest N
  --forward      take the lines from the start of the range
  -f, --follow   after the newest --limit lines, print new ones as they are shipped (Ctrl-C ends)
  -o FORMAT      default: "<time> <namespace>/<pod>/<container> <line>"; raw: the line only;
                 jsonl: {"ts","labels","line"} per line
  --nats URL     NATS of the cluster (default $NATS_URL, else the one of the data folder's cluster)
  --data DIR     the data folder of \`flotilla up\` (default $FLOTILLA_DATA or <project>/.flotilla/data)`;

interface Entry {
  labels: Record<string, string>;
  ts: string;
  line: string;
  partial: boolean;
}

function natsUrlOf(flag: string | undefined, data: string | undefined): string {
  if (flag) return flag;
  if (process.env.NATS_URL) return process.env.NATS_URL;
  const dir = resolveDataDir(data);
  const s = readState(dir);
  if (!s?.natsUrl) throw new Error(`no cluster on data folder ${dir}: start one with \`flotilla up\`, or give --nats URL`);
  return s.natsUrl;
}

function timeFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${flag}: not an RFC3339 time: "${v}"`);
  return t;
}

/** ns since the epoch → RFC3339Nano */
function nsToTimestamp(ns: string): string {
  return formatTimestamp(Number(ns.slice(0, -6) || '0'), Number(ns.slice(-6)));
}

export async function runLogs(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      forward: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      output: { type: 'string', short: 'o' },
      nats: { type: 'string' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(LOGS_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`flotilla logs: one QUERY, in quotes\n\n${LOGS_USAGE}`);
    return 2;
  }
  const output = values.output ?? 'default';
  if (!['default', 'raw', 'jsonl'].includes(output)) throw new Error(`-o: default, raw or jsonl, not "${output}"`);
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit: a positive integer, not "${values.limit}"`);
  const end = timeFlag(values.to, '--to') ?? Date.now();
  let start = timeFlag(values.from, '--from');
  if (start === undefined) start = end - parseDuration(values.since ?? '1h');
  const url = natsUrlOf(values.nats, values.data);
  const nc = await connect({ servers: url.split(','), name: 'flotilla-logs' }).catch((e: Error) => {
    throw new Error(`cannot connect to NATS at ${url}: ${e.message}`);
  });
  try {
    const options = { query: positionals[0], start, end: values.follow ? undefined : end, limit, direction: values.forward ? 'forward' : 'backward', follow: !!values.follow };
    let session;
    try {
      session = await openStream(nc, LOG_QUERY_SUBJECT, { kind: 'log', target: {}, options });
    } catch (e) {
      if (e instanceof ServiceUnavailableError) throw new Error('the logging service does not answer (`flotilla up` runs it; or run `flotilla logging`)');
      throw e;
    }
    const stop = () => void session.close().finally(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const streams = new Map<number, Record<string, string>>();
    // a query answers newest first: printed oldest first; a follow comes oldest first
    const held: Entry[] = [];
    const print = (e: Entry) => {
      if (output === 'raw') process.stdout.write(e.partial ? e.line : `${e.line}\n`);
      else if (output === 'jsonl') process.stdout.write(`${JSON.stringify({ ts: e.ts, labels: e.labels, line: e.line, ...(e.partial ? { partial: true } : {}) })}\n`);
      else process.stdout.write(`${nsToTimestamp(e.ts)} ${e.labels.namespace}/${e.labels.pod}/${e.labels.container} ${e.line}\n`);
    };
    const reverse = !values.follow && !values.forward;
    let rest = '';
    for await (const chunk of session.channel(Channel.STDOUT)) {
      const text = rest + (chunk as Buffer).toString();
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        if (!l) continue;
        const r = JSON.parse(l) as { stream?: number; labels?: Record<string, string>; s?: number; ts?: string; line?: string; p?: boolean };
        if (r.labels && r.stream !== undefined) {
          streams.set(r.stream, r.labels);
          continue;
        }
        const e = { labels: streams.get(r.s!) ?? {}, ts: r.ts!, line: r.line!, partial: !!r.p };
        if (reverse) held.push(e);
        else print(e);
      }
    }
    for (let i = held.length - 1; i >= 0; i--) print(held[i]!);
    const { status } = await session.done;
    if (status) throw new Error(status.message ?? 'the query failed');
    return 0;
  } finally {
    await nc.close().catch(() => undefined);
  }
}
