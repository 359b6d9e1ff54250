/**
 * NodePorts on 127.0.0.1: a connection from the node to 127.0.0.1:NODEPORT is DNATed to
 * a pod in the nat output hook, and the kernel routes a packet with source 127.0.0.1 out
 * of a non-loopback interface only when that interface has
 * `net.ipv4.conf.<if>.route_localnet=1` (the same setting lets the reply in). The proxy
 * sets it on the interfaces that hold an address of the cluster CIDR (the pod bridge,
 * flt0), nowhere else, and the ruleset drops what route_localnet would otherwise let a
 * pod reach (filter-input in rules.ts). It goes with the bridge; `--cleanup` resets it.
 *
 * A proxy for a node in a network namespace of its own (`--netns NAME`) does the same
 * inside that namespace: /proc/sys/net answers for the namespace of the process that opens
 * it, so reads and writes go through `nsenter --net` there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { cidrContains, parseCidr } from '../../lib/net/mod.js';
import { NSENTER } from './nftables.js';

const conf = (ifname: string) => `/proc/sys/net/ipv4/conf/${ifname}/route_localnet`;

function inNetns(netns: string, args: string[]): string {
  const r = spawnSync(NSENTER, [`--net=/run/netns/${netns}`, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`in network namespace ${netns}: ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

/** The interface's route_localnet ('' when it has none), in netns when given. */
function readConf(ifname: string, netns?: string): string {
  if (!netns) return existsSync(conf(ifname)) ? readFileSync(conf(ifname), 'utf8').trim() : '';
  return inNetns(netns, ['sh', '-c', 'cat "$1" 2>/dev/null || true', 'sh', conf(ifname)]).trim();
}

function writeConf(ifname: string, value: string, netns?: string): void {
  if (!netns) writeFileSync(conf(ifname), value);
  else inNetns(netns, ['sh', '-c', 'echo "$2" > "$1"', 'sh', conf(ifname), value]);
}

/** The interfaces with an IPv4 address inside the CIDR (of the network namespace netns, when given). */
export function podInterfaces(clusterCIDR: string, netns?: string): string[] {
  const cidr = parseCidr(clusterCIDR);
  const out: string[] = [];
  if (netns) {
    // "3: flt1    inet 10.244.1.1/24 brd 10.244.1.255 scope global flt1\ ..."
    for (const m of inNetns(netns, ['ip', '-4', '-o', 'addr', 'show']).matchAll(/^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//gm)) {
      if (cidrContains(cidr, m[2]!) && !out.includes(m[1]!)) out.push(m[1]!);
    }
    return out;
  }
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if ((addrs ?? []).some((a) => a.family === 'IPv4' && cidrContains(cidr, a.address))) out.push(name);
  }
  return out;
}

/** Sets route_localnet=1 where it is not yet; the interfaces it changed. */
export function enableRouteLocalnet(clusterCIDR: string, netns?: string): string[] {
  const changed: string[] = [];
  for (const ifname of podInterfaces(clusterCIDR, netns)) {
    const v = readConf(ifname, netns);
    if (v === '' || v === '1') continue;
    writeConf(ifname, '1', netns);
    changed.push(ifname);
  }
  return changed;
}

/** Resets route_localnet=0 on the pod interfaces (--cleanup). */
export function disableRouteLocalnet(clusterCIDR: string, netns?: string): void {
  for (const ifname of podInterfaces(clusterCIDR, netns)) {
    const v = readConf(ifname, netns);
    if (v !== '' && v !== '0') writeConf(ifname, '0', netns);
  }
}
