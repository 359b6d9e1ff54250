/**
 * Service IPs and node ports, as upstream's service REST storage allocates them
 * (pkg/registry/core/service/storage: alloc.go, and the strategy's PatchAllocatedValues,
 * dropTypeDependentFields and IP family defaulting). Admission prepares the object before
 * validation; the write hook reserves what it holds right before the store write, keeps
 * the reservations when the write lands and gives them back when it does not, releases
 * what an update stopped holding once that update landed, and everything when the Service
 * leaves the store.
 */
import { InternalError, InvalidError, type StatusCause } from '../../../lib/api/errors.js';
import { invalid } from '../../../lib/schema/fielderrors.js';
import type { FieldError } from '../../../lib/schema/types.js';
import { resourceToken } from '../../../lib/store/keys.js';
import type { KvStore } from '../../../lib/store/kvstore.js';
import type { ServedKind } from '../kinds.js';
import { now, type AdmissionPlugin, type WriteContext, type WriteHook, type WriteOutcome } from '../storage.js';
import type { WatchCache } from '../watchcache.js';
import { OWNER_UID_ANNOTATION, RangeAllocator, RangeFullError, type Owner } from './allocator.js';
import type { NodePortRange, ServiceIPRange } from './ranges.js';

/** where the records live: upstream's IPAddress objects (networking.k8s.io/v1), one per IP */
export const IP_ADDRESS_RESOURCE = resourceToken('networking.k8s.io', 'ipaddresses');
/** one record per allocated node port (upstream keeps a bitmap; there is no per-port kind) */
export const NODE_PORT_RESOURCE = resourceToken('flotilla.io', 'servicenodeports');

type Svc = any;

const isService = (kind: ServedKind) => kind.def.kind === 'Service' && kind.qualified.group === '';

const typeOf = (svc: Svc): string => svc?.spec?.type ?? 'ClusterIP';
/** upstream needsClusterIP: every type but ExternalName (headless included) */
const needsClusterIP = (svc: Svc) => typeOf(svc) !== 'ExternalName';
const needsNodePort = (svc: Svc) => typeOf(svc) === 'NodePort' || typeOf(svc) === 'LoadBalancer';
/** whether node ports are allocated when not given (LoadBalancer may opt out) */
const allocatesNodePorts = (svc: Svc) =>
  typeOf(svc) === 'NodePort' || (typeOf(svc) === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false);
/** upstream NeedsHealthCheck */
export const needsHealthCheck = (svc: Svc) => typeOf(svc) === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
const isHeadless = (svc: Svc) => svc?.spec?.clusterIP === 'None' || svc?.spec?.clusterIPs?.[0] === 'None';

/** The cluster IPs a Service holds. */
export function heldIPs(svc: Svc): string[] {
  if (!svc?.spec || !needsClusterIP(svc) || isHeadless(svc)) return [];
  const ips: string[] = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => typeof ip === 'string' && ip !== '' && ip !== 'None');
}

/** The node ports a Service holds (its ports' and its health check's). */
export function heldPorts(svc: Svc): number[] {
  const out = new Set<number>();
  for (const p of svc?.spec?.ports ?? []) if (p?.nodePort > 0) out.add(p.nodePort);
  if (svc?.spec?.healthCheckNodePort > 0) out.add(svc.spec.healthCheckNodePort);
  return [...out];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function invalidService(name: string, errs: FieldError[]): InvalidError {
  const causes: StatusCause[] = errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field }));
  return new InvalidError({ resource: 'services', group: '', kind: 'Service' }, name, causes);
}

/** What one write reserved, and what it gives back once it landed. */
class Reservations {
  readonly ips: string[] = [];
  readonly ports: number[] = [];
  releaseIPs: string[] = [];
  releasePorts: number[] = [];

  constructor(
    private readonly alloc: ServiceAllocations,
    readonly owner: Owner,
  ) {}

  outcome(): WriteOutcome {
    return async (committed) => {
      const ips = committed ? this.releaseIPs : this.ips;
      const ports = committed ? this.releasePorts : this.ports;
      await this.alloc.release(ips, ports, this.owner.uid);
    };
  }
}

