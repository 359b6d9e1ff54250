/**
 * The `local` cloud's instances: the machines this cloud "runs" are the nodes the kubelet
 * processes carry (the real node, a node in a network namespace, hollow nodes). A cloud
 * knows its machines without asking Kubernetes, so the kubelet processes tell the cloud
 * over NATS, the way a VM's existence is the hypervisor's business:
 *
 * - every kubelet process publishes its instances on INSTANCES_SUBJECT every
 *   ANNOUNCE_INTERVAL_MS (in chunks of at most CHUNK_INSTANCES), and at once when asked on
 *   SYNC_SUBJECT (a cloud-controller-manager that just started);
 * - a process that stops publishes `{p, gone: true}`: its instances are gone at once, as a
 *   terminated VM is (a process killed with -9 says nothing; its instances expire when no
 *   announcement has named them for EXPIRY_INTERVALS intervals).
 *
 * `InstanceDirectory` is the cloud's side: what exists now, by node name.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

export const INSTANCES_SUBJECT = 'flotilla.localcloud.instances';
export const SYNC_SUBJECT = 'flotilla.localcloud.instances.sync';
export const ANNOUNCE_INTERVAL_MS = 2000;
/** an instance no announcement named for this many intervals is gone */
export const EXPIRY_INTERVALS = 4;
const CHUNK_INSTANCES = 2000;

/** One machine of the local cloud, as its kubelet process describes it. */
export interface LocalInstance {
  /** the node's name (the instance's hostname) */
  name: string;
  /** its address on the machine's network (InternalIP) */
  internalIP: string;
  /** where it runs: hollow nodes spread over zone-N, the others say nothing (the cloud's default zone) */
  zone?: string;
  /** e.g. `hollow-4cpu-16gi`, `host-2cpu-8gi` (see instanceType) */
  instanceType: string;
  /**
   * how its pods are reached: `host` (this machine's own network: the pod bridge is local),
   * `netns` (a network namespace behind a veth: pods are reached through internalIP),
   * `none` (hollow: nothing runs)
   */
  network: 'host' | 'netns' | 'none';
}

interface Announcement {
  p: string;
  gone?: boolean;
  instances?: LocalInstance[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An instance type named after the machine's size: `<kind>-<cpu>cpu-<memory in Gi>gi`. */
export function instanceType(kind: string, cpu: string | number, memoryBytes: number): string {
  return `${kind}-${cpu}cpu-${Math.max(1, Math.round(memoryBytes / 2 ** 30))}gi`;
}

/**
 * A kubelet process announcing its instances until stopped; stop() says they are gone.
 * `instances` is read at each announcement.
 */
export function announceInstances(nc: NatsConnection, processId: string, instances: () => LocalInstance[], intervalMs = ANNOUNCE_INTERVAL_MS): { stop(): void } {
  const publish = () => {
    if (nc.isClosed()) return;
    const all = instances();
    for (let i = 0; i < all.length; i += CHUNK_INSTANCES) {
      nc.publish(INSTANCES_SUBJECT, enc.encode(JSON.stringify({ p: processId, instances: all.slice(i, i + CHUNK_INSTANCES) } satisfies Announcement)));
    }
  };
  const sync: Subscription = nc.subscribe(SYNC_SUBJECT, {
    callback: (err) => {
      if (!err) publish();
    },
  });
  const timer = setInterval(publish, intervalMs);
  publish();
  return {
    stop() {
      clearInterval(timer);
      sync.unsubscribe();
      if (!nc.isClosed()) nc.publish(INSTANCES_SUBJECT, enc.encode(JSON.stringify({ p: processId, gone: true } satisfies Announcement)));
    },
  };
}

interface Seen {
  instance: LocalInstance;
  process: string;
  at: number;
}

/**
 * What the local cloud knows of its instances, from the kubelet processes' announcements.
 * Until it has listened for one whole announcement interval it knows too little to say an
 * instance is gone (`ready()` is false), so a restarted cloud-controller-manager deletes
 * no Node.
 */
export class InstanceDirectory {
  private readonly seen = new Map<string, Seen>();
  private readonly sub: Subscription;
  private readonly startedAt = Date.now();
  private readonly expiryMs: number;
  private readonly listeners = new Set<(name: string, exists: boolean) => void>();

  constructor(
    nc: NatsConnection,
    private readonly intervalMs = ANNOUNCE_INTERVAL_MS,
  ) {
    this.expiryMs = intervalMs * EXPIRY_INTERVALS;
    this.sub = nc.subscribe(INSTANCES_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        let a: Announcement;
        try {
          a = JSON.parse(dec.decode(msg.data)) as Announcement;
        } catch {
          return;
        }
        if (typeof a?.p !== 'string') return;
        if (a.gone) return this.withdraw(a.p);
        const now = Date.now();
        for (const instance of a.instances ?? []) {
          if (typeof instance?.name !== 'string') continue;
          const had = this.exists(instance.name, now);
          this.seen.set(instance.name, { instance, process: a.p, at: now });
          if (!had) this.tell(instance.name, true);
        }
      },
    });
    nc.publish(SYNC_SUBJECT, new Uint8Array(0));
  }

  /** Calls fn(name, exists) when an instance appears or is withdrawn (expiry is only seen by asking). */
  onChange(fn: (name: string, exists: boolean) => void): { remove(): void } {
    this.listeners.add(fn);
    return { remove: () => this.listeners.delete(fn) };
  }

  /** Whether the directory has listened long enough to say an instance does not exist. */
  ready(now = Date.now()): boolean {
    return now - this.startedAt >= this.intervalMs * 1.5;
  }

  /** The instance named so, if it exists now. */
  get(name: string, now = Date.now()): LocalInstance | undefined {
    const s = this.seen.get(name);
    if (!s) return undefined;
    if (now - s.at > this.expiryMs) {
      this.seen.delete(name);
      return undefined;
    }
    return s.instance;
  }

  exists(name: string, now = Date.now()): boolean {
    return this.get(name, now) !== undefined;
  }

  /** Every instance that exists now. */
  list(now = Date.now()): LocalInstance[] {
    const out: LocalInstance[] = [];
    for (const name of [...this.seen.keys()]) {
      const i = this.get(name, now);
      if (i) out.push(i);
    }
    return out;
  }

  private withdraw(process: string): void {
    for (const [name, s] of this.seen) {
      if (s.process !== process) continue;
      this.seen.delete(name);
      this.tell(name, false);
    }
  }

  private tell(name: string, exists: boolean): void {
    for (const fn of this.listeners) fn(name, exists);
  }

  stop(): void {
    this.listeners.clear();
    this.sub.unsubscribe();
  }
}
