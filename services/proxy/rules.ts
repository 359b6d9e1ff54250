/**
 * The proxy's ruleset, rendered from Services and EndpointSlices: pure, no I/O. The layout
 * follows upstream kube-proxy's nftables mode (pkg/proxy/nftables): one table the proxy
 * owns, base chains that jump into `services`, which dispatches on
 * `ip daddr . meta l4proto . th dport` through one verdict map (`service-ips`; NodePorts
 * through `service-nodeports` for every local address), a chain per Service port and
 * traffic policy, and `no-endpoint-*` maps that reject at once in the filter hooks,
 * before DNAT, when a Service has no endpoints.
 *
 * One difference from upstream keeps the ruleset small: without session affinity a
 * Service port's chain picks its endpoint with one
 * `dnat ip addr . port to numgen random mod N offset BASE map @endpoints-K` rule instead
 * of a chain per endpoint (10,000 Services x 10 endpoints are 10,000 chains, not
 * 110,000). Each endpoint list owns a slot (EndpointSlots): the keys BASE .. BASE+N-1,
 * BASE = slot << 16, of the named map `endpoints-K` it shares with 63 other slots
 * (K = slot >> 6). The layout keeps the kernel's work linear in the Services:
 *  - no anonymous set or map in a Service's rules: the kernel names each anonymous set by
 *    walking all sets of the table, so 10,000 of them cost tens of seconds;
 *  - no single map for every Service either: the kernel checks each new element of a map
 *    against every rule bound to it, and a rule binding a map against every element
 *    (rules x elements, 10^9 at 10,000 x 10); 64 lists a map bound that;
 *  - few named sets: the kernel finds a set by name by walking the table's sets.
 * An endpoint change is then map elements only, plus the one rule when N changes.
 * Hairpin traffic (a pod reaching itself through its Service) is masqueraded by one rule
 * over the `hairpin` set of (endpoint . endpoint) pairs. Only Services with
 * `sessionAffinity: ClientIP` get endpoint chains, which record the client in an
 * `affinity-*` set with the Service's timeout, as upstream's do; their Service chain
 * picks one through the verdict map `endpoint-chains-K`, slotted the same way.
 */
import { createHash } from 'node:crypto';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** upstream's masquerade mark bit (--masquerade-bit 14) */
export const MASQUERADE_MARK = '0x4000';
/** upstream's default ClientIP affinity timeout, 3 hours */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface RulesConfig {
  /** this node's name: endpoints with this nodeName are local (traffic policy Local) */
  nodeName: string;
  /** the pods' range: traffic to a ClusterIP from outside it is masqueraded (none: not masqueraded) */
  clusterCIDR?: string;
  /** the Services' range: traffic to it that no Service port takes is dropped, so it never leaves the machine */
  serviceCIDR?: string;
  /** NodePorts answer on 127.0.0.1 too (needs route_localnet on the pod network's interface) */
  localhostNodePorts: boolean;
}

/**
 * What the proxy programs, apart from the fixed declarations (base chains' hooks, fixed
 * maps' types): chains with their rules, the elements of the maps and sets, and the sets
 * and maps Services bring. Two of these are compared to make an incremental transaction
 * (nftables.ts); TableContents (contents.ts) gives it just the items that changed.
 */
export interface Ruleset {
  /** every chain (base chains included) → its rules, in order */
  chains: Map<string, string[]>;
  /** map or set name → element key → value ('' for sets) */
  elements: Map<string, Map<string, string>>;
  /** the sets and maps Services bring (affinity sets, endpoint maps): name → declaration, which the name determines */
  sets: Map<string, string>;
}

/** The base chains: name → hook declaration. Priorities as upstream's nftables proxier. */
export const BASE_CHAINS: ReadonlyMap<string, string> = new Map([
  // filters run before DNAT (-100) so a Service's own address is still the destination
  ['filter-input', 'type filter hook input priority -110; policy accept;'],
  ['filter-forward', 'type filter hook forward priority -110; policy accept;'],
  ['filter-output', 'type filter hook output priority -110; policy accept;'],
  ['filter-output-post-dnat', 'type filter hook output priority -90; policy accept;'],
  ['nat-prerouting', 'type nat hook prerouting priority dstnat; policy accept;'],
  ['nat-output', 'type nat hook output priority -100; policy accept;'],
  ['nat-postrouting', 'type nat hook postrouting priority srcnat; policy accept;'],
]);

