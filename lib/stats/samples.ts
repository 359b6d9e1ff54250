/**
 * Resource readings as a kubelet takes them for its /metrics/resource endpoint and for
 * the metrics service: per node, per pod and per container, cumulative CPU seconds and
 * the memory working set at one instant. The same shapes travel over NATS (wire.ts).
 */

export interface ContainerSample {
  name: string;
  /** when the container started, ms since the epoch (container_start_time_seconds) */
  startTime: number;
  /** cumulative CPU time, core-seconds (container_cpu_usage_seconds_total) */
  cpu: number;
  /** working set, bytes (container_memory_working_set_bytes) */
  memory: number;
}

export interface PodSample {
  namespace: string;
  name: string;
  uid: string;
  /** when the readings were taken, ms since the epoch */
  timestamp: number;
  /** cumulative CPU time of the whole pod, core-seconds (pod_cpu_usage_seconds_total) */
  cpu: number;
  /** working set of the whole pod, bytes (pod_memory_working_set_bytes) */
  memory: number;
  containers: ContainerSample[];
}

export interface NodeSample {
  node: string;
  /** when the node's readings were taken, ms since the epoch */
  timestamp: number;
  /** when the node (its kubelet) started, ms since the epoch */
  startTime: number;
  /** cumulative CPU time of the whole node, core-seconds (node_cpu_usage_seconds_total) */
  cpu: number;
  /** working set of the whole node, bytes (node_memory_working_set_bytes) */
  memory: number;
  pods: PodSample[];
}
