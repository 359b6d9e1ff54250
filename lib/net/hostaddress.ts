import os from 'node:os';

/**
 * The node's InternalIP: the first IPv4 address of a host interface that is neither
 * loopback nor a pod network's (bridges and veths); 127.0.0.1 on a machine without one.
 * The kubelet reports it; the cluster DNS listens on it so pods reach it.
 */
export function hostInternalIP(): string {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (/^(lo|flt|cni|veth|docker|br-)/.test(name)) continue;
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}