/** The maps and sets with a fixed type: name → declaration. */
export const FIXED_MAPS: ReadonlyMap<string, string> = new Map([
  ['service-ips', 'type ipv4_addr . inet_proto . inet_service : verdict;'],
  ['service-nodeports', 'type inet_proto . inet_service : verdict;'],
  ['no-endpoint-services', 'type ipv4_addr . inet_proto . inet_service : verdict;'],
  ['no-endpoint-nodeports', 'type inet_proto . inet_service : verdict;'],
  ['cluster-ips', 'type ipv4_addr;'],
  ['hairpin', 'type ipv4_addr . ipv4_addr;'],
]);

/** `add map` or `add set`, from a declaration */
export function setKind(decl: string): 'map' | 'set' {
  return decl.includes(':') ? 'map' : 'set';
}

/** keys per slot: an endpoint list's base is slot * SLOT_SIZE */
export const SLOT_SIZE = 0x10000;
/** slots per `endpoints-K` / `endpoint-chains-K` map: bounds the rules bound to one map */
export const SLOTS_PER_MAP = 64;
// numgen's value (slot base + random index) → the endpoint; `typeof` because nft has no type name for numgen's integer
const ENDPOINTS_MAP = 'typeof numgen random mod 1 : ip daddr . tcp dport;';
// the same for ClientIP affinity: → the endpoint's chain
const ENDPOINT_CHAINS_MAP = 'typeof numgen random mod 1 : verdict;';

/**
 * The slots of the `endpoints-K` and `endpoint-chains-K` maps, one per endpoint list (a
 * Service port's chain that picks among more than one endpoint), by chain name. A
 * chain keeps its slot while it needs one, so an endpoint change rewrites only that
 * slot's elements. A key is 32 bits: 65,536 slots of 65,536 endpoints.
 */
export class EndpointSlots {
  private readonly byChain = new Map<string, number>();
  private readonly free: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 0x10000) {}

  /** The chain's slot (allocated on first ask); undefined when all are taken. */
  slot(chain: string): number | undefined {
    let s = this.byChain.get(chain);
    if (s !== undefined) return s;
    s = this.free.pop() ?? (this.next < this.capacity ? this.next++ : undefined);
    if (s !== undefined) this.byChain.set(chain, s);
    return s;
  }

  release(chain: string): void {
    const s = this.byChain.get(chain);
    if (s === undefined) return;
    this.byChain.delete(chain);
    this.free.push(s);
  }

  get size(): number {
    return this.byChain.size;
  }
}

const PROTOCOLS: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** One endpoint as the proxy sees it (from an EndpointSlice). */
export interface ProxyEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

/** base32 of sha256, 8 characters: keeps chain names unique and short, as upstream's hashes */
export function shortHash(s: string): string {
  const bytes = createHash('sha256').update(s).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 8) break;
  }
  return out;
}

