/**
 * /stats/summary: the kubelet's Summary API (k8s.io/kubelet/pkg/apis/stats/v1alpha1) for
 * one node: the node, its pods and their containers, with cumulative CPU, the CPU rate
 * (usageNanoCores, from the previous reading this endpoint took) and the working set.
 */
import { metaTime } from '../../../lib/api/time.js';
import type { NodeSample } from '../../../lib/stats/mod.js';
import type { ContainerExtras, PodExtras } from './extras.js';

interface Prev {
  t: number;
  cpu: number;
}

export class SummaryBuilder {
  /** each node's previous readings, replaced by every build of that node */
  private readonly prev = new Map<string, Map<string, Prev>>();

  private cpu(key: string, t: number, cpuSeconds: number, next: Map<string, Prev>, prev: Map<string, Prev> | undefined): object {
    next.set(key, { t, cpu: cpuSeconds });
    const p = prev?.get(key);
    const out: Record<string, unknown> = { time: metaTime(t), usageCoreNanoSeconds: Math.round(cpuSeconds * 1e9) };
    if (p && t > p.t && cpuSeconds >= p.cpu) out.usageNanoCores = Math.round(((cpuSeconds - p.cpu) / ((t - p.t) / 1000)) * 1e9);
    return out;
  }

  /** The summary of one node's readings. */
  build(n: NodeSample, extras: { containers: Map<string, ContainerExtras>; pods: Map<string, PodExtras> }, memoryCapacity?: number): object {
    const next = new Map<string, Prev>();
    const prev = this.prev.get(n.node);
    const memory = (t: number, ws: number, e?: ContainerExtras) => {
      const m: Record<string, unknown> = { time: metaTime(t), workingSetBytes: ws, usageBytes: ws + (e?.cache ?? 0) };
      if (e) m.rssBytes = e.rss;
      if (memoryCapacity !== undefined) m.availableBytes = Math.max(0, memoryCapacity - ws);
      return m;
    };
    const summary = {
      node: {
        nodeName: n.node,
        systemContainers: [],
        startTime: metaTime(n.startTime),
        cpu: this.cpu(n.node, n.timestamp, n.cpu, next, prev),
        memory: memory(n.timestamp, n.memory),
      },
      pods: n.pods.map((p) => {
        const pk = `${p.namespace}/${p.name}`;
        const net = extras.pods.get(pk);
        return {
          podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
          startTime: metaTime(Math.min(...p.containers.map((c) => c.startTime))),
          containers: p.containers.map((c) => ({
            name: c.name,
            startTime: metaTime(c.startTime),
            cpu: this.cpu(`${pk}/${c.name}`, p.timestamp, c.cpu, next, prev),
            memory: memory(p.timestamp, c.memory, extras.containers.get(`${pk}/${c.name}`)),
          })),
          cpu: this.cpu(pk, p.timestamp, p.cpu, next, prev),
          memory: { time: metaTime(p.timestamp), workingSetBytes: p.memory },
          ...(net ? { network: { time: metaTime(p.timestamp), name: 'eth0', rxBytes: net.networkReceiveBytes, txBytes: net.networkTransmitBytes, interfaces: [{ name: 'eth0', rxBytes: net.networkReceiveBytes, txBytes: net.networkTransmitBytes }] } } : {}),
        };
      }),
    };
    this.prev.set(n.node, next);
    return summary;
  }
}
