/**
 * The `kubernetes` Service in `default` and its endpoints, as upstream's bootstrap
 * controller and "lease" endpoint reconciler keep them: the Service at the first address
 * of the cluster IP range, port 443 ("https") to the apiserver's port, and an
 * EndpointSlice (plus the Endpoints object, labelled not to be mirrored) listing every
 * running apiserver. Each apiserver holds a Lease in kube-system naming its advertised
 * address and renews it; every apiserver rebuilds the list from the unexpired Leases, so
 * one that stops (or dies: its Lease expires) leaves the list. The result depends only on
 * the Leases, so several apiservers write the same objects and do not fight.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { isAlreadyExists, isNotFound, type StatusError } from '../../lib/api/errors.js';
import { metaMicroTime } from '../../lib/api/time.js';
import type { ServedKind } from './kinds.js';
import { findKind } from './kinds.js';
import type { ObjectStorage } from './storage.js';

export const KUBERNETES_SERVICE = 'kubernetes';
const NAMESPACE = 'default';
const LEASE_NAMESPACE = 'kube-system';
/** upstream's apiserver identity Lease label */
export const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
/** where a Lease names the endpoint (ip:port) of its apiserver */
export const ENDPOINT_ANNOTATION = 'flotilla.io/apiserver-endpoint';

export interface KubernetesServiceOptions {
  /** the Service's cluster IP: the first address of the range */
  clusterIP: string;
  /** the address other apiservers' clients and pods reach this one at */
  advertiseAddress: string;
  /** the port its endpoints name (the port it serves on) */
  port: number;
  /** Lease duration; renewed at a third of it (upstream: 15 s, reconciled every 10 s) */
  leaseSeconds?: number;
  /**
   * upstream's --endpoint-reconciler-type: `lease` (default) lists the live apiservers;
   * `none` only makes sure the Service exists, and writes nothing more at start, while
   * running or at stop
   */
  endpointReconcilerType?: 'lease' | 'none';
}

const ctx = () => ({ warnings: [] as string[], fieldManager: 'kube-apiserver' });

/**
 * The address to advertise: the bind address when it is a specific non-loopback one,
 * else the host's: the IPv4 address of the interface of the default route (upstream's
 * choice for an unset --advertise-address), else the first non-loopback IPv4.
 */
export function defaultAdvertiseAddress(bindHost: string): string | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bindHost) && bindHost !== '0.0.0.0' && !bindHost.startsWith('127.')) return bindHost;
  const ifs = networkInterfaces();
  const v4 = (name: string) => ifs[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [iface, dest] = line.trim().split(/\s+/);
      if (dest === '00000000' && iface && v4(iface)) return v4(iface);
    }
  } catch {
    /* no procfs: fall through */
  }
  for (const name of Object.keys(ifs)) {
    const a = v4(name);
    if (a) return a;
  }
  return undefined;
}