function isIPv4(ip: string | undefined): ip is string {
  return !!ip && /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/** The endpoints of one Service port from the Service's slices (matched by port name and protocol), one per IP. */
export function endpointsFor(port: ServicePort, slices: EndpointSlice[]): ProxyEndpoint[] {
  const byIp = new Map<string, ProxyEndpoint>();
  const protocol = port.protocol ?? 'TCP';
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!sp || sp.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!isIPv4(ip) || byIp.has(ip)) continue;
      // upstream: a nil ready means ready; nil serving means "as ready"; nil terminating means not
      const ready = ep.conditions?.ready ?? true;
      const serving = ep.conditions?.serving ?? ready;
      const terminating = ep.conditions?.terminating ?? false;
      byIp.set(ip, { ip, port: sp.port, ready, serving, terminating, nodeName: ep.nodeName });
    }
  }
  return [...byIp.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

/**
 * Upstream's CategorizeEndpoints (pkg/proxy/topology.go), without topology hints: only
 * ready endpoints take traffic; when none is ready, serving-and-terminating ones do
 * (graceful termination); the same again among this node's endpoints.
 */
export function categorizeEndpoints(eps: ProxyEndpoint[], nodeName: string): { cluster: ProxyEndpoint[]; local: ProxyEndpoint[]; hasAny: boolean } {
  const usable = eps.filter((e) => e.ready || (e.serving && e.terminating));
  const pick = (list: ProxyEndpoint[]) => {
    const ready = list.filter((e) => e.ready);
    return ready.length ? ready : list.filter((e) => e.serving && e.terminating);
  };
  return { cluster: pick(usable), local: pick(usable.filter((e) => e.nodeName === nodeName)), hasAny: usable.length > 0 };
}

/** A Service with its EndpointSlices, the unit the proxy renders. */
export interface ServiceWithSlices {
  service: Service;
  slices: EndpointSlice[];
}

/** The rules every ruleset has, whatever the Services. */
function fixedChains(cfg: RulesConfig): Map<string, string[]> {
  const inputRules = ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'];
  if (cfg.localhostNodePorts) {
    // route_localnet lets 127.0.0.1 be routed to pods; without this rule a pod could then
    // reach the node's localhost services (upstream's iptables rule for CVE-2020-8558)
    inputRules.push('iifname != "lo" ip daddr 127.0.0.0/8 ct state != { established, related } ct status ! dnat drop');
  }
  const clusterIpsCheck = ['ip daddr @cluster-ips reject'];
  if (cfg.serviceCIDR) clusterIpsCheck.push(`ip daddr ${cfg.serviceCIDR} drop`);
  return new Map([
    ['filter-input', inputRules],
    ['filter-forward', ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check']],
    ['filter-output', ['ct state new jump service-endpoints-check']],
    ['filter-output-post-dnat', ['ct state new jump cluster-ips-check']],
    ['nat-prerouting', ['jump services']],
    ['nat-output', ['jump services']],
    ['nat-postrouting', ['ct status dnat ip saddr . ip daddr @hairpin jump mark-for-masquerade', 'jump masquerading']],
    ['services', [
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      `fib daddr type local${cfg.localhostNodePorts ? '' : ' ip daddr != 127.0.0.0/8'} meta l4proto . th dport vmap @service-nodeports`,
    ]],
    ['service-endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']],
    ['nodeport-endpoints-check', [`fib daddr type local${cfg.localhostNodePorts ? '' : ' ip daddr != 127.0.0.0/8'} meta l4proto . th dport vmap @no-endpoint-nodeports`]],
    // ClusterIPs on ports no Service has; the rest of the Service range goes nowhere
    ['cluster-ips-check', clusterIpsCheck],
    ['reject-chain', ['meta l4proto tcp reject with tcp reset', 'reject']],
    ['mark-for-masquerade', [`meta mark set meta mark or ${MASQUERADE_MARK}`]],
    ['masquerading', [`meta mark & ${MASQUERADE_MARK} == 0 return`, `meta mark set meta mark xor ${MASQUERADE_MARK}`, 'masquerade fully-random']],
  ]);
}

/** What one Service contributes to the ruleset: rendered once per version of it and its slices. */
export interface ServiceRules {
  chains: Map<string, string[]>;
  /** [map or set, key, value ('' for sets)] */
  elements: Array<[string, string, string]>;
  /** name → declaration */
  sets: Map<string, string>;
  /** the chains that hold a slot of the endpoint maps (EndpointSlots) */
  slotted: string[];
}

/** The ruleset every table starts from: the fixed chains, empty maps. */
export function emptyRuleset(cfg: RulesConfig): Ruleset {
  return { chains: fixedChains(cfg), elements: new Map([...FIXED_MAPS.keys()].map((k) => [k, new Map<string, string>()])), sets: new Map() };
}

/** Builds the whole ruleset for these Services (slots from `slots`, a fresh allocator by default). */
export function buildRuleset(cfg: RulesConfig, services: Iterable<ServiceWithSlices>, slots = new EndpointSlots()): Ruleset {
  const rs = emptyRuleset(cfg);
  for (const s of services) {
    const p = serviceRules(cfg, s, slots);
    for (const [name, rules] of p.chains) rs.chains.set(name, rules);
    for (const [map, key, value] of p.elements) {
      let els = rs.elements.get(map);
      if (!els) rs.elements.set(map, (els = new Map()));
      els.set(key, value);
    }
    for (const [name, decl] of p.sets) rs.sets.set(name, decl);
  }
  return rs;
}

/** One Service's chains, map elements and sets (affinity, endpoint maps); its endpoint lists take slots from `slots`. */
export function serviceRules(cfg: RulesConfig, { service, slices }: ServiceWithSlices, slots: EndpointSlots): ServiceRules {
  const chains = new Map<string, string[]>();
  const elements: Array<[string, string, string]> = [];
  const sets = new Map<string, string>();
  const slotted: string[] = [];
  const el = (map: string) => ({ set: (key: string, value: string) => void elements.push([map, key, value]) });
  const out = { chains, elements, sets, slotted };
  const spec = service.spec;
  if (!spec || spec.type === 'ExternalName') return out;
  const ns = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const clusterIP = isIPv4(spec.clusterIP) ? spec.clusterIP : undefined;
  if (clusterIP) el('cluster-ips').set(clusterIP, '');
  const externalIPs = [
    ...(spec.externalIPs ?? []),
    ...(service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
  ].filter(isIPv4);
  const affinity = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS) : 0;
  const internalLocal = spec.internalTrafficPolicy === 'Local';
  const externalLocal = spec.externalTrafficPolicy === 'Local' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || externalIPs.length > 0);

  for (const port of spec.ports ?? []) {
    const proto = PROTOCOLS[port.protocol ?? 'TCP'];
    if (!proto || !port.port) continue;
    const portName = `${ns}/${name}/${proto}/${port.name ?? ''}`;
    const h = shortHash(portName);
    const eps = endpointsFor(port, slices);
    const { cluster, local, hasAny } = categorizeEndpoints(eps, cfg.nodeName);
    // only a pod on this node can reach itself through this node's rules
    for (const e of eps) if (e.nodeName === undefined || e.nodeName === cfg.nodeName) el('hairpin').set(`${e.ip} . ${e.ip}`, '');

    const clusterChain = `service-${h}-${portName}`;
    const localChain = `local-${h}-${portName}`;
    const externalChain = `external-${h}-${portName}`;
    const nodePort = port.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ? port.nodePort : undefined;
    const hasExternal = nodePort !== undefined || externalIPs.length > 0;

    // the chains that pick an endpoint
    const masqOutside = clusterIP && cfg.clusterCIDR ? [`ip daddr ${clusterIP} ${proto} dport ${port.port} ip saddr != ${cfg.clusterCIDR} jump mark-for-masquerade`] : [];
    const pickRules = (chain: string, list: ProxyEndpoint[]) => {
      const slot = list.length > 1 ? slots.slot(chain) : undefined;
      if (slot !== undefined) slotted.push(chain);
      return pickEndpoint(list, proto, affinity, portName, slot, chains, elements, sets);
    };
    if (cluster.length) chains.set(clusterChain, [...(internalLocal ? [] : masqOutside), ...pickRules(clusterChain, cluster)]);
    if ((internalLocal || externalLocal) && local.length) chains.set(localChain, [...(internalLocal ? masqOutside : []), ...pickRules(localChain, local)]);

    // internal traffic: the ClusterIP
    if (clusterIP) {
      const target = internalLocal ? (local.length ? localChain : undefined) : cluster.length ? clusterChain : undefined;
      const key = `${clusterIP} . ${proto} . ${port.port}`;
      if (target) el('service-ips').set(key, `goto ${target}`);
      // no endpoints at all: reject at once; endpoints only on other nodes (Local): drop, as upstream
      else el('no-endpoint-services').set(key, hasAny ? 'drop' : 'goto reject-chain');
    }

    // external traffic: NodePort, externalIPs, load-balancer ingress IPs
    if (!hasExternal) continue; // next port
    let externalTarget: string | undefined;
    if (!externalLocal) {
      if (cluster.length) {
        chains.set(externalChain, ['jump mark-for-masquerade', `goto ${clusterChain}`]);
        externalTarget = externalChain;
      }
    } else if (cluster.length) {
      // upstream's short circuits: pods and the node itself reach all endpoints
      const rules = [];
      if (cfg.clusterCIDR) rules.push(`ip saddr ${cfg.clusterCIDR} goto ${clusterChain}`);
      rules.push('fib saddr type local jump mark-for-masquerade', `fib saddr type local goto ${clusterChain}`);
      // the client's address is kept: only this node's endpoints, else nothing (the load balancer's health check moves traffic away)
      rules.push(local.length ? `goto ${localChain}` : 'drop');
      chains.set(externalChain, rules);
      externalTarget = externalChain;
    }
    const verdict = externalTarget ? `goto ${externalTarget}` : undefined;
    const none = hasAny ? 'drop' : 'goto reject-chain';
    for (const ip of externalIPs) {
      const key = `${ip} . ${proto} . ${port.port}`;
      if (verdict) el('service-ips').set(key, verdict);
      else el('no-endpoint-services').set(key, none);
    }
    if (nodePort !== undefined) {
      const key = `${proto} . ${nodePort}`;
      if (verdict) el('service-nodeports').set(key, verdict);
      else el('no-endpoint-nodeports').set(key, none);
    }
  }
  return out;
}

