/**
 * Resource readings over NATS, for the metrics service's scrape: one request on
 * `flotilla.kubelet.stats` reaches every kubelet PROCESS at once (no queue group), and
 * each answers with the readings of all the nodes it carries (one, or thousands of hollow
 * ones) in chunks of at most CHUNK_BYTES to the request's inbox, numbered, the last one
 * marked. So a scrape of 10,000 hollow nodes is one publish and a few dozen replies,
 * never a request per node.
 *
 * Before it reads anything, a process acknowledges the request with `{p, ack: true}`, so
 * the scraper knows at once who is working on an answer and waits for exactly them,
 * however long a busy process takes. A chunk is JSON `{p, seq, last, nodes}`: p the
 * process's id, nodes in the compact form
 * `[node, timestamp, startTime, cpu, memory, pods]`, a pod `[namespace, name, uid,
 * timestamp, cpu, memory, containers]`, a container `[name, startTime, cpu, memory]`
 * (times in ms since the epoch, CPU in cumulative core-seconds, memory in bytes).
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { ContainerSample, NodeSample, PodSample } from './samples.js';

export const KUBELET_STATS_SUBJECT = 'flotilla.kubelet.stats';

/** below NATS's default max_payload (1 MiB) with room to spare */
export const CHUNK_BYTES = 512 * 1024;

type WireContainer = [string, number, number, number];
type WirePod = [string, string, string, number, number, number, WireContainer[]];
type WireNode = [string, number, number, number, number, WirePod[]];

interface Chunk {
  p: string;
  /** the acknowledgement sent before reading: no seq, last or nodes */
  ack?: boolean;
  seq: number;
  last: boolean;
  nodes: WireNode[];
}

const round = (n: number, digits: number) => Math.round(n * digits) / digits;

function encodeNode(n: NodeSample): WireNode {
  return [
    n.node,
    n.timestamp,
    n.startTime,
    round(n.cpu, 1e9),
    Math.round(n.memory),
    n.pods.map((p): WirePod => [p.namespace, p.name, p.uid, p.timestamp, round(p.cpu, 1e9), Math.round(p.memory), p.containers.map((c): WireContainer => [c.name, c.startTime, round(c.cpu, 1e9), Math.round(c.memory)])]),
  ];
}

function decodeNode(w: WireNode): NodeSample {
  return {
    node: w[0],
    timestamp: w[1],
    startTime: w[2],
    cpu: w[3],
    memory: w[4],
    pods: w[5].map(
      (p): PodSample => ({
        namespace: p[0],
        name: p[1],
        uid: p[2],
        timestamp: p[3],
        cpu: p[4],
        memory: p[5],
        containers: p[6].map((c): ContainerSample => ({ name: c[0], startTime: c[1], cpu: c[2], memory: c[3] })),
      }),
    ),
  };
}

/**
 * Answers scrapes with `read()`'s readings: one subscription per kubelet process. A
 * failing read answers one empty last chunk (the scraper then keeps nothing of this
 * process for the cycle) and is reported through `onError`.
 */
export function serveKubeletStats(nc: NatsConnection, processId: string, read: () => Promise<NodeSample[]>, onError: (e: Error) => void = () => {}): Subscription {
  const enc = new TextEncoder();
  return nc.subscribe(KUBELET_STATS_SUBJECT, {
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      const reply = msg.reply;
      nc.publish(reply, enc.encode(`{"p":${JSON.stringify(processId)},"ack":true}`));
      read().then(
        (nodes) => {
          let seq = 0;
          let batch: string[] = [];
          let size = 0;
          const send = (last: boolean) => {
            nc.publish(reply, enc.encode(`{"p":${JSON.stringify(processId)},"seq":${seq++},"last":${last},"nodes":[${batch.join(',')}]}`));
            batch = [];
            size = 0;
          };
          for (const n of nodes) {
            const text = JSON.stringify(encodeNode(n));
            if (size + text.length > CHUNK_BYTES && batch.length) send(false);
            batch.push(text);
            size += text.length + 1;
          }
          send(true);
        },
        (e: Error) => {
          onError(e);
          nc.publish(reply, enc.encode(JSON.stringify({ p: processId, seq: 0, last: true, nodes: [] } satisfies Chunk)));
        },
      );
    },
  });
}

export interface ScrapeOptions {
  /** the kubelet processes that answered before: the scrape waits for each of them */
  expected?: Iterable<string>;
  /** the scrape gives up on a process that has not finished by then */
  timeoutMs: number;
  /** once every expected process has finished, how long to wait for processes not known yet */
  quietMs?: number;
}

export interface ScrapeResult {
  /** the processes that answered completely, with how many nodes each carried */
  processes: Map<string, number>;
  /** the processes expected or acknowledging that did not finish in time */
  missing: string[];
}

/**
 * One scrape of every kubelet process: `onNodes` gets each chunk's nodes as it comes (the
 * caller stores them; nothing is held here). Resolves when every expected process has
 * answered and no new one has for `quietMs`, or at `timeoutMs`.
 */
export function scrapeKubelets(nc: NatsConnection, opts: ScrapeOptions, onNodes: (nodes: NodeSample[], process: string) => void): Promise<ScrapeResult> {
  const quietMs = opts.quietMs ?? 250;
  const expected = new Set(opts.expected ?? []);
  const inbox = createInbox();
  const progress = new Map<string, { seen: Set<number>; last?: number; nodes: number }>();
  return new Promise((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    let sub: Subscription | undefined;
    const done = () => {
      clearTimeout(quiet);
      clearTimeout(deadline);
      sub?.unsubscribe();
      const processes = new Map<string, number>();
      for (const [p, s] of progress) if (s.last !== undefined && s.seen.size === s.last + 1) processes.set(p, s.nodes);
      resolve({ processes, missing: [...new Set([...expected, ...progress.keys()])].filter((p) => !processes.has(p)) });
    };
    const deadline = setTimeout(done, opts.timeoutMs);
    const complete = (p: string) => {
      const s = progress.get(p);
      return !!s && s.last !== undefined && s.seen.size === s.last + 1;
    };
    const check = () => {
      clearTimeout(quiet);
      const everyone = [...expected].every(complete) && [...progress.keys()].every(complete);
      if (everyone) quiet = setTimeout(done, quietMs);
    };
    sub = nc.subscribe(inbox, {
      callback: (err, msg: Msg) => {
        if (err) return;
        let chunk: Chunk;
        try {
          chunk = msg.json<Chunk>();
        } catch {
          return;
        }
        let s = progress.get(chunk.p);
        if (!s) progress.set(chunk.p, (s = { seen: new Set(), nodes: 0 }));
        if (chunk.ack) return check();
        if (s.seen.has(chunk.seq)) return;
        s.seen.add(chunk.seq);
        if (chunk.last) s.last = chunk.seq;
        s.nodes += chunk.nodes.length;
        if (chunk.nodes.length) onNodes(chunk.nodes.map(decodeNode), chunk.p);
        check();
      },
    });
    nc.publish(KUBELET_STATS_SUBJECT, new Uint8Array(0), { reply: inbox });
    // no kubelet process known: finish after the quiet period unless one answers
    check();
  });
}
