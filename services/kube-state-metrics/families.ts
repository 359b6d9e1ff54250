/**
 * kube-state-metrics' metric families for the kinds Flotilla serves, with upstream's
 * names, labels and units (docs/metrics/ of kubernetes/kube-state-metrics). Each family
 * turns one object into its exposition lines; the store keeps those lines per object,
 * so a scrape only concatenates.
 */
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { DAEMONSETS, DEPLOYMENTS, JOBS, NODES, PODS, REPLICASETS, STATEFULSETS, type GroupVersionResource, type KubeObject } from '../../lib/client/mod.js';

export interface Family<T> {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /** the object's lines, each ending in "\n" ('' when it has none) */
  render(obj: T): string;
}

/** A resource's families, and the labels every one of its series starts with. */
export interface ResourceFamilies<T extends KubeObject = KubeObject> {
  gvr: GroupVersionResource;
  families: Family<T>[];
}

/** A label value as the text format quotes it. */
function quote(v: string): string {
  return /[\\"\n]/.test(v) ? v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n') : v;
}

type Labels = ReadonlyArray<readonly [string, string | undefined]>;

function labels(pairs: Labels): string {
  let s = '';
  for (const [k, v] of pairs) s += `${s ? ',' : ''}${k}="${quote(v ?? '')}"`;
  return s;
}

function sample(name: string, base: string, extra: Labels, value: number): string {
  const more = extra.length ? labels(extra) : '';
  const all = base && more ? `${base},${more}` : base || more;
  return `${name}{${all}} ${Number.isFinite(value) ? value : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN'}\n`;
}

const bool = (b: boolean) => (b ? 1 : 0);

/** upstream's SanitizeLabelName: what is not [a-zA-Z0-9_] becomes "_" (ephemeral-storage → ephemeral_storage) */
function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** A resource quantity as kube-state-metrics reports it: cpu in cores, the rest whole; with its unit. */
function resourceValue(resource: string, quantity: string | number): { value: number; unit: string } | undefined {
  let q;
  try {
    q = parseQuantity(String(quantity));
  } catch {
    return undefined;
  }
  if (resource === 'cpu') return { value: Number(q.milliValue()) / 1000, unit: 'core' };
  if (resource === 'memory' || resource === 'storage' || resource === 'ephemeral-storage' || resource.startsWith('hugepages-')) return { value: Number(q.value()), unit: 'byte' };
  if (resource.startsWith('attachable-volumes-')) return { value: Number(q.value()), unit: 'byte' };
  if (resource === 'pods') return { value: Number(q.value()), unit: 'integer' };
  // extended resources (a domain-qualified name): counted
  if (resource.includes('/')) return { value: Number(q.value()), unit: 'integer' };
  return undefined;
}

function resourceLines(name: string, base: string, prefix: Labels, list: Record<string, string | number> | undefined): string {
  let out = '';
  for (const [resource, quantity] of Object.entries(list ?? {})) {
    const v = resourceValue(resource, quantity);
    if (v) out += sample(name, base, [...prefix, ['resource', sanitize(resource)], ['unit', v.unit]], v.value);
  }
  return out;
}

function ownerLines(name: string, base: string, owners: OwnerReference[] | undefined): string {
  // no owner: one series with empty owner labels, as upstream (the mixin's rules select owner_kind="")
  if (!owners?.length) return sample(name, base, [['owner_kind', ''], ['owner_name', ''], ['owner_is_controller', '']], 1);
  let out = '';
  for (const o of owners) out += sample(name, base, [['owner_kind', o.kind], ['owner_name', o.name], ['owner_is_controller', String(o.controller ?? false)]], 1);
  return out;
}

/** A family over objects whose series share `base(obj)`'s labels. */
function family<T>(name: string, help: string, base: (o: T) => string, lines: (o: T, base: string) => string, type: 'gauge' | 'counter' = 'gauge'): Family<T> {
  return { name, help, type, render: (o) => lines(o, base(o)) };
}

const podBase = (p: Pod) => labels([['namespace', p.metadata?.namespace], ['pod', p.metadata?.name], ['uid', p.metadata?.uid]]);
const nodeBase = (n: Node) => labels([['node', n.metadata?.name]]);
const namespaced = (label: string) => (o: KubeObject) => labels([['namespace', o.metadata?.namespace], [label, o.metadata?.name]]);

const POD_PHASES = ['Pending', 'Succeeded', 'Failed', 'Unknown', 'Running'];

const podFamilies: Family<Pod>[] = [
  family('kube_pod_info', 'Information about pod.', podBase, (p, b) => {
    const ctl = p.metadata?.ownerReferences?.find((o) => o.controller);
    return sample('kube_pod_info', b, [
      ['host_ip', p.status?.hostIP], ['pod_ip', p.status?.podIP], ['node', p.spec?.nodeName], ['created_by_kind', ctl?.kind], ['created_by_name', ctl?.name],
      ['priority_class', p.spec?.priorityClassName], ['host_network', String(p.spec?.hostNetwork ?? false)],
    ], 1);
  }),
  family('kube_pod_owner', "Information about the Pod's owner.", podBase, (p, b) => ownerLines('kube_pod_owner', b, p.metadata?.ownerReferences)),
  family('kube_pod_status_phase', 'The pods current phase.', podBase, (p, b) => {
    const phase = p.status?.phase;
    if (!phase) return '';
    return POD_PHASES.map((ph) => sample('kube_pod_status_phase', b, [['phase', ph]], bool(ph === phase))).join('');
  }),
  family('kube_pod_status_ready', 'Describes whether the pod is ready to serve requests.', podBase, (p, b) => {
    const c = p.status?.conditions?.find((x) => x.type === 'Ready');
    if (!c) return '';
    return ['true', 'false', 'unknown'].map((s) => sample('kube_pod_status_ready', b, [['condition', s]], bool(c.status.toLowerCase() === s))).join('');
  }),
  family('kube_pod_container_info', 'Information about a container in a pod.', podBase, (p, b) => {
    const specImage = new Map((p.spec?.containers ?? []).map((c) => [c.name, c.image]));
    return (p.status?.containerStatuses ?? [])
      .map((cs) => sample('kube_pod_container_info', b, [['container', cs.name], ['image_spec', specImage.get(cs.name)], ['image', cs.image], ['image_id', cs.imageID], ['container_id', cs.containerID]], 1))
      .join('');
  }),
  family('kube_pod_container_status_waiting_reason', 'Describes the reason the container is currently in waiting state.', podBase, (p, b) =>
    (p.status?.containerStatuses ?? [])
      .filter((cs) => cs.state?.waiting)
      .map((cs) => sample('kube_pod_container_status_waiting_reason', b, [['container', cs.name], ['reason', cs.state!.waiting!.reason]], 1))
      .join(''),
  ),
  family('kube_pod_container_status_restarts_total', 'The number of container restarts per container.', podBase, (p, b) =>
    (p.status?.containerStatuses ?? []).map((cs) => sample('kube_pod_container_status_restarts_total', b, [['container', cs.name]], cs.restartCount ?? 0)).join(''),
  'counter'),
  family('kube_pod_container_resource_requests', 'The number of requested request resource by a container.', podBase, (p, b) =>
    (p.spec?.containers ?? []).map((c) => resourceLines('kube_pod_container_resource_requests', b, [['container', c.name], ['node', p.spec?.nodeName]], c.resources?.requests)).join(''),
  ),
  family('kube_pod_container_resource_limits', 'The number of requested limit resource by a container.', podBase, (p, b) =>
    (p.spec?.containers ?? []).map((c) => resourceLines('kube_pod_container_resource_limits', b, [['container', c.name], ['node', p.spec?.nodeName]], c.resources?.limits)).join(''),
  ),
];

const nodeFamilies: Family<Node>[] = [
  family('kube_node_info', 'Information about a cluster node.', nodeBase, (n, b) => {
    const i = n.status?.nodeInfo;
    return sample('kube_node_info', b, [
      ['kernel_version', i?.kernelVersion], ['os_image', i?.osImage], ['container_runtime_version', i?.containerRuntimeVersion], ['kubelet_version', i?.kubeletVersion],
      ['kubeproxy_version', 'deprecated'], ['pod_cidr', n.spec?.podCIDR], ['provider_id', n.spec?.providerID], ['system_uuid', i?.systemUUID],
      ['internal_ip', n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address],
    ], 1);
  }),
  family('kube_node_spec_unschedulable', 'Whether a node can schedule new pods.', nodeBase, (n, b) => sample('kube_node_spec_unschedulable', b, [], bool(n.spec?.unschedulable ?? false))),
  family('kube_node_status_capacity', 'The capacity for different resources of a node.', nodeBase, (n, b) => resourceLines('kube_node_status_capacity', b, [], n.status?.capacity)),
  family('kube_node_status_allocatable', 'The allocatable for different resources of a node that are available for scheduling.', nodeBase, (n, b) =>
    resourceLines('kube_node_status_allocatable', b, [], n.status?.allocatable),
  ),
  family('kube_node_status_condition', 'The condition of a cluster node.', nodeBase, (n, b) =>
    (n.status?.conditions ?? [])
      .map((c) => ['true', 'false', 'unknown'].map((s) => sample('kube_node_status_condition', b, [['condition', c.type], ['status', s]], bool(c.status.toLowerCase() === s))).join(''))
      .join(''),
  ),
];

const deployBase: (o: Deployment) => string = namespaced('deployment');
const deploymentFamilies: Family<Deployment>[] = [
  family('kube_deployment_spec_replicas', 'Number of desired pods for a deployment.', deployBase, (d, b) => sample('kube_deployment_spec_replicas', b, [], d.spec?.replicas ?? 1)),
  family('kube_deployment_status_replicas', 'The number of replicas per deployment.', deployBase, (d, b) => sample('kube_deployment_status_replicas', b, [], d.status?.replicas ?? 0)),
  family('kube_deployment_status_replicas_available', 'The number of available replicas per deployment.', deployBase, (d, b) =>
    sample('kube_deployment_status_replicas_available', b, [], d.status?.availableReplicas ?? 0),
  ),
  family('kube_deployment_status_replicas_updated', 'The number of updated replicas per deployment.', deployBase, (d, b) => sample('kube_deployment_status_replicas_updated', b, [], d.status?.updatedReplicas ?? 0)),
  family('kube_deployment_status_observed_generation', 'The generation observed by the deployment controller.', deployBase, (d, b) =>
    sample('kube_deployment_status_observed_generation', b, [], d.status?.observedGeneration ?? 0),
  ),
  family('kube_deployment_metadata_generation', 'Sequence number representing a specific generation of the desired state.', deployBase, (d, b) =>
    sample('kube_deployment_metadata_generation', b, [], d.metadata?.generation ?? 0),
  ),
];

const dsBase: (o: DaemonSet) => string = namespaced('daemonset');
const daemonSetFamilies: Family<DaemonSet>[] = [
  family('kube_daemonset_status_desired_number_scheduled', 'The number of nodes that should be running the daemon pod.', dsBase, (d, b) =>
    sample('kube_daemonset_status_desired_number_scheduled', b, [], d.status?.desiredNumberScheduled ?? 0),
  ),
  family('kube_daemonset_status_current_number_scheduled', 'The number of nodes running at least one daemon pod and are supposed to.', dsBase, (d, b) =>
    sample('kube_daemonset_status_current_number_scheduled', b, [], d.status?.currentNumberScheduled ?? 0),
  ),
  family('kube_daemonset_status_number_ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', dsBase, (d, b) =>
    sample('kube_daemonset_status_number_ready', b, [], d.status?.numberReady ?? 0),
  ),
];

const stsBase: (o: StatefulSet) => string = namespaced('statefulset');
const statefulSetFamilies: Family<StatefulSet>[] = [
  family('kube_statefulset_replicas', 'Number of desired pods for a StatefulSet.', stsBase, (s, b) => sample('kube_statefulset_replicas', b, [], s.spec?.replicas ?? 1)),
  family('kube_statefulset_status_replicas_ready', 'The number of ready replicas per StatefulSet.', stsBase, (s, b) => sample('kube_statefulset_status_replicas_ready', b, [], s.status?.readyReplicas ?? 0)),
  family('kube_statefulset_status_replicas_updated', 'The number of updated replicas per StatefulSet.', stsBase, (s, b) => sample('kube_statefulset_status_replicas_updated', b, [], s.status?.updatedReplicas ?? 0)),
];

const rsBase: (o: ReplicaSet) => string = namespaced('replicaset');
const replicaSetFamilies: Family<ReplicaSet>[] = [
  family('kube_replicaset_owner', 'Information about the ReplicaSet\'s owner.', rsBase, (r, b) => ownerLines('kube_replicaset_owner', b, r.metadata?.ownerReferences)),
  family('kube_replicaset_spec_replicas', 'Number of desired pods for a ReplicaSet.', rsBase, (r, b) => sample('kube_replicaset_spec_replicas', b, [], r.spec?.replicas ?? 1)),
];

/** upstream's known failure reasons; another reason is reported with reason="" */
const JOB_FAILURE_REASONS = ['BackoffLimitExceeded', 'DeadlineExceeded', 'Evicted'];
const jobBase: (o: Job) => string = namespaced('job_name');
const jobFamilies: Family<Job>[] = [
  family('kube_job_status_succeeded', 'The number of pods which reached Phase Succeeded.', jobBase, (j, b) => sample('kube_job_status_succeeded', b, [], j.status?.succeeded ?? 0)),
  family('kube_job_status_active', 'The number of actively running pods.', jobBase, (j, b) => sample('kube_job_status_active', b, [], j.status?.active ?? 0)),
  family('kube_job_status_failed', 'The number of pods which reached Phase Failed and the reason for failure.', jobBase, (j, b) => {
    const failed = j.status?.failed ?? 0;
    if (failed === 0) return sample('kube_job_status_failed', b, [], 0);
    const reasons = (j.status?.conditions ?? []).filter((c) => c.type === 'Failed').map((c) => c.reason ?? '');
    let out = '';
    for (const r of reasons.length ? JOB_FAILURE_REASONS : []) out += sample('kube_job_status_failed', b, [['reason', r]], bool(reasons.includes(r)));
    if (!reasons.some((r) => JOB_FAILURE_REASONS.includes(r))) out += sample('kube_job_status_failed', b, [['reason', '']], failed);
    return out;
  }),
];

/** Every resource kube-state-metrics watches here, in the order its families are rendered. */
export const RESOURCE_FAMILIES: ResourceFamilies<any>[] = [
  { gvr: PODS, families: podFamilies },
  { gvr: NODES, families: nodeFamilies },
  { gvr: DEPLOYMENTS, families: deploymentFamilies },
  { gvr: REPLICASETS, families: replicaSetFamilies },
  { gvr: DAEMONSETS, families: daemonSetFamilies },
  { gvr: STATEFULSETS, families: statefulSetFamilies },
  { gvr: JOBS, families: jobFamilies },
];
