/**
 * The cluster zone as CoreDNS's kubernetes plugin serves it, built from informer caches
 * and indexed by name and by address: pure (no I/O), so every record kind is unit-tested.
 *
 * - `svc.ns.svc.ZONE`: A/AAAA of a ClusterIP Service's clusterIPs; a headless Service's
 *   ready endpoint addresses; CNAME to an ExternalName Service's externalName.
 * - `host.svc.ns.svc.ZONE`: an endpoint by its hostname (a pod's `hostname` under the
 *   headless Service named by its `subdomain`), else by its dashed address (`10-244-0-5`).
 * - `_port._proto.svc.ns.svc.ZONE` SRV for named ports (a headless Service: one per
 *   ready endpoint, target its endpoint name), with the targets' A/AAAA as additionals.
 * - `a-b-c-d.ns.pod.ZONE`: pod A records (`pods insecure`, kubeadm's default, answers any
 *   address; `pods verified` only a pod of that namespace with that IP).
 * - PTR (`in-addr.arpa`, `ip6.arpa`): a Service's clusterIP → its name; an endpoint's
 *   address → its endpoint name; any other pod IP → `a-b-c-d.ns.pod.ZONE` (what CoreDNS's
 *   kubepods plugin synthesises).
 * - An unknown name in the zone is NXDOMAIN, a known name without the asked type NOERROR
 *   without answers (NODATA), both with the zone's SOA in the authority section.
 * - Every record has the TTL (5 s).
 */
import type { Answer, RecordType, SoaAnswer } from 'dns-packet';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** CoreDNS's kubernetes plugin default TTL */
export const DEFAULT_TTL = 5;
/** the label that ties an EndpointSlice to its Service */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type PodsMode = 'insecure' | 'verified' | 'disabled';
export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED' | 'SERVFAIL' | 'FORMERR' | 'NOTIMP';

export interface ZoneOptions {
  clusterDomain?: string;
  ttl?: number;
  pods?: PodsMode;
  /** the kube-dns Service's address: the A record of the zone's name server `ns.dns.ZONE` */
  nameServerIP?: string;
}

/** What a query resolves to. `outOfZone`: no zone of ours holds the name (forward it or refuse). */
export interface Resolution {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  outOfZone?: boolean;
}

/** The parts of a pod the zone reads: informers may keep only these (see `podRecord`). */
export interface PodRecord {
  namespace: string;
  name: string;
  ips: string[];
}

interface Endpoint {
  /** hostname or dashed address: the label under the Service */
  label: string;
  addresses: string[];
  ready: boolean;
}

interface ServiceEntry {
  svc: Service;
  /** EndpointSlices by name */
  slices: Map<string, EndpointSlice>;
}

