/**
 * The local cloud's load balancers: each `type: LoadBalancer` Service gets one IP of
 * --load-balancer-ip-range (default 10.240.0.0/24, never routed off this machine), its
 * `spec.loadBalancerIP` when it asks for a free one. The cloud's record of which load
 * balancer holds which IP is the ConfigMap kube-system/local-cloud-load-balancers (one
 * entry per load balancer, named as upstream names them: "a" + the Service's uid), written
 * with compare-and-swap, so a restarted or new leader hands out the same IPs and never one
 * twice. The IP answers on this machine through the dummy interface (lbinterface.ts); the
 * proxy sends what arrives there to the Service's endpoints, so the load balancer needs no
 * node list (updateLoadBalancer has nothing to do).
 */
import type { ConfigMap, LoadBalancerStatus, Node, Service } from 'kubernetes-types/core/v1.js';
import { type ApiClient, isAlreadyExists, isConflict, isNotFound, Resources } from '../../../../lib/client/mod.js';
import { cidrContains, intToIp, ipToInt, parseCidr, type IPv4Cidr } from '../../../../lib/net/mod.js';
import { defaultLoadBalancerName, type LoadBalancer } from '../cloud.js';
import { LoadBalancerInterface } from './lbinterface.js';

export const DEFAULT_LOAD_BALANCER_IP_RANGE = '10.240.0.0/24';
export const STATE_NAMESPACE = 'kube-system';
export const STATE_CONFIGMAP = 'local-cloud-load-balancers';
const WRITE_ATTEMPTS = 8;

/** A load balancer that cannot be provisioned as asked (a pool that is full, a requested IP that is taken or outside it). */
export class LoadBalancerIPError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadBalancerIPError';
  }
}

interface Entry {
  ip: string;
  /** namespace/name of the Service, for whoever reads the ConfigMap */
  service: string;
}

export interface LocalLoadBalancerOptions {
  client: ApiClient;
  /** --load-balancer-ip-range */
  range?: string;
  /** the interface the IPs are added to (undefined: none, e.g. without root) */
  iface?: LoadBalancerInterface;
  log: (line: string) => void;
}

export class LocalLoadBalancer implements LoadBalancer {
  readonly range: IPv4Cidr;
  private readonly rangeText: string;
  private activated?: Promise<void>;

  constructor(private readonly opts: LocalLoadBalancerOptions) {
    this.rangeText = opts.range ?? DEFAULT_LOAD_BALANCER_IP_RANGE;
    this.range = parseCidr(this.rangeText);
    if (this.range.size < 4) throw new LoadBalancerIPError(`--load-balancer-ip-range ${this.rangeText}: too small (a /30 at most)`);
  }

  getLoadBalancerName(_clusterName: string, service: Service): string {
    return defaultLoadBalancerName(service);
  }

  async getLoadBalancer(clusterName: string, service: Service): Promise<{ status?: LoadBalancerStatus; exists: boolean }> {
    const { entries } = await this.read();
    const e = entries[this.getLoadBalancerName(clusterName, service)];
    return e ? { status: statusOf(e.ip), exists: true } : { exists: false };
  }

  async ensureLoadBalancer(clusterName: string, service: Service, _nodes: Node[]): Promise<LoadBalancerStatus> {
    await this.activate();
    const name = this.getLoadBalancerName(clusterName, service);
    const requested = service.spec?.loadBalancerIP || undefined;
    const ip = await this.modify((entries) => {
      const mine = entries[name];
      if (mine && (!requested || mine.ip === requested)) return { result: mine.ip };
      const taken = new Set(Object.entries(entries).filter(([k]) => k !== name).map(([, e]) => e.ip));
      const chosen = requested ? this.checkRequested(requested, taken) : this.firstFree(taken);
      entries[name] = { ip: chosen, service: `${service.metadata?.namespace}/${service.metadata?.name}` };
      return { result: chosen, changed: true };
    });
    await this.opts.iface?.add(ip);
    return statusOf(ip);
  }

  async updateLoadBalancer(): Promise<void> {
    // the proxy of each node forwards to the endpoints: no node list to keep
  }

