/**
 * What /metrics/cadvisor reports beyond the resource readings: memory rss and cache, CFS
 * periods, block I/O and network bytes. A real node reads them from cgroups and /proc
 * (cri.ts); a hollow node derives them from its readings (hollowExtras).
 */
import type { ContainerSample, PodSample } from '../../../lib/stats/mod.js';

export interface ContainerExtras {
  rss: number;
  cache: number;
  cfsPeriods: number;
  cfsThrottledPeriods: number;
  fsReadBytes: number;
  fsWriteBytes: number;
}

export interface PodExtras {
  networkReceiveBytes: number;
  networkTransmitBytes: number;
}

/**
 * A hollow container's extras: rss is 80 % of its working set and cache the rest, one CFS
 * period per 100 ms of its life, none throttled, no disk I/O.
 */
export function hollowContainerExtras(c: ContainerSample, now: number): ContainerExtras {
  return {
    rss: Math.round(c.memory * 0.8),
    cache: Math.round(c.memory * 0.2),
    cfsPeriods: Math.max(0, Math.floor((now - c.startTime) / 100)),
    cfsThrottledPeriods: 0,
    fsReadBytes: 0,
    fsWriteBytes: 0,
  };
}

/** A hollow pod's network: 1 MiB received and 512 KiB sent per core-second of CPU it used. */
export function hollowPodExtras(p: PodSample): PodExtras {
  return { networkReceiveBytes: Math.round(p.cpu * 1024 * 1000), networkTransmitBytes: Math.round(p.cpu * 512 * 1000) };
}