export class KubernetesServiceReconciler {
  private readonly services: ServedKind;
  private readonly endpoints: ServedKind;
  private readonly slices: ServedKind;
  private readonly leases: ServedKind;
  readonly leaseName: string;
  private readonly holder: string;
  private readonly leaseSeconds: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly opts: KubernetesServiceOptions,
  ) {
    const kind = (g: string, v: string, r: string) => {
      const k = findKind(g, v, r);
      if (!k) throw new Error(`apiserver: ${r}.${g || 'core'} is not served`);
      return k;
    };
    this.services = kind('', 'v1', 'services');
    this.endpoints = kind('', 'v1', 'endpoints');
    this.slices = kind('discovery.k8s.io', 'v1', 'endpointslices');
    this.leases = kind('coordination.k8s.io', 'v1', 'leases');
    const id = createHash('sha256').update(`${hostname()}/${opts.advertiseAddress}:${opts.port}`).digest('hex').slice(0, 16);
    this.leaseName = `apiserver-${id}`;
    this.holder = `${this.leaseName}_${randomUUID()}`;
    this.leaseSeconds = opts.leaseSeconds ?? 15;
  }

  private get endpoint(): string {
    return `${this.opts.advertiseAddress}:${this.opts.port}`;
  }

  /** Ensures the Service, takes the Lease and lists this apiserver; then keeps at it. */
  async start(): Promise<void> {
    if (this.opts.endpointReconcilerType === 'none') return await this.ensureService();
    await this.sync();
    const interval = Math.max(200, (this.leaseSeconds * 1000) / 3);
    this.timer = setInterval(() => {
      if (this.running || this.stopped) return;
      this.running = this.sync()
        .catch((e) => console.error(`apiserver: kubernetes service endpoints: ${(e as Error).message}`))
        .finally(() => (this.running = undefined));
    }, interval);
    this.timer.unref();
  }

  /** Gives up the Lease and takes this apiserver off the list (upstream RemoveEndpoints). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.opts.endpointReconcilerType === 'none') return;
    await this.running;
    try {
      await this.storage.delete(this.leases, LEASE_NAMESPACE, this.leaseName, {}, ctx());
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.reconcileEndpoints().catch((e) => console.error(`apiserver: kubernetes service endpoints at stop: ${(e as Error).message}`));
  }

  async sync(): Promise<void> {
    await this.ensureService();
    await this.renewLease();
    await this.reconcileEndpoints();
  }

  private async ensureService(): Promise<void> {
    const want = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: KUBERNETES_SERVICE, namespace: NAMESPACE, labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: {
        type: 'ClusterIP',
        clusterIP: this.opts.clusterIP,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.opts.port }],
        sessionAffinity: 'None',
      },
    };
    const cur = this.cached(this.services, NAMESPACE, KUBERNETES_SERVICE);
    if (!cur) {
      try {
        await this.storage.create(this.services, NAMESPACE, want, ctx());
      } catch (e) {
        if (isAlreadyExists(e)) return;
        // e.g. the first address held by another Service: say so once a round, keep serving
        throw new Error(`creating the kubernetes Service at ${this.opts.clusterIP}: ${(e as StatusError).message}`);
      }
      return;
    }
    // upstream reconciles the ports (an apiserver restarted on another port)
    const ports = cur.spec?.ports ?? [];
    if (ports.length === 1 && ports[0].name === 'https' && ports[0].port === 443 && ports[0].targetPort === this.opts.port) return;
    await this.storage.patchWith(this.services, NAMESPACE, KUBERNETES_SERVICE, ctx(), (svc) => ({ ...svc, spec: { ...svc.spec, ports: want.spec.ports } }));
  }

  private async renewLease(): Promise<void> {
    const now = metaMicroTime();
    const cur = this.cached(this.leases, LEASE_NAMESPACE, this.leaseName);
    const spec = { holderIdentity: this.holder, leaseDurationSeconds: this.leaseSeconds, renewTime: now };
    if (!cur) {
      try {
        await this.storage.create(this.leases, LEASE_NAMESPACE, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.leaseName,
            namespace: LEASE_NAMESPACE,
            labels: { [IDENTITY_LABEL]: 'kube-apiserver', 'kubernetes.io/hostname': hostname() },
            annotations: { [ENDPOINT_ANNOTATION]: this.endpoint },
          },
          spec: { ...spec, acquireTime: now },
        }, ctx());
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
      return;
    }
    await this.storage.patchWith(this.leases, LEASE_NAMESPACE, this.leaseName, ctx(), (l) => ({
      ...l,
      metadata: { ...l.metadata, annotations: { ...l.metadata.annotations, [ENDPOINT_ANNOTATION]: this.endpoint } },
      spec: { ...l.spec, ...spec },
    }));
  }

  /** The endpoints the unexpired Leases name, deleting expired Leases on the way. */
  private async liveEndpoints(): Promise<{ port: number; ips: string[] }> {
    const now = Date.now();
    const found: Array<{ ip: string; port: number }> = [];
    for (const c of this.storage.cache.list(this.leases.storage, LEASE_NAMESPACE)) {
      const l = c.obj;
      if (l.metadata?.labels?.[IDENTITY_LABEL] !== 'kube-apiserver') continue;
      const renewed = Date.parse(l.spec?.renewTime ?? '');
      const expired = !(renewed + (l.spec?.leaseDurationSeconds ?? 15) * 1000 > now);
      if (expired || (this.stopped && c.name === this.leaseName)) {
        if (expired) {
          await this.storage
            .delete(this.leases, LEASE_NAMESPACE, c.name, { preconditions: { resourceVersion: l.metadata.resourceVersion } }, ctx())
            .catch(() => undefined); // renewed or deleted meanwhile
        }
        continue;
      }
      const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(l.metadata?.annotations?.[ENDPOINT_ANNOTATION] ?? '');
      if (m) found.push({ ip: m[1], port: Number(m[2]) });
    }
    found.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
    // one slice has one port: apiservers on another port than the first are not reachable through it
    const port = found[0]?.port ?? this.opts.port;
    const ips = [...new Set(found.filter((f) => f.port === port).map((f) => f.ip))];
    return { port, ips };
  }

  private async reconcileEndpoints(): Promise<void> {
    await this.storage.cache.waitConsistent();
    const { port, ips } = await this.liveEndpoints();
    const epPorts = [{ name: 'https', port, protocol: 'TCP' }];
    const subsets = ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: epPorts }] : undefined;
    const epLabels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
    await this.put(this.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: KUBERNETES_SERVICE, namespace: NAMESPACE, labels: epLabels }, ...(subsets ? { subsets } : {}) }, (cur) =>
      same(cur.subsets, subsets) && same(cur.metadata?.labels, epLabels) ? undefined : { ...cur, metadata: { ...cur.metadata, labels: epLabels }, subsets },
    );
    const endpoints = ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } }));
    const sliceLabels = { 'kubernetes.io/service-name': KUBERNETES_SERVICE };
    await this.put(
      this.slices,
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: KUBERNETES_SERVICE, namespace: NAMESPACE, labels: sliceLabels }, addressType: 'IPv4', endpoints, ports: epPorts },
      (cur) =>
        same(cur.endpoints ?? [], endpoints) && same(cur.ports, epPorts) && same(cur.metadata?.labels, sliceLabels)
          ? undefined
          : { ...cur, metadata: { ...cur.metadata, labels: sliceLabels }, endpoints, ports: epPorts },
    );
  }

  /** Creates `want`, or rewrites the current object when `change` says how (undefined: as it should be). */
  private async put(kind: ServedKind, want: any, change: (cur: any) => any | undefined): Promise<void> {
    const name = want.metadata.name;
    if (!this.cached(kind, NAMESPACE, name)) {
      try {
        await this.storage.create(kind, NAMESPACE, want, ctx());
        return;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        await this.storage.cache.waitConsistent();
      }
    }
    const cur = this.cached(kind, NAMESPACE, name);
    if (cur && !change(cur)) return;
    // `change` builds new objects: the cached one is never modified
    await this.storage.patchWith(kind, NAMESPACE, name, ctx(), (obj) => change(obj) ?? structuredClone(obj)).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }

  private cached(kind: ServedKind, ns: string, name: string): any | undefined {
    return this.storage.cache.get(kind.storage, ns, name)?.obj;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