/** `10.244.0.5` → `10-244-0-5`; an IPv6 address's colons become dashes as CoreDNS does. */
export function dashedAddress(ip: string): string {
  return ip.includes(':') ? expandIPv6(ip).replace(/:/g, '-') : ip.replace(/\./g, '-');
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The full form of an IPv6 address (8 groups of 4 hex digits), or '' when it is none. */
function expandIPv6(ip: string): string {
  const halves = ip.toLowerCase().split('::');
  if (halves.length > 2) return '';
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return '';
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return '';
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** Canonical IPv6 text (as dns-packet decodes it, and as Kubernetes stores it): compared by expanded form. */
function sameIP(a: string, b: string): boolean {
  return a === b || (a.includes(':') && b.includes(':') && expandIPv6(a) === expandIPv6(b));
}

/** The address a reverse name stands for, or undefined. */
export function reverseNameToIP(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return undefined;
    const ip = labels.reverse().join('.');
    return isIPv4(ip) ? ip : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    return hex.match(/.{4}/g)!.join(':');
  }
  return undefined;
}

/** The reverse name (without trailing dot) of an address. */
export function reverseName(ip: string): string {
  if (!ip.includes(':')) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${expandIPv6(ip).replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
}

/** What the zone keeps of a pod (informers use it as their transform). */
export function podRecord(pod: Pod): PodRecord {
  // host-network pods share the node's address: it names no pod
  const ips = pod.spec?.hostNetwork ? [] : (pod.status?.podIPs?.map((p) => p.ip).filter((ip): ip is string => !!ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []));
  return { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', ips };
}

function clusterIPs(svc: Service): string[] {
  const s = svc.spec ?? {};
  const ips = s.clusterIPs?.length ? s.clusterIPs : s.clusterIP ? [s.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== 'None');
}

function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

function isExternalName(svc: Service): boolean {
  return svc.spec?.type === 'ExternalName';
}

export class Zone {
  readonly domain: string;
  readonly ttl: number;
  readonly pods: PodsMode;
  private readonly nameServerIP?: string;
  /** "ns/name" → the Service and its slices */
  private readonly services = new Map<string, ServiceEntry>();
  /** slices whose Service is not (yet) known, by "ns/service" */
  private readonly orphanSlices = new Map<string, Map<string, EndpointSlice>>();
  /** namespaces → how many Services they hold (an empty namespace name is NXDOMAIN) */
  private readonly namespaces = new Map<string, number>();
  /** pod key "ns/name" → record; address → pod keys */
  private readonly podsByKey = new Map<string, PodRecord>();
  private readonly podsByIP = new Map<string, Set<string>>();
  /** bumped on every change: answers cached by the server are valid for one generation */
  generation = 0;
  /** seconds since the epoch of the last change: the SOA serial, as CoreDNS's */
  serial = Math.floor(Date.now() / 1000);

  constructor(opts: ZoneOptions = {}) {
    this.domain = (opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN).toLowerCase().replace(/\.$/, '');
    this.ttl = opts.ttl ?? DEFAULT_TTL;
    this.pods = opts.pods ?? 'insecure';
    this.nameServerIP = opts.nameServerIP;
  }

  private changed(): void {
    this.generation++;
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000)) >>> 0;
  }

  setService(svc: Service): void {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const old = this.services.get(key);
    if (old) old.svc = svc;
    else {
      const slices = this.orphanSlices.get(key) ?? new Map<string, EndpointSlice>();
      this.orphanSlices.delete(key);
      this.services.set(key, { svc, slices });
      const ns = svc.metadata?.namespace ?? '';
      this.namespaces.set(ns, (this.namespaces.get(ns) ?? 0) + 1);
    }
    this.changed();
  }

  deleteService(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const entry = this.services.get(key);
    if (!entry) return;
    this.services.delete(key);
    // its slices outlive it until their own delete event (garbage collection)
    if (entry.slices.size) this.orphanSlices.set(key, entry.slices);
    const n = (this.namespaces.get(namespace) ?? 1) - 1;
    if (n > 0) this.namespaces.set(namespace, n);
    else this.namespaces.delete(namespace);
    this.changed();
  }

  setEndpointSlice(es: EndpointSlice): void {
    const owner = es.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!owner) return;
    const key = `${es.metadata?.namespace}/${owner}`;
    const slices = this.services.get(key)?.slices ?? this.orphanSlices.get(key) ?? new Map<string, EndpointSlice>();
    if (!this.services.has(key)) this.orphanSlices.set(key, slices);
    slices.set(es.metadata?.name ?? '', es);
    this.changed();
  }

  deleteEndpointSlice(es: EndpointSlice): void {
    const owner = es.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!owner) return;
    const key = `${es.metadata?.namespace}/${owner}`;
    const slices = this.services.get(key)?.slices ?? this.orphanSlices.get(key);
    if (!slices?.delete(es.metadata?.name ?? '')) return;
    if (!slices.size) this.orphanSlices.delete(key);
    this.changed();
  }

  setPod(pod: PodRecord): void {
    const key = `${pod.namespace}/${pod.name}`;
    const old = this.podsByKey.get(key);
    if (old && old.ips.length === pod.ips.length && old.ips.every((ip, i) => ip === pod.ips[i])) return;
    if (old) this.unindexPod(key, old);
    this.podsByKey.set(key, pod);
    for (const ip of pod.ips) {
      let keys = this.podsByIP.get(ip);
      if (!keys) this.podsByIP.set(ip, (keys = new Set()));
      keys.add(key);
    }
    this.changed();
  }

  deletePod(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const old = this.podsByKey.get(key);
    if (!old) return;
    this.unindexPod(key, old);
    this.podsByKey.delete(key);
    this.changed();
  }

  private unindexPod(key: string, pod: PodRecord): void {
    for (const ip of pod.ips) {
      const keys = this.podsByIP.get(ip);
      keys?.delete(key);
      if (keys && !keys.size) this.podsByIP.delete(ip);
    }
  }

  /** The zone's SOA, as CoreDNS writes it (ns.dns.ZONE, hostmaster.ZONE, 7200 1800 86400 TTL). */
  soa(zone = this.domain): SoaAnswer {
    return {
      type: 'SOA',
      name: zone,
      ttl: this.ttl,
      class: 'IN',
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: this.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }

  /** Resolves a question; `name` in any case, with or without the trailing dot. */
  resolve(qname: string, qtype: RecordType): Resolution {
    const name = qname.toLowerCase().replace(/\.$/, '');
    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa') || name === 'in-addr.arpa' || name === 'ip6.arpa') return this.resolveReverse(name, qtype);
    if (name !== this.domain && !name.endsWith(`.${this.domain}`)) return { rcode: 'REFUSED', answers: [], authorities: [], additionals: [], outOfZone: true };
    const labels = name === this.domain ? [] : name.slice(0, -this.domain.length - 1).split('.');
    const found = this.lookup(labels, qtype, name);
    if (!found) return this.negative('NXDOMAIN');
    if (!found.answers.length) return this.negative('NOERROR');
    return { rcode: 'NOERROR', answers: found.answers, authorities: [], additionals: found.additionals ?? [] };
  }

  private negative(rcode: Rcode, zone = this.domain): Resolution {
    return { rcode, answers: [], authorities: [this.soa(zone)], additionals: [] };
  }

  private record<T extends 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS'>(type: T, name: string, data: string): Answer {
    return { type, name, ttl: this.ttl, class: 'IN', data } as Answer;
  }

  private addressRecords(name: string, ips: string[], qtype: RecordType): Answer[] {
    const out: Answer[] = [];
    for (const ip of ips) {
      const v6 = ip.includes(':');
      if (qtype === 'A' && !v6) out.push(this.record('A', name, ip));
      else if (qtype === 'AAAA' && v6) out.push(this.record('AAAA', name, ip));
    }
    return out;
  }

  /** undefined: no such name (NXDOMAIN); empty answers: the name exists without records of qtype */
  private lookup(labels: string[], qtype: RecordType, name: string): { answers: Answer[]; additionals?: Answer[] } | undefined {
    const n = labels.length;
    if (n === 0) {
      if (qtype === 'SOA') return { answers: [this.soa()] };
      if (qtype === 'NS') return { answers: [this.record('NS', this.domain, `ns.dns.${this.domain}`)], additionals: this.nameServerIP ? this.addressRecords(`ns.dns.${this.domain}`, [this.nameServerIP], 'A') : [] };
      return { answers: [] };
    }
    // the schema version the DNS specification asks every implementation to serve
    if (n === 1 && labels[0] === 'dns-version') return { answers: qtype === 'TXT' ? [{ type: 'TXT', name, ttl: this.ttl, class: 'IN', data: '1.1.0' }] : [] };
    if (n === 1 && labels[0] === 'dns') return { answers: [] };
    if (n === 2 && labels[0] === 'ns' && labels[1] === 'dns' && this.nameServerIP) return { answers: this.addressRecords(name, [this.nameServerIP], qtype) };
    const kind = labels[n - 1];
    if (kind === 'svc') return this.lookupService(labels.slice(0, -1), qtype, name);
    if (kind === 'pod' && this.pods !== 'disabled') return this.lookupPod(labels.slice(0, -1), qtype, name);
    return undefined;
  }

  private endpoints(entry: ServiceEntry): Endpoint[] {
    const out: Endpoint[] = [];
    const seen = new Set<string>();
    for (const es of entry.slices.values()) {
      if (es.addressType === 'FQDN') continue;
      for (const ep of es.endpoints ?? []) {
        const addresses = ep.addresses.filter((a) => !seen.has(a));
        if (!addresses.length) continue;
        for (const a of addresses) seen.add(a);
        // upstream: an unset ready condition means ready
        out.push({ label: ep.hostname ? ep.hostname.toLowerCase() : dashedAddress(addresses[0]), addresses, ready: ep.conditions?.ready !== false });
      }
    }
    return out;
  }

  private lookupService(labels: string[], qtype: RecordType, name: string): { answers: Answer[]; additionals?: Answer[] } | undefined {
    const n = labels.length;
    if (n === 0) return { answers: [] };
    const ns = labels[n - 1];
    if (n === 1) return this.namespaces.has(ns) ? { answers: [] } : undefined;
    const entry = this.services.get(`${ns}/${labels[n - 2]}`);
    if (!entry) return undefined;
    const svc = entry.svc;
    const svcName = `${labels[n - 2]}.${ns}.svc.${this.domain}`;
    if (n === 2) {
      if (isExternalName(svc)) {
        const target = (svc.spec?.externalName ?? '').toLowerCase().replace(/\.$/, '');
        if (!target) return { answers: [] };
        const cname = this.record('CNAME', name, target);
        if (qtype === 'CNAME' || (target !== this.domain && !target.endsWith(`.${this.domain}`))) return { answers: [cname] };
        // a target in the zone is followed, as CoreDNS does
        const next = this.resolve(target, qtype);
        return { answers: [cname, ...next.answers], additionals: next.additionals };
      }
      if (qtype === 'SRV') return this.serviceSrv(entry, svcName, undefined);
      if (isHeadless(svc)) return { answers: this.endpoints(entry).filter((e) => e.ready).flatMap((e) => this.addressRecords(name, e.addresses, qtype)) };
      return { answers: this.addressRecords(name, clusterIPs(svc), qtype) };
    }
    if (n === 3) {
      // an endpoint by its name
      const ep = this.endpoints(entry).find((e) => e.label === labels[0] && e.ready);
      if (!ep) return undefined;
      return { answers: this.addressRecords(name, ep.addresses, qtype) };
    }
    if (n === 4 && labels[0].startsWith('_') && labels[1].startsWith('_')) {
      const port = labels[0].slice(1);
      const proto = labels[1].slice(1);
      const found = this.serviceSrv(entry, svcName, { port, proto });
      if (!found.answers.length) return undefined;
      return qtype === 'SRV' ? found : { answers: [] };
    }
    return undefined;
  }

  /** SRV records of a Service: every port (at the Service's name) or the named one (`_port._proto`). */
  private serviceSrv(entry: ServiceEntry, svcName: string, want: { port: string; proto: string } | undefined): { answers: Answer[]; additionals: Answer[] } {
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    const owner = want ? `_${want.port}._${want.proto}.${svcName}` : svcName;
    const matches = (p: { name?: string; protocol?: string }) => !want || ((p.name ?? '').toLowerCase() === want.port && (p.protocol ?? 'TCP').toLowerCase() === want.proto);
    if (isExternalName(entry.svc)) return { answers, additionals };
    if (isHeadless(entry.svc)) {
      const ready = this.endpoints(entry).filter((e) => e.ready);
      const ports = new Map<string, number>();
      for (const es of entry.slices.values()) for (const p of es.ports ?? []) if (p.port !== undefined && matches(p)) ports.set(`${p.name ?? ''}/${p.protocol ?? 'TCP'}/${p.port}`, p.port);
      const weight = Math.floor(100 / Math.max(1, ready.length * ports.size));
      for (const port of ports.values())
        for (const e of ready) {
          const target = `${e.label}.${svcName}`;
          answers.push({ type: 'SRV', name: owner, ttl: this.ttl, class: 'IN', data: { priority: 0, weight, port, target } });
          additionals.push(...this.addressRecords(target, e.addresses, 'A'), ...this.addressRecords(target, e.addresses, 'AAAA'));
        }
      return { answers, additionals };
    }
    const ports = (entry.svc.spec?.ports ?? []).filter(matches);
    const weight = Math.floor(100 / Math.max(1, ports.length));
    for (const p of ports) answers.push({ type: 'SRV', name: owner, ttl: this.ttl, class: 'IN', data: { priority: 0, weight, port: p.port, target: svcName } });
    if (ports.length) additionals.push(...this.addressRecords(svcName, clusterIPs(entry.svc), 'A'), ...this.addressRecords(svcName, clusterIPs(entry.svc), 'AAAA'));
    return { answers, additionals };
  }

  private lookupPod(labels: string[], qtype: RecordType, name: string): { answers: Answer[] } | undefined {
    if (labels.length === 0) return { answers: [] };
    const ns = labels[labels.length - 1];
    if (labels.length === 1) return this.pods === 'insecure' || [...this.podsByKey.values()].some((p) => p.namespace === ns) ? { answers: [] } : undefined;
    if (labels.length !== 2) return undefined;
    const dashed = labels[0];
    let ip: string | undefined;
    if (isIPv4(dashed.replace(/-/g, '.'))) ip = dashed.replace(/-/g, '.');
    else if (dashed.includes('-') && expandIPv6(dashed.replace(/-/g, ':'))) ip = dashed.replace(/-/g, ':');
    if (!ip) return undefined;
    if (this.pods === 'verified' && ![...this.podsAt(ip)].some((p) => p.namespace === ns)) return undefined;
    return { answers: this.addressRecords(name, [ip], qtype) };
  }

  private *podsAt(ip: string): Iterable<PodRecord> {
    const keys = this.podsByIP.get(ip) ?? (ip.includes(':') ? [...this.podsByIP.entries()].find(([k]) => sameIP(k, ip))?.[1] : undefined);
    for (const k of keys ?? []) {
      const p = this.podsByKey.get(k);
      if (p) yield p;
    }
  }

  private resolveReverse(name: string, qtype: RecordType): Resolution {
    const zone = name.endsWith('ip6.arpa') ? 'ip6.arpa' : 'in-addr.arpa';
    const ip = reverseNameToIP(name);
    const target = ip ? this.nameOfIP(ip) : undefined;
    if (!target) return { ...this.negative('NXDOMAIN', zone), outOfZone: true };
    if (qtype !== 'PTR') return this.negative('NOERROR', zone);
    return { rcode: 'NOERROR', answers: [this.record('PTR', name, target)], authorities: [], additionals: [] };
  }

  /** The name an address has in the zone: a Service's, an endpoint's, or a pod's. */
  private nameOfIP(ip: string): string | undefined {
    const key = ip.includes(':') ? expandIPv6(ip) : ip;
    const named = this.reverseIndex().get(key);
    if (named) return named;
    if (this.pods === 'disabled') return undefined;
    for (const p of this.podsAt(ip)) return `${dashedAddress(ip)}.${p.namespace}.pod.${this.domain}`;
    return undefined;
  }

  private reverse?: { generation: number; names: Map<string, string> };

  /** Service and endpoint addresses → names, rebuilt once per change when a reverse query comes. */
  private reverseIndex(): Map<string, string> {
    if (this.reverse?.generation === this.generation) return this.reverse.names;
    const names = new Map<string, string>();
    const norm = (ip: string) => (ip.includes(':') ? expandIPv6(ip) : ip);
    // endpoints first, so a Service's own address wins where both have it
    for (const [key, entry] of this.services) {
      const [ns, name] = key.split('/');
      for (const e of this.endpoints(entry)) for (const a of e.addresses) names.set(norm(a), `${e.label}.${name}.${ns}.svc.${this.domain}`);
    }
    for (const [key, entry] of this.services) {
      const [ns, name] = key.split('/');
      for (const c of clusterIPs(entry.svc)) names.set(norm(c), `${name}.${ns}.svc.${this.domain}`);
    }
    this.reverse = { generation: this.generation, names };
    return names;
  }
}
