/**
 * /metrics/resource and /metrics/cadvisor in the Prometheus text format, with upstream's
 * metric names, help texts and labels. Every sample carries its reading's timestamp, as
 * upstream's resource metrics do. A process of hollow nodes serves all of them on one
 * port, so its series also carry `node`.
 */
import type { NodeSample } from '../../../lib/stats/mod.js';
import type { ContainerExtras, PodExtras } from './extras.js';
import type { ContainerIdentity } from './provider.js';

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labels(pairs: Array<[string, string]>): string {
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '';
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : String(+v.toFixed(9)));

class Family {
  readonly lines: string[] = [];
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string,
  ) {}
  add(l: Array<[string, string]>, value: number, ts?: number): void {
    this.lines.push(`${this.name}${labels(l)} ${num(value)}${ts !== undefined ? ` ${ts}` : ''}`);
  }
  text(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.lines.map((l) => l + '\n').join('')}`;
  }
}

/** /metrics/resource: node, pod and container CPU and working set, container start times. */
export function resourceMetricsText(samples: NodeSample[], hollow: boolean): string {
  const f = {
    containerCpu: new Family('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds'),
    containerMem: new Family('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes'),
    containerStart: new Family('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds'),
    nodeCpu: new Family('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds'),
    nodeMem: new Family('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes'),
    podCpu: new Family('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds'),
    podMem: new Family('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes'),
  };
  for (const n of samples) {
    const node: Array<[string, string]> = hollow ? [['node', n.node]] : [];
    f.nodeCpu.add(node, n.cpu, n.timestamp);
    f.nodeMem.add(node, n.memory, n.timestamp);
    for (const p of n.pods) {
      const pl: Array<[string, string]> = [['namespace', p.namespace], ['pod', p.name], ...node];
      f.podCpu.add(pl, p.cpu, p.timestamp);
      f.podMem.add(pl, p.memory, p.timestamp);
      for (const c of p.containers) {
        const cl: Array<[string, string]> = [['container', c.name], ['namespace', p.namespace], ['pod', p.name], ...node];
        f.containerCpu.add(cl, c.cpu, p.timestamp);
        f.containerMem.add(cl, c.memory, p.timestamp);
        f.containerStart.add(cl, c.startTime / 1000, p.timestamp);
      }
    }
  }
  const scrapeError = new Family('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise');
  scrapeError.add([], 0);
  return [f.containerCpu, f.containerMem, f.containerStart, f.nodeCpu, f.nodeMem, f.podCpu, f.podMem, scrapeError].map((x) => x.text()).join('');
}

export interface CadvisorInput {
  samples: NodeSample[];
  extras: { containers: Map<string, ContainerExtras>; pods: Map<string, PodExtras> };
  identities: { containers: Map<string, ContainerIdentity>; sandboxes: Map<string, string> };
  hollow: boolean;
}

/** /metrics/cadvisor: cAdvisor's container series, labelled container, id, image, name, namespace, pod. */
export function cadvisorText(input: CadvisorInput): string {
  const f = {
    cpu: new Family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.'),
    cfsPeriods: new Family('container_cpu_cfs_periods_total', 'counter', 'Number of elapsed enforcement period intervals.'),
    cfsThrottled: new Family('container_cpu_cfs_throttled_periods_total', 'counter', 'Number of throttled period intervals.'),
    fsReads: new Family('container_fs_reads_bytes_total', 'counter', 'Cumulative count of bytes read'),
    fsWrites: new Family('container_fs_writes_bytes_total', 'counter', 'Cumulative count of bytes written'),
    cache: new Family('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.'),
    rss: new Family('container_memory_rss', 'gauge', 'Size of RSS in bytes.'),
    ws: new Family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.'),
    rx: new Family('container_network_receive_bytes_total', 'counter', 'Cumulative count of bytes received'),
    tx: new Family('container_network_transmit_bytes_total', 'counter', 'Cumulative count of bytes transmitted'),
  };
  for (const n of input.samples) {
    const node: Array<[string, string]> = input.hollow ? [['node', n.node]] : [];
    for (const p of n.pods) {
      const pk = `${p.namespace}/${p.name}`;
      const sandbox = input.identities.sandboxes.get(pk) ?? p.uid;
      const pe = input.extras.pods.get(pk);
      if (pe) {
        const nl: Array<[string, string]> = [['container', ''], ['id', `/${sandbox}`], ['image', ''], ['interface', 'eth0'], ['name', sandbox], ['namespace', p.namespace], ['pod', p.name], ...node];
        f.rx.add(nl, pe.networkReceiveBytes, p.timestamp);
        f.tx.add(nl, pe.networkTransmitBytes, p.timestamp);
      }
      for (const c of p.containers) {
        const ck = `${pk}/${c.name}`;
        const ident = input.identities.containers.get(ck);
        const id = ident?.id ?? `${p.uid}-${c.name}`;
        const cl: Array<[string, string]> = [['container', c.name], ['id', `/${id}`], ['image', ident?.image ?? ''], ['name', id], ['namespace', p.namespace], ['pod', p.name], ...node];
        f.cpu.add([...cl.slice(0, 1), ['cpu', 'total'], ...cl.slice(1)], c.cpu, p.timestamp);
        f.ws.add(cl, c.memory, p.timestamp);
        const e = input.extras.containers.get(ck);
        if (!e) continue;
        f.rss.add(cl, e.rss, p.timestamp);
        f.cache.add(cl, e.cache, p.timestamp);
        f.cfsPeriods.add(cl, e.cfsPeriods, p.timestamp);
        f.cfsThrottled.add(cl, e.cfsThrottledPeriods, p.timestamp);
        const dl: Array<[string, string]> = [...cl.slice(0, 1), ['device', ''], ...cl.slice(1)];
        f.fsReads.add(dl, e.fsReadBytes, p.timestamp);
        f.fsWrites.add(dl, e.fsWriteBytes, p.timestamp);
      }
    }
  }
  return Object.values(f).map((x) => x.text()).join('');
}