export class ServiceAllocations implements WriteHook, AdmissionPlugin {
  readonly ips: RangeAllocator;
  readonly ports: RangeAllocator;

  constructor(
    store: KvStore,
    cache: WatchCache,
    readonly ipRange: ServiceIPRange,
    readonly portRange: NodePortRange,
  ) {
    this.ips = new RangeAllocator(store, cache, IP_ADDRESS_RESOURCE, this.ipRange, (ip, owner) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: {
        name: ip,
        creationTimestamp: now(),
        labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
        annotations: { [OWNER_UID_ANNOTATION]: owner.uid },
      },
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    }));
    this.ports = new RangeAllocator(store, cache, NODE_PORT_RESOURCE, this.portRange, (port, owner) => ({
      apiVersion: 'flotilla.io/v1',
      kind: 'ServiceNodePort',
      metadata: { name: port, creationTimestamp: now(), annotations: { [OWNER_UID_ANNOTATION]: owner.uid } },
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    }));
  }

  // ---- admission: the object as upstream's strategy and initIPFamilyFields leave it

  admitCreate(kind: ServedKind, svc: Svc): void {
    if (isService(kind)) this.prepare(svc, undefined);
  }

  admitUpdate(kind: ServedKind, svc: Svc, old: Svc): void {
    if (!isService(kind)) return;
    patchAllocatedValues(svc, old);
    dropTypeDependentFields(svc, old);
    this.prepare(svc, old);
  }

  private prepare(svc: Svc, old: Svc | undefined): void {
    const spec = svc.spec;
    if (!spec || typeof spec !== 'object') return;
    if (typeOf(svc) === 'ExternalName') return;
    // (the kind's defaults mirror clusterIP and clusterIPs; on update they run after this)
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && typeof spec.clusterIPs?.[0] === 'string' && spec.clusterIPs[0]) spec.clusterIP = spec.clusterIPs[0];
    const selectorless = !spec.selector || Object.keys(spec.selector).length === 0;
    if (spec.ipFamilyPolicy === undefined || spec.ipFamilyPolicy === null) {
      if (old?.spec?.ipFamilyPolicy) spec.ipFamilyPolicy = old.spec.ipFamilyPolicy;
      // upstream: a headless Service without selector may carry both families' records
      else spec.ipFamilyPolicy = isHeadless(svc) && selectorless ? 'RequireDualStack' : 'SingleStack';
    }
    const errs: FieldError[] = [];
    if (isHeadless(svc) && selectorless) {
      if (!spec.ipFamilies?.length) spec.ipFamilies = ['IPv4'];
      if (spec.ipFamilies.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') spec.ipFamilies.push(spec.ipFamilies[0] === 'IPv6' ? 'IPv4' : 'IPv6');
      return;
    }
    // a single-stack IPv4 cluster
    if (spec.ipFamilyPolicy === 'RequireDualStack') errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
    (spec.ipFamilies ?? []).forEach((f: unknown, i: number) => {
      if (f === 'IPv6') errs.push(invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
    });
    (spec.clusterIPs ?? []).forEach((ip: unknown, i: number) => {
      if (typeof ip === 'string' && ip.includes(':')) errs.push(invalid(`spec.clusterIPs[${i}]`, spec.clusterIPs, 'IPv6 is not configured on this cluster'));
    });
    if (errs.length) throw invalidService(svc.metadata?.name ?? '', errs);
    if (!spec.ipFamilies?.length) spec.ipFamilies = ['IPv4'];
  }

  // ---- the write hook

  appliesTo(kind: ServedKind): boolean {
    return isService(kind);
  }

  async beginCreate(_kind: ServedKind, svc: Svc, ctx: WriteContext): Promise<WriteOutcome | undefined> {
    if (!svc.spec) return undefined;
    return this.allocate(svc, undefined, ctx);
  }

  async beginUpdate(_kind: ServedKind, svc: Svc, old: Svc, ctx: WriteContext): Promise<WriteOutcome | undefined> {
    if (!svc.spec) return undefined;
    return this.allocate(svc, old, ctx);
  }

  async afterDelete(_kind: ServedKind, svc: Svc): Promise<void> {
    await this.release(heldIPs(svc), heldPorts(svc), svc.metadata?.uid ?? '');
  }

  async release(ips: string[], ports: number[], uid: string): Promise<void> {
    for (const ip of ips) await this.ips.release(ip, uid).catch((e) => console.error(`apiserver: releasing cluster IP ${ip}: ${(e as Error).message}`));
    for (const p of ports) await this.ports.release(String(p), uid).catch((e) => console.error(`apiserver: releasing node port ${p}: ${(e as Error).message}`));
  }

  /**
   * Reserves what `svc` holds and `old` did not (user-chosen values, then fresh ones for
   * what is to be allocated), fills those in, and plans to release what `old` held and
   * `svc` no longer does.
   */
  private async allocate(svc: Svc, old: Svc | undefined, ctx: WriteContext): Promise<WriteOutcome> {
    const spec = svc.spec;
    const name = svc.metadata?.name ?? '';
    const owner: Owner = { namespace: svc.metadata?.namespace ?? '', name, uid: svc.metadata?.uid ?? '' };
    const r = new Reservations(this, owner);
    const dryRun = !!ctx.dryRun;
    try {
      const oldIPs = new Set(heldIPs(old));
      const oldPorts = new Set(heldPorts(old));
      // user-chosen cluster IPs
      for (const ip of heldIPs(svc)) {
        if (oldIPs.has(ip)) continue;
        const why = await this.reserveIP(ip, owner, dryRun, r);
        if (why) throw invalidService(name, [invalid('spec.clusterIPs', spec.clusterIPs ?? [ip], `failed to allocate IP ${ip}: ${why}`)]);
      }
      // user-chosen node ports (a port number the old object held needs nothing)
      const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
      const taken = new Set<number>();
      for (let i = 0; i < ports.length; i++) {
        const np = ports[i]?.nodePort;
        if (!(np > 0) || oldPorts.has(np) || taken.has(np)) continue;
        const why = await this.reservePort(np, owner, dryRun, r);
        if (why) throw invalidService(name, [invalid(`spec.ports[${i}].nodePort`, np, why)]);
        taken.add(np);
      }
      const hc = spec.healthCheckNodePort;
      if (hc > 0 && !oldPorts.has(hc) && !taken.has(hc)) {
        const why = await this.reservePort(hc, owner, dryRun, r);
        if (why) throw new InternalError(`failed to allocate requested HealthCheck NodePort ${hc}: ${why}`);
      }
      // fresh values
      if (needsClusterIP(svc) && !isHeadless(svc) && !spec.clusterIP) {
        const ip = await this.next(this.ips, owner, dryRun, 'a serviceIP');
        if (!dryRun) r.ips.push(ip);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      if (allocatesNodePorts(svc)) {
        // ports sharing a port number (53/TCP and 53/UDP) share one node port, as upstream
        const byPort = new Map<number, number>();
        for (const p of ports) if (p?.nodePort > 0 && !byPort.has(p.port)) byPort.set(p.port, p.nodePort);
        for (const p of ports) {
          if (!p || p.nodePort > 0) continue;
          let np = byPort.get(p.port);
          if (np === undefined) {
            np = Number(await this.next(this.ports, owner, dryRun, 'a nodePort'));
            if (!dryRun) r.ports.push(np);
            byPort.set(p.port, np);
          }
          p.nodePort = np;
        }
      }
      if (needsHealthCheck(svc) && !(spec.healthCheckNodePort > 0)) {
        const np = Number(await this.next(this.ports, owner, dryRun, 'a HealthCheck NodePort'));
        if (!dryRun) r.ports.push(np);
        spec.healthCheckNodePort = np;
      }
      if (old && !dryRun) {
        const nowIPs = new Set(heldIPs(svc));
        const nowPorts = new Set(heldPorts(svc));
        r.releaseIPs = [...oldIPs].filter((ip) => !nowIPs.has(ip));
        r.releasePorts = [...oldPorts].filter((p) => !nowPorts.has(p));
      }
    } catch (e) {
      await r.outcome()(false);
      throw e;
    }
    return r.outcome();
  }

  /** undefined when reserved, else why not (upstream's allocator error text) */
  private async reserveIP(ip: string, owner: Owner, dryRun: boolean, r: Reservations): Promise<string | undefined> {
    if (this.ipRange.offsetOf(ip) === undefined) {
      return `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.ipRange}`;
    }
    if (dryRun) return this.ips.isAllocated(ip) ? 'provided IP is already allocated' : undefined;
    if (!(await this.ips.reserve(ip, owner))) return 'provided IP is already allocated';
    r.ips.push(ip);
    return undefined;
  }

  private async reservePort(port: number, owner: Owner, dryRun: boolean, r: Reservations): Promise<string | undefined> {
    if (this.portRange.offsetOf(port) === undefined) {
      return `provided port is not in the valid range. The range of valid ports is ${this.portRange}`;
    }
    const name = String(port);
    if (dryRun) return this.ports.isAllocated(name) ? 'provided port is already allocated' : undefined;
    if (!(await this.ports.reserve(name, owner))) return 'provided port is already allocated';
    r.ports.push(port);
    return undefined;
  }

  private async next(a: RangeAllocator, owner: Owner, dryRun: boolean, what: string): Promise<string> {
    try {
      return await a.allocateNext(owner, dryRun);
    } catch (e) {
      if (e instanceof RangeFullError) throw new InternalError(`failed to allocate ${what}: range is full`);
      throw e;
    }
  }
}

/**
 * upstream PatchAllocatedValues: an update that leaves out allocated values (a PUT of a
 * manifest without clusterIP or nodePort) keeps those the Service holds.
 */
function patchAllocatedValues(svc: Svc, old: Svc): void {
  const spec = svc.spec;
  const os = old?.spec;
  if (!spec || typeof spec !== 'object' || !os) return;
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && os.clusterIP) spec.clusterIP = os.clusterIP;
    if (!spec.clusterIPs?.length && os.clusterIPs?.length) spec.clusterIPs = [...os.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(svc) && Array.isArray(spec.ports)) {
    const used = new Set(heldPortsOf(spec.ports));
    const byName = new Map<string, number>();
    for (const p of os.ports ?? []) byName.set(p?.name ?? '', p?.nodePort ?? 0);
    for (const p of spec.ports) {
      if (!p || p.nodePort > 0) continue;
      const was = byName.get(p.name ?? '');
      if (was && !used.has(was)) p.nodePort = was;
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(svc) && !(spec.healthCheckNodePort > 0) && os.healthCheckNodePort > 0) {
    spec.healthCheckNodePort = os.healthCheckNodePort;
  }
}

function heldPortsOf(ports: any[]): number[] {
  return ports.map((p) => p?.nodePort).filter((n) => n > 0);
}

/**
 * upstream dropTypeDependentFields: a type change drops what only the old type needed, if
 * the update left it as it was (an explicit change is the user's, and validation judges it).
 */
function dropTypeDependentFields(svc: Svc, old: Svc): void {
  const spec = svc.spec;
  const os = old?.spec;
  if (!spec || typeof spec !== 'object' || !os) return;
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (same(spec.clusterIP, os.clusterIP) && same(spec.clusterIPs, os.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (same(spec.ipFamilies, os.ipFamilies)) delete spec.ipFamilies;
    if (same(spec.ipFamilyPolicy, os.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
    if (same(spec.internalTrafficPolicy, os.internalTrafficPolicy)) delete spec.internalTrafficPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(svc) && Array.isArray(spec.ports)) {
    const before = (os.ports ?? []).map((p: any) => p?.nodePort ?? 0);
    const after = spec.ports.map((p: any) => p?.nodePort ?? 0);
    if (same(before, after)) for (const p of spec.ports) if (p) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(svc) && same(spec.healthCheckNodePort, os.healthCheckNodePort)) {
    delete spec.healthCheckNodePort;
  }
  if (typeOf(old) === 'LoadBalancer' && typeOf(svc) !== 'LoadBalancer') {
    if (same(spec.allocateLoadBalancerNodePorts, os.allocateLoadBalancerNodePorts)) delete spec.allocateLoadBalancerNodePorts;
    if (same(spec.loadBalancerClass, os.loadBalancerClass)) delete spec.loadBalancerClass;
  }
  if (needsNodePort(old) && !needsNodePort(svc) && same(spec.externalTrafficPolicy, os.externalTrafficPolicy)) {
    delete spec.externalTrafficPolicy;
  }
}
