/**
 * What a table row shows for each kind: a few cells computed once per object change
 * (kubectl's printer columns, in spirit), which the views sort, filter and page over
 * without touching the objects again. Other kinds get the apiserver's printer columns,
 * else the generic ones (name, namespace, age): printercolumns.ts.
 */
import type { Node, Pod, Event } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../lib/client/mod.js';

export type Cell = string | number;

export interface Column {
  name: string;
  /** how the browser shows it: 'age' cells are timestamps (ms) it renders as 5m, 2h, ... */
  type?: 'text' | 'number' | 'age';
}

export interface KindColumns {
  columns: Column[];
  cells(obj: any): Cell[];
}

const ts = (s: string | undefined): number => (s ? Date.parse(s) : 0);

/** kubectl's STATUS of a pod: Terminating, a container's waiting or terminated reason, else the phase. */
export function podStatus(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  if (p.status?.reason) return p.status.reason;
  for (const c of p.status?.initContainerStatuses ?? []) {
    const r = c.state?.terminated?.exitCode ? c.state.terminated.reason : c.state?.waiting?.reason;
    if (r && r !== 'PodInitializing') return `Init:${r}`;
  }
  let status = p.status?.phase ?? 'Pending';
  for (const c of p.status?.containerStatuses ?? []) {
    const r = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (r) status = r;
  }
  return status;
}

function podReady(p: Pod): string {
  const statuses = p.status?.containerStatuses ?? [];
  return `${statuses.filter((c) => c.ready).length}/${p.spec?.containers?.length ?? statuses.length}`;
}

export function nodeReady(n: Node): boolean {
  return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

function nodeStatus(n: Node): string {
  const s = nodeReady(n) ? 'Ready' : 'NotReady';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

function nodeRoles(n: Node): string {
  const roles = Object.keys(n.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.length ? roles.join(',') : '<none>';
}

const workload = (ready: (o: any) => string): KindColumns => ({
  columns: [{ name: 'Name' }, { name: 'Namespace' }, { name: 'Ready' }, { name: 'Up-to-date', type: 'number' }, { name: 'Available', type: 'number' }, { name: 'Age', type: 'age' }],
  cells: (o) => [o.metadata?.name ?? '', o.metadata?.namespace ?? '', ready(o), o.status?.updatedReplicas ?? o.status?.updatedNumberScheduled ?? 0, o.status?.availableReplicas ?? o.status?.numberAvailable ?? 0, ts(o.metadata?.creationTimestamp)],
});

export const GENERIC: KindColumns = {
  columns: [{ name: 'Name' }, { name: 'Namespace' }, { name: 'Age', type: 'age' }],
  cells: (o: KubeObject) => [o.metadata?.name ?? '', o.metadata?.namespace ?? '', ts(o.metadata?.creationTimestamp)],
};

/** Columns by resource name (the plural, as the API names it). */
export const COLUMNS: Record<string, KindColumns> = {
  pods: {
    columns: [{ name: 'Name' }, { name: 'Namespace' }, { name: 'Ready' }, { name: 'Status' }, { name: 'Restarts', type: 'number' }, { name: 'Node' }, { name: 'IP' }, { name: 'Age', type: 'age' }],
    cells: (p: Pod) => [
      p.metadata?.name ?? '',
      p.metadata?.namespace ?? '',
      podReady(p),
      podStatus(p),
      (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
      p.spec?.nodeName ?? '',
      p.status?.podIP ?? '',
      ts(p.metadata?.creationTimestamp),
    ],
  },
  nodes: {
    columns: [{ name: 'Name' }, { name: 'Status' }, { name: 'Roles' }, { name: 'CPU' }, { name: 'Memory' }, { name: 'Pods' }, { name: 'Version' }, { name: 'Age', type: 'age' }],
    cells: (n: Node) => [
      n.metadata?.name ?? '',
      nodeStatus(n),
      nodeRoles(n),
      n.status?.allocatable?.cpu ?? '',
      n.status?.allocatable?.memory ?? '',
      n.status?.allocatable?.pods ?? '',
      n.status?.nodeInfo?.kubeletVersion ?? '',
      ts(n.metadata?.creationTimestamp),
    ],
  },
  events: {
    columns: [{ name: 'Last seen', type: 'age' }, { name: 'Type' }, { name: 'Reason' }, { name: 'Object' }, { name: 'Message' }, { name: 'Count', type: 'number' }, { name: 'Namespace' }],
    cells: (e: Event) => [
      ts(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp),
      e.type ?? '',
      e.reason ?? '',
      `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
      e.message ?? '',
      e.count ?? 1,
      e.metadata?.namespace ?? '',
    ],
  },
  deployments: workload((o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
  replicasets: workload((o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
  statefulsets: workload((o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
  jobs: {
    columns: [{ name: 'Name' }, { name: 'Namespace' }, { name: 'Completions' }, { name: 'Active', type: 'number' }, { name: 'Failed', type: 'number' }, { name: 'Age', type: 'age' }],
    cells: (o: any) => [o.metadata?.name ?? '', o.metadata?.namespace ?? '', `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`, o.status?.active ?? 0, o.status?.failed ?? 0, ts(o.metadata?.creationTimestamp)],
  },
  cronjobs: {
    columns: [{ name: 'Name' }, { name: 'Namespace' }, { name: 'Schedule' }, { name: 'Suspend' }, { name: 'Active', type: 'number' }, { name: 'Last schedule', type: 'age' }, { name: 'Age', type: 'age' }],
    cells: (o: any) => [o.metadata?.name ?? '', o.metadata?.namespace ?? '', o.spec?.schedule ?? '', String(o.spec?.suspend ?? false), (o.status?.active ?? []).length, ts(o.status?.lastScheduleTime), ts(o.metadata?.creationTimestamp)],
  },
  daemonsets: workload((o) => `${o.status?.numberReady ?? 0}/${o.status?.desiredNumberScheduled ?? 0}`),
};
