/**
 * NodePorts on 127.0.0.1: a connection from the node to 127.0.0.1:NODEPORT is DNATed to
 * a pod in the nat output hook, and the kernel routes a packet with source 127.0.0.1 out
 * of a non-loopback interface only when that interface has
 * `net.ipv4.conf.<if>.route_localnet=1` (the same setting lets the reply in). The proxy
 * sets it on the interfaces that hold an address of the cluster CIDR (the pod bridge,
 * flt0), nowhere else, and the ruleset drops what route_localnet would otherwise let a
 * pod reach (filter-input in rules.ts). It goes with the bridge; `--cleanup` resets it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { cidrContains, parseCidr } from '../../lib/net/mod.js';

const conf = (ifname: string) => `/proc/sys/net/ipv4/conf/${ifname}/route_localnet`;

/** The interfaces with an IPv4 address inside the CIDR. */
export function podInterfaces(clusterCIDR: string): string[] {
  const cidr = parseCidr(clusterCIDR);
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if ((addrs ?? []).some((a) => a.family === 'IPv4' && cidrContains(cidr, a.address))) out.push(name);
  }
  return out;
}

/** Sets route_localnet=1 where it is not yet; the interfaces it changed. */
export function enableRouteLocalnet(clusterCIDR: string): string[] {
  const changed: string[] = [];
  for (const ifname of podInterfaces(clusterCIDR)) {
    const file = conf(ifname);
    if (!existsSync(file) || readFileSync(file, 'utf8').trim() === '1') continue;
    writeFileSync(file, '1');
    changed.push(ifname);
  }
  return changed;
}

/** Resets route_localnet=0 on the pod interfaces (--cleanup). */
export function disableRouteLocalnet(clusterCIDR: string): void {
  for (const ifname of podInterfaces(clusterCIDR)) {
    const file = conf(ifname);
    if (existsSync(file) && readFileSync(file, 'utf8').trim() !== '0') writeFileSync(file, '0');
  }
}
