/**
 * NATS traffic per operation, from nats-server's HTTP monitoring: /varz's message and byte
 * counters for the whole server, and /connz's for each client connection, grouped by
 * the process that opened it (connections are named by their component). Beside the CPU
 * per operation it tells whether a change moved cost into more or larger messages, and
 * whose: "in" is what the server received, "out" what it sent.
 */

export interface NatsCounters {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
}

export interface NatsSample {
  server: NatsCounters;
  /** summed over the connections of each role (see roleOf) */
  byRole: Record<string, NatsCounters>;
}

/** A connection's role from its name: the prefix that names a process, as `connectNats` callers name them. */
export type RoleOf = (connectionName: string) => string | undefined;

const zero = (): NatsCounters => ({ inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 });

function counters(v: { in_msgs?: number; out_msgs?: number; in_bytes?: number; out_bytes?: number }): NatsCounters {
  return { inMsgs: v.in_msgs ?? 0, outMsgs: v.out_msgs ?? 0, inBytes: v.in_bytes ?? 0, outBytes: v.out_bytes ?? 0 };
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** The server's counters and each role's, now. */
export async function sampleNats(monitorUrl: string, roleOf: RoleOf): Promise<NatsSample> {
  const [varz, connz] = await Promise.all([getJson(`${monitorUrl}/varz`), getJson(`${monitorUrl}/connz?limit=100000`)]);
  const byRole: Record<string, NatsCounters> = {};
  for (const c of (connz.connections ?? []) as Array<{ name?: string; in_msgs?: number; out_msgs?: number; in_bytes?: number; out_bytes?: number }>) {
    const role = roleOf(c.name ?? '');
    if (!role) continue;
    const sum = (byRole[role] ??= zero());
    const k = counters(c);
    sum.inMsgs += k.inMsgs;
    sum.outMsgs += k.outMsgs;
    sum.inBytes += k.inBytes;
    sum.outBytes += k.outBytes;
  }
  return { server: counters(varz), byRole };
}

function delta(a: NatsCounters, b: NatsCounters | undefined, ops: number): NatsCounters {
  const base = b ?? zero();
  return {
    inMsgs: (a.inMsgs - base.inMsgs) / ops,
    outMsgs: (a.outMsgs - base.outMsgs) / ops,
    inBytes: (a.inBytes - base.inBytes) / ops,
    outBytes: (a.outBytes - base.outBytes) / ops,
  };
}

/**
 * Per operation between two samples. A connection that appeared between them counts from
 * zero; one that went away drops out of its role (its traffic is then undercounted, so
 * the server's totals stay the reference).
 */
export function natsPerOp(before: NatsSample, after: NatsSample, ops: number): NatsSample | undefined {
  if (ops <= 0) return undefined;
  const byRole: Record<string, NatsCounters> = {};
  for (const [role, a] of Object.entries(after.byRole)) byRole[role] = delta(a, before.byRole[role], ops);
  return { server: delta(after.server, before.server, ops), byRole };
}

function kb(bytes: number): string {
  return (bytes / 1000).toFixed(bytes >= 10_000 ? 1 : 2);
}

/**
 * One line: `in 5.0 msgs 6.12 kB, out 8.3 msgs 12.4 kB; sent/received kB by connection: bench 0.71/1.20, ...`
 * (a connection's "sent" is the server's in from it).
 */
export function formatNatsPerOp(s: NatsSample): string {
  const { server } = s;
  const roles = Object.entries(s.byRole).map(([role, c]) => `${role} ${kb(c.inBytes)}/${kb(c.outBytes)} (${c.inMsgs.toFixed(2)}/${c.outMsgs.toFixed(2)} msgs)`);
  return `in ${server.inMsgs.toFixed(2)} msgs ${kb(server.inBytes)} kB, out ${server.outMsgs.toFixed(2)} msgs ${kb(server.outBytes)} kB${roles.length ? `; sent/received kB by connection: ${roles.join(', ')}` : ''}`;
}
