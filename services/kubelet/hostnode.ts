/**
 * The machine a real node runs on, as its Node reports it: name, capacity, system info
 * and address, read from the kernel and the OS (upstream's kubelet reads them through
 * cAdvisor). Read once at start; the cores and memory of a running machine do not change.
 */
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import type { NodeSystemInfo } from 'kubernetes-types/core/v1.js';
import { KUBELET_VERSION, type HostNodeSpec } from './nodes.js';

/** upstream's default --max-pods */
export const DEFAULT_MAX_PODS = 110;

function readTrimmed(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** PRETTY_NAME of /etc/os-release, as upstream's osImage ("Debian GNU/Linux 12 (bookworm)"). */
export function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readTrimmed('/etc/os-release'));
  return m?.[1] ?? 'Linux';
}

import { hostInternalIP } from '../../lib/net/mod.js';

export { hostInternalIP };

/** The node name upstream's kubelet uses by default: the hostname, lowercased. */
export function hostNodeName(): string {
  return os.hostname().toLowerCase();
}

export interface HostNodeOptions {
  name?: string;
  /** --node-ip (default: hostInternalIP) */
  internalIP?: string;
  /** --pod-cidr (otherwise node IPAM gives one) */
  podCIDR?: string;
  /** e.g. "containerd://1.6.20" */
  containerRuntimeVersion: string;
  /** the data disk: ephemeral-storage is its size */
  dataDir: string;
  maxPods?: number;
}

export function hostNodeSpec(opts: HostNodeOptions): HostNodeSpec {
  const fs = statfsSync(opts.dataDir);
  const capacity = {
    cpu: String(os.cpus().length),
    memory: `${Math.floor(os.totalmem() / 1024)}Ki`,
    pods: String(opts.maxPods ?? DEFAULT_MAX_PODS),
    'ephemeral-storage': `${Math.floor((fs.blocks * fs.bsize) / 1024)}Ki`,
  };
  const machineID = readTrimmed('/etc/machine-id');
  const nodeInfo: NodeSystemInfo = {
    machineID,
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid') || machineID,
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: osImage(),
    containerRuntimeVersion: opts.containerRuntimeVersion,
    kubeletVersion: KUBELET_VERSION,
    kubeProxyVersion: KUBELET_VERSION,
    operatingSystem: 'linux',
    architecture: os.arch() === 'x64' ? 'amd64' : os.arch(),
  };
  return { name: opts.name ?? hostNodeName(), podCIDR: opts.podCIDR, internalIP: opts.internalIP ?? hostInternalIP(), capacity, nodeInfo };
}