  async ensureLoadBalancerDeleted(clusterName: string, service: Service): Promise<void> {
    await this.activate();
    const name = this.getLoadBalancerName(clusterName, service);
    const ip = await this.modify((entries) => {
      const e = entries[name];
      if (!e) return { result: undefined };
      delete entries[name];
      return { result: e.ip, changed: true };
    });
    // the service controller's one worker (upstream's --concurrent-service-syncs) gives this IP to nobody before it is off the interface
    if (ip) await this.opts.iface?.remove(ip);
  }

  /** Removes the interface and the pool's route from this machine, when this process set them up. */
  async stop(): Promise<void> {
    if (!this.activated) return;
    await this.activated.catch(() => undefined);
    await this.opts.iface?.tearDown();
  }

  /** The first write of this process puts every recorded IP on the interface (a restart brings them back). */
  private activate(): Promise<void> {
    this.activated ??= (async () => {
      if (!this.opts.iface) return;
      const { entries } = await this.read();
      await this.opts.iface.sync(Object.values(entries).map((e) => e.ip));
      this.opts.log(`local cloud: load balancer IPs of ${this.rangeText} answer on ${this.opts.iface.name} (${Object.keys(entries).length} assigned)`);
    })();
    return this.activated.catch((e) => {
      this.activated = undefined;
      throw e;
    });
  }

  private checkRequested(ip: string, taken: Set<string>): string {
    let n: number;
    try {
      n = ipToInt(ip);
    } catch {
      throw new LoadBalancerIPError(`requested loadBalancerIP "${ip}" is not an IPv4 address`);
    }
    if (!cidrContains(this.range, n) || n === this.range.base || n === this.range.base + this.range.size - 1) {
      throw new LoadBalancerIPError(`requested loadBalancerIP ${ip} is not in the local cloud's pool ${this.rangeText}`);
    }
    if (taken.has(ip)) throw new LoadBalancerIPError(`requested loadBalancerIP ${ip} is already assigned to another load balancer`);
    return ip;
  }

  private firstFree(taken: Set<string>): string {
    for (let n = this.range.base + 1; n < this.range.base + this.range.size - 1; n++) {
      const ip = intToIp(n);
      if (!taken.has(ip)) return ip;
    }
    throw new LoadBalancerIPError(`no free IP left in the local cloud's pool ${this.rangeText}`);
  }

  private async read(): Promise<{ cm?: ConfigMap; entries: Record<string, Entry> }> {
    let cm: ConfigMap | undefined;
    try {
      cm = await this.opts.client.get<ConfigMap>({ ...Resources.configmaps, namespace: STATE_NAMESPACE, name: STATE_CONFIGMAP });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const entries: Record<string, Entry> = {};
    for (const [k, v] of Object.entries(cm?.data ?? {})) {
      try {
        const e = JSON.parse(v) as Entry;
        if (typeof e?.ip === 'string') entries[k] = e;
      } catch {
        this.opts.log(`local cloud: ignoring the unreadable entry ${k} of ${STATE_NAMESPACE}/${STATE_CONFIGMAP}`);
      }
    }
    return { cm, entries };
  }

  /** Read-modify-write of the record with compare-and-swap, tried again on a conflict. */
  private async modify<T>(change: (entries: Record<string, Entry>) => { result: T; changed?: boolean }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { cm, entries } = await this.read();
      const { result, changed } = change(entries);
      if (!changed) return result;
      const data = Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, JSON.stringify(e)]));
      try {
        if (cm) {
          await this.opts.client.update<ConfigMap>({ ...Resources.configmaps, namespace: STATE_NAMESPACE, name: STATE_CONFIGMAP }, { ...cm, data });
        } else {
          await this.opts.client.create<ConfigMap>({ ...Resources.configmaps, namespace: STATE_NAMESPACE }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: STATE_CONFIGMAP, namespace: STATE_NAMESPACE }, data });
        }
        return result;
      } catch (e) {
        if ((isConflict(e) || isAlreadyExists(e)) && attempt < WRITE_ATTEMPTS) continue;
        throw e;
      }
    }
  }
}

function statusOf(ip: string): LoadBalancerStatus {
  return { ingress: [{ ip, ipMode: 'VIP' }] };
}