/**
 * The rules that DNAT to one of the endpoints: numgen over the list's slot of an
 * `endpoints-K` map, or affinity chains picked through `endpoint-chains-K`. Without a slot
 * (all 65,536 taken) the list goes into an anonymous map in the rule: slower to load,
 * still right.
 */
function pickEndpoint(
  all: ProxyEndpoint[],
  proto: string,
  affinity: number,
  portName: string,
  slot: number | undefined,
  chains: Map<string, string[]>,
  elements: Array<[string, string, string]>,
  sets: Map<string, string>,
): string[] {
  // a slot has SLOT_SIZE keys; a Service port with more endpoints than that uses the first ones
  const list = all.length > SLOT_SIZE ? all.slice(0, SLOT_SIZE) : all;
  const base = slot === undefined ? undefined : slot * SLOT_SIZE;
  if (!affinity) {
    if (list.length === 1) return [`meta l4proto ${proto} dnat ip to ${list[0]!.ip}:${list[0]!.port}`];
    if (base === undefined) {
      const entries = list.map((e, i) => `${i} : ${e.ip} . ${e.port}`).join(', ');
      return [`meta l4proto ${proto} dnat ip addr . port to numgen random mod ${list.length} map { ${entries} }`];
    }
    const map = `endpoints-${Math.floor(slot! / SLOTS_PER_MAP)}`;
    sets.set(map, ENDPOINTS_MAP);
    list.forEach((e, i) => elements.push([map, String(base + i), `${e.ip} . ${e.port}`]));
    return [`meta l4proto ${proto} dnat ip addr . port to numgen random mod ${list.length} offset ${base} map @${map}`];
  }
  const rules: string[] = [];
  const targets: string[] = [];
  for (const e of list) {
    const chain = `endpoint-${shortHash(portName)}-${portName}__${e.ip}/${e.port}`;
    // the timeout is in the name: a set's timeout cannot change in place, a new set starts afresh
    const set = `affinity-${shortHash(`${chain}/${affinity}`)}`;
    sets.set(set, `type ipv4_addr; flags dynamic,timeout; timeout ${affinity}s;`);
    chains.set(chain, [`update @${set} { ip saddr }`, `meta l4proto ${proto} dnat ip to ${e.ip}:${e.port}`]);
    rules.push(`ip saddr @${set} goto ${chain}`);
    targets.push(chain);
  }
  if (targets.length === 1) rules.push(`goto ${targets[0]}`);
  else if (base === undefined) rules.push(`numgen random mod ${targets.length} vmap { ${targets.map((t, i) => `${i} : goto ${t}`).join(', ')} }`);
  else {
    const map = `endpoint-chains-${Math.floor(slot! / SLOTS_PER_MAP)}`;
    sets.set(map, ENDPOINT_CHAINS_MAP);
    targets.forEach((t, i) => elements.push([map, String(base + i), `goto ${t}`]));
    rules.push(`numgen random mod ${targets.length} offset ${base} vmap @${map}`);
  }
  return rules;
}
