/**
 * A pod's resolver configuration by its dnsPolicy, as upstream's kubelet makes it
 * (pkg/kubelet/network/dns): the CRI DNSConfig containerd writes to the sandbox's
 * /etc/resolv.conf.
 *
 * - ClusterFirst (not host network) and ClusterFirstWithHostNet: nameservers = the
 *   kubelet's --cluster-dns, search `NS.svc.DOMAIN svc.DOMAIN DOMAIN` then the host's
 *   search domains, `options ndots:5`. Without --cluster-dns: a MissingClusterDNS warning
 *   and Default instead.
 * - ClusterFirst on the host network, and Default: the host's resolv.conf (--resolv-conf).
 * - None: nothing but the pod's dnsConfig.
 * - The pod's dnsConfig is then merged in: nameservers and searches appended without
 *   duplicates, options merged by name (the pod's value wins).
 * - Limits: 3 nameservers, 32 search domains of at most 2048 characters together; what is
 *   over is dropped with a warning, as upstream.
 */
import { readFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export const DEFAULT_RESOLV_CONF = '/etc/resolv.conf';
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;
const DEFAULT_OPTIONS = ['ndots:5'];

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface ClusterDnsSettings {
  /** --cluster-dns: the cluster DNS Service's address(es) */
  clusterDNS: string[];
  /** --cluster-domain */
  clusterDomain: string;
  /** the host's resolver configuration (--resolv-conf, parsed); '' path: none */
  host: DnsConfig;
}

/** nameserver, search (and domain) and options lines of a resolv.conf, as upstream parses them. */
export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const fields = line.split(/\s+/).filter(Boolean);
    if (!fields.length) continue;
    if (fields[0] === 'nameserver' && fields[1]) out.servers.push(fields[1]);
    // the last search (or domain) line wins, as in the resolver
    if (fields[0] === 'search' || fields[0] === 'domain') out.searches = fields.slice(1).map((s) => s.replace(/\.$/, ''));
    if (fields[0] === 'options') out.options.push(...fields.slice(1));
  }
  return out;
}

/** The host's resolver configuration from `path` ('' or unreadable: none). */
export function hostDnsConfig(path: string = DEFAULT_RESOLV_CONF): DnsConfig {
  if (!path) return { servers: [], searches: [], options: [] };
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Options by name, `name:value` or `name`; later ones override earlier ones (order of first appearance kept). */
function mergeOptions(base: string[], extra: Array<{ name?: string; value?: string }>): string[] {
  const m = new Map<string, string>();
  for (const o of base) {
    const i = o.indexOf(':');
    if (i < 0) m.set(o, '');
    else m.set(o.slice(0, i), o.slice(i + 1));
  }
  for (const o of extra) if (o.name) m.set(o.name, o.value ?? '');
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

/**
 * The pod's DNSConfig. `warn(reason, message)` hears of what upstream reports as events
 * (MissingClusterDNS, DNSConfigForming).
 */
export function podDnsConfig(pod: Pod, s: ClusterDnsSettings, warn: (reason: string, message: string) => void = () => {}): DnsConfig {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork ?? false;
  let cfg: DnsConfig = { servers: [...s.host.servers], searches: [...s.host.searches], options: [...s.host.options] };
  const cluster = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !hostNetwork);
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (cluster && s.clusterDNS.length) {
    const d = s.clusterDomain;
    const clusterSearch = d ? [`${pod.metadata?.namespace ?? 'default'}.svc.${d}`, `svc.${d}`, d] : [];
    cfg = { servers: [...s.clusterDNS], searches: unique([...clusterSearch, ...cfg.searches]), options: [...DEFAULT_OPTIONS] };
  } else if (cluster) {
    warn('MissingClusterDNS', `kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "Default" policy.`);
  }
  const own = pod.spec?.dnsConfig;
  if (own) {
    cfg.servers = unique([...cfg.servers, ...(own.nameservers ?? [])]);
    cfg.searches = unique([...cfg.searches, ...(own.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, own.options ?? []);
  }
  return fitLimits(cfg, warn);
}

function fitLimits(cfg: DnsConfig, warn: (reason: string, message: string) => void): DnsConfig {
  if (cfg.servers.length > MAX_NAMESERVERS) {
    cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
    warn('DNSConfigForming', `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.servers.join(' ')}`);
  }
  let searches = cfg.searches;
  if (searches.length > MAX_SEARCH_PATHS) searches = searches.slice(0, MAX_SEARCH_PATHS);
  while (searches.length && searches.join(' ').length > MAX_SEARCH_CHARS) searches = searches.slice(0, -1);
  if (searches.length !== cfg.searches.length) {
    warn('DNSConfigForming', `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`);
    cfg.searches = searches;
  }
  return cfg;
}
