/**
 * The kubelet's stats provider: the readings of every node this process carries, from
 * CRI and cgroups on the real node (cri.ts) or derived from requests on hollow ones
 * (hollow.ts). The HTTP endpoints (server.ts) and the NATS scrape (lib/stats) read here.
 */
import type { NodeSample } from '../../../lib/stats/mod.js';
import type { CriClient } from '../cri/client.js';
import type { NodeManager } from '../nodes.js';
import type { PodManager } from '../pods.js';
import type { ContainerRuntime } from '../runtime.js';
import { CriStats, readContainerExtras, readPodNetwork } from './cri.js';
import { hollowContainerExtras, hollowPodExtras, type ContainerExtras, type PodExtras } from './extras.js';
import { HollowStats } from './hollow.js';
import type { RunningCounts } from './kubeletmetrics.js';

export interface StatsProviderOptions {
  pods: PodManager;
  nodes: NodeManager;
  runtime: ContainerRuntime;
  /** the real node: its name and CRI client */
  cri?: { client: CriClient; nodeName: string };
}

/** A container's identity for /metrics/cadvisor's labels. */
export interface ContainerIdentity {
  id: string;
  image: string;
}

export class StatsProvider {
  private readonly hollow?: HollowStats;
  private readonly real?: CriStats;

  constructor(private readonly opts: StatsProviderOptions) {
    if (opts.cri) this.real = new CriStats(opts.cri.client, opts.runtime);
    else this.hollow = new HollowStats(opts.runtime);
  }

  /** Whether this process carries hollow nodes (its series then carry a `node` label). */
  get isHollow(): boolean {
    return !!this.hollow;
  }

  nodeNames(): string[] {
    return [...this.opts.nodes.nodes.keys()];
  }

  /** Readings of every node of the process now. */
  async read(): Promise<NodeSample[]> {
    if (this.real) return [await this.real.read(this.opts.cri!.nodeName, this.opts.pods.activePods())];
    return this.hollow!.read(this.opts.nodes.nodes.keys(), this.opts.pods.activePods());
  }

  /** Container ids and images by "namespace/pod/container", and sandbox ids by "namespace/pod". */
  identities(): { containers: Map<string, ContainerIdentity>; sandboxes: Map<string, string> } {
    const containers = new Map<string, ContainerIdentity>();
    const sandboxes = new Map<string, string>();
    for (const p of this.opts.pods.activePods()) {
      sandboxes.set(`${p.namespace}/${p.name}`, p.sandboxId);
      for (const c of p.containers) containers.set(`${p.namespace}/${p.name}/${c.name}`, { id: c.id, image: this.opts.runtime.containerStatus(c.id)?.image ?? '' });
    }
    return { containers, sandboxes };
  }

  /** /metrics/cadvisor's extras for the readings' containers and pods. */
  async extras(samples: NodeSample[]): Promise<{ containers: Map<string, ContainerExtras>; pods: Map<string, PodExtras> }> {
    const containers = new Map<string, ContainerExtras>();
    const pods = new Map<string, PodExtras>();
    const ids = this.real ? this.identities() : undefined;
    for (const n of samples) {
      for (const p of n.pods) {
        const pk = `${p.namespace}/${p.name}`;
        if (ids) {
          const sb = ids.sandboxes.get(pk);
          pods.set(pk, sb ? await readPodNetwork(sb) : { networkReceiveBytes: 0, networkTransmitBytes: 0 });
        } else pods.set(pk, hollowPodExtras(p));
        for (const c of p.containers) {
          const ck = `${pk}/${c.name}`;
          const id = ids?.containers.get(ck)?.id;
          containers.set(ck, id ? await readContainerExtras(id) : hollowContainerExtras(c, n.timestamp));
        }
      }
    }
    return { containers, pods };
  }

  /** What kubelet_running_pods and kubelet_running_containers report. */
  running(): RunningCounts {
    let pods = 0;
    const containers = new Map<string, number>();
    for (const p of this.opts.pods.activePods()) {
      let running = false;
      for (const c of p.containers) {
        const st = this.opts.runtime.containerStatus(c.id)?.state;
        const state = st === 'CONTAINER_RUNNING' ? 'running' : st === 'CONTAINER_CREATED' ? 'created' : st === 'CONTAINER_EXITED' ? 'exited' : 'unknown';
        containers.set(state, (containers.get(state) ?? 0) + 1);
        if (state === 'running') running = true;
      }
      if (running || this.opts.runtime.podSandboxStatus(p.sandboxId)?.state === 'SANDBOX_READY') pods++;
    }
    return { pods, containers };
  }
}
