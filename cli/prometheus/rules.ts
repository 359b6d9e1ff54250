/**
 * The recording rules the kubernetes-mixin dashboards read instead of raw series (the
 * names kube-prometheus records), so their panels answer against Flotilla's Prometheus.
 * Each rule is what the mixin documents it to mean, over the job names of config.ts:
 * pod resources counted while the pod is Pending or Running, pods attributed to their
 * workload, apiserver request rates and SLI latency by read and write, and container
 * usage from the kubelets' /metrics/cadvisor with the pod's node attached.
 */
import YAML from 'yaml';

interface Rule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

const KSM = 'job="kube-state-metrics"';
const CADVISOR = 'job="kubelet", metrics_path="/metrics/cadvisor"';
/** the node a pod runs on, one series per pod (kube_pod_info may briefly carry two) */
const POD_NODE = 'topk by (cluster, namespace, pod) (1, max by (cluster, namespace, pod, node) (kube_pod_info{node!=""}))';
const ACTIVE_POD = 'max by (cluster, namespace, pod) (kube_pod_status_phase{phase=~"Pending|Running"} == 1)';

function podResourceRules(): Rule[] {
  const rules: Rule[] = [];
  for (const kind of ['requests', 'limits'] as const) {
    for (const [resource, short] of [['cpu', 'cpu'], ['memory', 'memory']] as const) {
      const series = `kube_pod_container_resource_${kind}{resource="${resource}", ${KSM}}`;
      rules.push({ record: `cluster:namespace:pod_${short}:active:kube_pod_container_resource_${kind}`, expr: `${series} * on (cluster, namespace, pod) group_left() ${ACTIVE_POD}` });
      rules.push({
        record: `namespace_${short}:kube_pod_container_resource_${kind}:sum`,
        expr: `sum by (cluster, namespace) (sum by (cluster, namespace, pod) (max by (cluster, namespace, pod, container) (${series}) * on (cluster, namespace, pod) group_left() ${ACTIVE_POD}))`,
      });
    }
  }
  return rules;
}

/** namespace_workload_pod:kube_pod_owner:relabel: each pod with its workload (a Deployment through its ReplicaSet). */
function podOwnerRules(): Rule[] {
  const record = 'namespace_workload_pod:kube_pod_owner:relabel';
  const byOwner = (ownerKind: string, workloadType: string): Rule => ({
    record,
    expr: `max by (cluster, namespace, workload, pod) (label_replace(kube_pod_owner{${KSM}, owner_kind="${ownerKind}"}, "workload", "$1", "owner_name", "(.*)"))`,
    labels: { workload_type: workloadType },
  });
  // a pod's ReplicaSet, renamed to the Deployment that owns it (kube_replicaset_owner)
  const viaReplicaSet = (rsOwner: string) =>
    `label_replace(kube_pod_owner{${KSM}, owner_kind="ReplicaSet"}, "replicaset", "$1", "owner_name", "(.*)")` +
    ` * on (cluster, namespace, replicaset) group_left(owner_name) topk by (cluster, namespace, replicaset) (1, max by (cluster, namespace, replicaset, owner_name) (kube_replicaset_owner{${KSM}, owner_kind="${rsOwner}"}))`;
  return [
    { record, expr: `max by (cluster, namespace, workload, pod) (label_replace(${viaReplicaSet('Deployment')}, "workload", "$1", "owner_name", "(.*)"))`, labels: { workload_type: 'deployment' } },
    { record, expr: `max by (cluster, namespace, workload, pod) (label_replace(${viaReplicaSet('')}, "workload", "$1", "replicaset", "(.*)"))`, labels: { workload_type: 'replicaset' } },
    byOwner('DaemonSet', 'daemonset'),
    byOwner('StatefulSet', 'statefulset'),
    byOwner('Job', 'job'),
  ];
}

function apiserverRules(): Rule[] {
  const verbs = { read: 'LIST|GET', write: 'POST|PUT|PATCH|DELETE' };
  const rules: Rule[] = [];
  for (const [type, re] of Object.entries(verbs)) {
    rules.push({ record: 'code_resource:apiserver_request_total:rate5m', expr: `sum by (cluster, code, resource) (rate(apiserver_request_total{job="apiserver", verb=~"${re}"}[5m]))`, labels: { verb: type } });
    rules.push({
      record: 'cluster_quantile:apiserver_request_sli_duration_seconds:histogram_quantile',
      expr: `histogram_quantile(0.99, sum by (cluster, le, resource) (rate(apiserver_request_sli_duration_seconds_bucket{job="apiserver", verb=~"${re}", subresource!~"proxy|attach|log|exec|portforward"}[5m]))) > 0`,
      labels: { verb: type, quantile: '0.99' },
    });
  }
  return rules;
}

function containerUsageRules(): Rule[] {
  const withNode = (expr: string) => `${expr} * on (cluster, namespace, pod) group_left(node) ${POD_NODE}`;
  return [
    { record: 'node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m', expr: withNode(`sum by (cluster, namespace, pod, container) (rate(container_cpu_usage_seconds_total{${CADVISOR}, image!=""}[5m]))`) },
    { record: 'node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate', expr: withNode(`sum by (cluster, namespace, pod, container) (irate(container_cpu_usage_seconds_total{${CADVISOR}, image!=""}[5m]))`) },
    ...['working_set_bytes', 'rss', 'cache'].map((m) => ({ record: `node_namespace_pod_container:container_memory_${m}`, expr: withNode(`container_memory_${m}{${CADVISOR}, image!=""}`) })),
  ];
}

/** The rules file Prometheus loads (rule_files in prometheus.yml). */
export function renderRecordingRules(): string {
  const groups = [
    { name: 'k8s.rules.pod_resources', rules: podResourceRules() },
    { name: 'k8s.rules.pod_owner', rules: podOwnerRules() },
    { name: 'kube-apiserver.rules', rules: apiserverRules() },
    { name: 'k8s.rules.container_usage', rules: containerUsageRules() },
  ];
  return `# written by flotilla up: the recording rules the kubernetes-mixin dashboards read\n${YAML.stringify({ groups }, { lineWidth: 0 })}`;
}
