/**
 * core/v1 kinds other than Pod and PodTemplate (Namespace, Node, Service, Endpoints,
 * ConfigMap, Secret, ServiceAccount, Event), the Binding body of pods/binding, and the
 * non-core bodies of two subresources: authentication/v1 TokenRequest
 * (serviceaccounts/token) and autoscaling/v1 Scale (*\/scale). JSON names, protobuf
 * numbers, required flags and merge keys follow k8s.io/api release 1.34.
 * Registration happens on import; nothing else is exported.
 */
import { CORE, define, defineObject, field, META, fieldType } from '../dsl.js';
import { maybeTypeDef, registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { translateAge } from '../printing.js';
import { applySchemaDefaults } from '../defaults.js';
import { formatLabels } from '../../api/labels.js';
import { isDNS1123Subdomain } from '../../api/names.js';
import { fieldError } from '../fielderrors.js';
import { PROTOCOLS, validatePortNumber } from './pod/validation.js';
import './meta-v1.js';

const AUTHN = 'io.k8s.api.authentication.v1.';
const AUTOSCALING = 'io.k8s.api.autoscaling.v1.';

// metav1.Condition (ServiceStatus.conditions) belongs to meta/v1; it is defined here only
// if meta-v1.ts does not define it already.
if (!maybeTypeDef(META + 'Condition')) {
  define(META + 'Condition', 'A condition of an object\'s state, in the common metav1 shape.', {
    type: field(1, fieldType.string, 'The type of condition, in CamelCase.', { required: true }),
    status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
    observedGeneration: field(3, fieldType.int64, 'The metadata.generation the condition was set for.'),
    lastTransitionTime: field(4, fieldType.time, 'The last time the condition moved from one status to another.', { required: true }),
    reason: field(5, fieldType.string, 'A machine-readable CamelCase reason for the last transition.', { required: true }),
    message: field(6, fieldType.string, 'A human-readable message about the transition.'),
  });
}

defineObject(CORE + 'Namespace', 'A Namespace scopes the names of namespaced objects.', {
  spec: field(2, fieldType.ref(CORE + 'NamespaceSpec'), 'The behaviour of the namespace.'),
  status: field(3, fieldType.ref(CORE + 'NamespaceStatus'), 'The current status of the namespace.'),
});

defineObject(CORE + 'Node', 'A Node is a worker machine, physical or virtual, on which pods run.', {
  spec: field(2, fieldType.ref(CORE + 'NodeSpec'), 'How the node is configured: pod CIDRs, taints, schedulability.'),
  status: field(3, fieldType.ref(CORE + 'NodeStatus'), 'The most recently observed status of the node.'),
});

defineObject(CORE + 'Service', 'A Service names a set of pods and a policy to reach them, exposed on a stable virtual IP.', {
  spec: field(2, fieldType.ref(CORE + 'ServiceSpec'), 'The behaviour of the service: its ports, selector and type.'),
  status: field(3, fieldType.ref(CORE + 'ServiceStatus'), 'The most recently observed status of the service, such as its load balancer.'),
});

defineObject(CORE + 'Endpoints', 'Endpoints lists the addresses and ports that implement a service.', {
  subsets: field(2, fieldType.array(fieldType.ref(CORE + 'EndpointSubset')), 'Groups of addresses sharing the same ports.', { listType: 'atomic' }),
});

defineObject(CORE + 'ConfigMap', 'A ConfigMap holds configuration data for pods to consume.', {
  immutable: field(4, fieldType.boolean, 'When true, data and binaryData can no longer be changed.', { pointer: true }),
  data: field(2, fieldType.map(fieldType.string), 'UTF-8 configuration data; keys are made of alphanumerics, \'-\', \'_\' and \'.\'.'),
  binaryData: field(3, fieldType.map(fieldType.bytes), 'Binary configuration data (base64 in JSON); keys must not repeat those in data.'),
});

defineObject(CORE + 'Secret', 'A Secret holds a small amount of sensitive data such as a password, token or key.', {
  immutable: field(5, fieldType.boolean, 'When true, data can no longer be changed.', { pointer: true }),
  data: field(2, fieldType.map(fieldType.bytes), 'The secret values, base64-encoded in JSON; keys are made of alphanumerics, \'-\', \'_\' and \'.\'.'),
  stringData: field(4, fieldType.map(fieldType.string), 'Write-only plain-text values merged into data on write; never returned.'),
  type: field(3, fieldType.string, 'The kind of secret, which constrains its keys; defaults to Opaque.', { default: 'Opaque' }),
});

defineObject(CORE + 'ServiceAccount', 'A ServiceAccount gives an identity to processes running in pods.', {
  secrets: field(2, fieldType.array(fieldType.ref(CORE + 'ObjectReference')), 'Deprecated: legacy secrets holding tokens of this service account.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  imagePullSecrets: field(3, fieldType.array(fieldType.ref(CORE + 'LocalObjectReference')), 'Secrets used to pull images for pods that run as this service account.', { listType: 'atomic' }),
  automountServiceAccountToken: field(4, fieldType.boolean, 'Whether pods running as this account get an API token mounted automatically.', { pointer: true }),
});

defineObject(CORE + 'Event', 'An Event reports something that happened in the cluster.', {
  involvedObject: field(2, fieldType.ref(CORE + 'ObjectReference'), 'The object this event is about.', { required: true }),
  reason: field(3, fieldType.string, 'A short, machine-readable reason for the transition into the object\'s current state.'),
  message: field(4, fieldType.string, 'A human-readable description of the event.'),
  source: field(5, fieldType.ref(CORE + 'EventSource'), 'The component that reported the event.'),
  firstTimestamp: field(6, fieldType.time, 'When the event was first recorded.'),
  lastTimestamp: field(7, fieldType.time, 'When the most recent occurrence was recorded.'),
  count: field(8, fieldType.int32, 'How many times the event occurred.'),
  type: field(9, fieldType.string, 'The type of event: Normal or Warning.'),
  eventTime: field(10, fieldType.microTime, 'When the event first happened, with microseconds.'),
  series: field(11, fieldType.ref(CORE + 'EventSeries'), 'Data about the series of occurrences this event belongs to, if any.'),
  action: field(12, fieldType.string, 'What action was taken or failed on the regarding object.'),
  related: field(13, fieldType.ref(CORE + 'ObjectReference'), 'A secondary object involved in the event.'),
  reportingComponent: field(14, fieldType.string, 'The controller that emitted the event, e.g. kubernetes.io/kubelet.'),
  reportingInstance: field(15, fieldType.string, 'The instance of the reporting controller, e.g. kubelet-xyzf.'),
});

defineObject(CORE + 'Binding', 'A Binding ties an object to another, e.g. a pod to the node the scheduler chose.', {
  target: field(2, fieldType.ref(CORE + 'ObjectReference'), 'The object to bind to, e.g. a Node.', { required: true }),
});

defineObject(AUTHN + 'TokenRequest', 'A TokenRequest asks for a token for a service account.', {
  spec: field(2, fieldType.ref(AUTHN + 'TokenRequestSpec'), 'What the requested token should contain.', { required: true }),
  status: field(3, fieldType.ref(AUTHN + 'TokenRequestStatus'), 'The issued token.'),
});

defineObject(AUTOSCALING + 'Scale', 'A Scale reads or sets the replica count of a scalable resource.', {
  spec: field(2, fieldType.ref(AUTOSCALING + 'ScaleSpec'), 'The desired scale.'),
  status: field(3, fieldType.ref(AUTOSCALING + 'ScaleStatus'), 'The current scale, populated by the system; read-only.'),
});

define(CORE + 'NamespaceSpec', 'The desired state of a namespace.', {
  finalizers: field(1, fieldType.array(fieldType.string), 'Opaque values that must all be removed before the namespace is removed from storage.', { listType: 'atomic' }),
});

define(CORE + 'NamespaceStatus', 'The observed state of a namespace.', {
  phase: field(1, fieldType.string, 'Active, or Terminating while the namespace\'s contents are being deleted.'),
  conditions: field(2, fieldType.array(fieldType.ref(CORE + 'NamespaceCondition')), 'The latest observations of the namespace\'s state.', { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] }),
});

define(CORE + 'NodeSpec', 'The configuration of a node.', {
  podCIDR: field(1, fieldType.string, 'The IP range of pod addresses assigned to this node.'),
  podCIDRs: field(7, fieldType.array(fieldType.string), 'The IP ranges (one per IP family) of pod addresses assigned to this node.', { strategy: 'merge', listType: 'set' }),
  providerID: field(3, fieldType.string, 'The cloud provider\'s identifier for this node, as <ProviderName>://<ProviderSpecificNodeID>.'),
  unschedulable: field(4, fieldType.boolean, 'When true, new pods are not scheduled to this node (cordoned).'),
  taints: field(5, fieldType.array(fieldType.ref(CORE + 'Taint')), 'Taints that repel pods which do not tolerate them.', { listType: 'atomic' }),
  configSource: field(6, fieldType.any, 'Deprecated dynamic kubelet configuration source; no longer used.'),
  externalID: field(2, fieldType.string, 'Deprecated; not used by the system.'),
});

define(CORE + 'NodeStatus', 'The observed state of a node.', {
  capacity: field(1, fieldType.map(fieldType.quantity), 'The total resources of the node.'),
  allocatable: field(2, fieldType.map(fieldType.quantity), 'The resources of the node available for scheduling pods; defaults to capacity.'),
  phase: field(3, fieldType.string, 'Deprecated node lifecycle phase; not populated.'),
  conditions: field(4, fieldType.array(fieldType.ref(CORE + 'NodeCondition')), 'The current observed conditions of the node, such as Ready and MemoryPressure.', { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] }),
  addresses: field(5, fieldType.array(fieldType.ref(CORE + 'NodeAddress')), 'The addresses by which the node is reachable.', { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] }),
  daemonEndpoints: field(6, fieldType.ref(CORE + 'NodeDaemonEndpoints'), 'The endpoints of daemons running on the node.'),
  nodeInfo: field(7, fieldType.ref(CORE + 'NodeSystemInfo'), 'Identifying and version information about the node.'),
  images: field(8, fieldType.array(fieldType.ref(CORE + 'ContainerImage')), 'The container images present on the node.', { listType: 'atomic' }),
  volumesInUse: field(9, fieldType.array(fieldType.string), 'Volumes attached and mounted on the node.', { listType: 'atomic' }),
  volumesAttached: field(10, fieldType.array(fieldType.ref(CORE + 'AttachedVolume')), 'Volumes attached to the node.', { listType: 'atomic' }),
  config: field(11, fieldType.any, 'Status of the deprecated dynamic kubelet configuration.'),
  runtimeHandlers: field(12, fieldType.array(fieldType.ref(CORE + 'NodeRuntimeHandler')), 'The runtime handlers available on the node.', { listType: 'atomic' }),
  features: field(13, fieldType.ref(CORE + 'NodeFeatures'), 'Features implemented by the node\'s CRI runtime.'),
});

define(CORE + 'ServiceSpec', 'The desired behaviour of a service.', {
  ports: field(1, fieldType.array(fieldType.ref(CORE + 'ServicePort')), 'The ports the service exposes.', { mergeKey: 'port', strategy: 'merge', listType: 'map', listMapKeys: ['port', 'protocol'] }),
  selector: field(2, fieldType.map(fieldType.string), 'Pods whose labels match this selector receive the service\'s traffic; endpoints are managed externally when empty.', { mapType: 'atomic' }),
  clusterIP: field(3, fieldType.string, 'The virtual IP of the service, usually allocated by the system; "None" makes a headless service.'),
  clusterIPs: field(18, fieldType.array(fieldType.string), 'The virtual IPs of the service, at most one per IP family; the first equals clusterIP.', { listType: 'atomic' }),
  type: field(4, fieldType.string, 'How the service is exposed: ClusterIP (default), NodePort, LoadBalancer or ExternalName.', { default: 'ClusterIP' }),
  externalIPs: field(5, fieldType.array(fieldType.string), 'Extra IPs on which nodes accept traffic for this service; not managed by the system.', { listType: 'atomic' }),
  sessionAffinity: field(7, fieldType.string, 'ClientIP keeps a client on the same endpoint; None (default) balances freely.', { default: 'None' }),
  loadBalancerIP: field(8, fieldType.string, 'Deprecated: the load balancer IP to request from the cloud provider.'),
  loadBalancerSourceRanges: field(9, fieldType.array(fieldType.string), 'Client CIDRs allowed through the cloud load balancer.', { listType: 'atomic' }),
  externalName: field(10, fieldType.string, 'The DNS name this ExternalName service is a CNAME for.'),
  externalTrafficPolicy: field(11, fieldType.string, 'Whether external traffic goes to node-local endpoints only (Local) or to all (Cluster).'),
  healthCheckNodePort: field(12, fieldType.int32, 'The node port serving health checks for externalTrafficPolicy Local load balancers.'),
  publishNotReadyAddresses: field(13, fieldType.boolean, 'Publish addresses of pods even when they are not ready.'),
  sessionAffinityConfig: field(14, fieldType.ref(CORE + 'SessionAffinityConfig'), 'Settings of session affinity.'),
  ipFamilies: field(19, fieldType.array(fieldType.string), 'The IP families (IPv4, IPv6) assigned to the service.', { listType: 'atomic' }),
  ipFamilyPolicy: field(17, fieldType.string, 'Dual-stack policy: SingleStack, PreferDualStack or RequireDualStack.'),
  allocateLoadBalancerNodePorts: field(20, fieldType.boolean, 'Whether NodePorts are allocated for LoadBalancer services; defaults to true.', { pointer: true }),
  loadBalancerClass: field(21, fieldType.string, 'The class of load balancer implementation this service belongs to.'),
  internalTrafficPolicy: field(22, fieldType.string, 'Whether cluster-internal traffic goes to node-local endpoints only (Local) or to all (Cluster).'),
  trafficDistribution: field(23, fieldType.string, 'A preference for how traffic is spread over endpoints, e.g. PreferClose.'),
});

define(CORE + 'ServiceStatus', 'The observed state of a service.', {
  loadBalancer: field(1, fieldType.ref(CORE + 'LoadBalancerStatus'), 'The status of the load balancer, if any.'),
  conditions: field(2, fieldType.array(fieldType.ref(META + 'Condition')), 'The current conditions of the service.', { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] }),
});

define(CORE + 'EndpointSubset', 'A group of addresses with a common set of ports.', {
  addresses: field(1, fieldType.array(fieldType.ref(CORE + 'EndpointAddress')), 'Addresses that are ready to receive traffic.', { listType: 'atomic' }),
  notReadyAddresses: field(2, fieldType.array(fieldType.ref(CORE + 'EndpointAddress')), 'Addresses that are not ready yet or no longer ready.', { listType: 'atomic' }),
  ports: field(3, fieldType.array(fieldType.ref(CORE + 'EndpointPort')), 'The ports available on all addresses of the subset.', { listType: 'atomic' }),
});

define(CORE + 'ObjectReference', 'A reference to another object by kind, namespace, name and uid.', {
  kind: field(1, fieldType.string, 'Kind of the referent.'),
  namespace: field(2, fieldType.string, 'Namespace of the referent.'),
  name: field(3, fieldType.string, 'Name of the referent.'),
  uid: field(4, fieldType.string, 'UID of the referent.'),
  apiVersion: field(5, fieldType.string, 'API version of the referent.'),
  resourceVersion: field(6, fieldType.string, 'The resource version of the referent this reference was made to, if any.'),
  fieldPath: field(7, fieldType.string, 'A path to a part of the referent, such as one container: spec.containers{name}.'),
}, { mapType: 'atomic' });

define(CORE + 'EventSource', 'The component that reported an event.', {
  component: field(1, fieldType.string, 'The component that reported the event.'),
  host: field(2, fieldType.string, 'The node on which the event was generated.'),
});

define(CORE + 'EventSeries', 'A series of repeated occurrences of an event.', {
  count: field(1, fieldType.int32, 'Number of occurrences in the series up to the last heartbeat.'),
  lastObservedTime: field(2, fieldType.microTime, 'When the last occurrence was observed.'),
});

define(AUTHN + 'TokenRequestSpec', 'The parameters of a requested token.', {
  audiences: field(1, fieldType.array(fieldType.string), 'The intended audiences of the token; defaults to the API server\'s audiences.', { listType: 'atomic' }),
  expirationSeconds: field(4, fieldType.int64, 'Requested validity of the token in seconds; the issuer may change it.', { default: 3600, pointer: true }),
  boundObjectRef: field(3, fieldType.ref(AUTHN + 'BoundObjectReference'), 'An object the token is bound to; the token is invalid once that object is gone.'),
});

define(AUTHN + 'TokenRequestStatus', 'The result of a token request.', {
  token: field(1, fieldType.string, 'The opaque bearer token.', { required: true }),
  expirationTimestamp: field(2, fieldType.time, 'When the token expires.', { required: true }),
});

define(AUTOSCALING + 'ScaleSpec', 'The desired scale of a resource.', {
  replicas: field(1, fieldType.int32, 'The desired number of replicas.'),
});

define(AUTOSCALING + 'ScaleStatus', 'The current scale of a resource.', {
  replicas: field(1, fieldType.int32, 'The actual number of replicas observed.', { required: true }),
  selector: field(2, fieldType.string, 'The label selector of the pods counted in replicas, as a string.'),
});

define(CORE + 'NamespaceCondition', 'One observation of a namespace\'s state.', {
  type: field(1, fieldType.string, 'The kind of condition, e.g. NamespaceDeletionContentFailure.', { required: true }),
  status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
  lastTransitionTime: field(4, fieldType.time, 'The last time the condition moved from one status to another.'),
  reason: field(5, fieldType.string, 'A short, machine-readable CamelCase reason for the last change.'),
  message: field(6, fieldType.string, 'A human-readable message with details about the last change.'),
});

define(CORE + 'Taint', 'A taint on a node repels pods that do not tolerate it.', {
  key: field(1, fieldType.string, 'The taint key.', { required: true }),
  value: field(2, fieldType.string, 'The taint value.'),
  effect: field(3, fieldType.string, 'What happens to pods that do not tolerate the taint: NoSchedule, PreferNoSchedule or NoExecute.', { required: true }),
  timeAdded: field(4, fieldType.time, 'When a NoExecute taint was added.'),
});

define(CORE + 'NodeCondition', 'One observation of a node\'s state.', {
  type: field(1, fieldType.string, 'The kind of node condition, e.g. Ready, MemoryPressure, DiskPressure.', { required: true }),
  status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
  lastHeartbeatTime: field(3, fieldType.time, 'The last time the kubelet reported this condition.'),
  lastTransitionTime: field(4, fieldType.time, 'The last time the condition moved from one status to another.'),
  reason: field(5, fieldType.string, 'A short, machine-readable CamelCase reason for the last change.'),
  message: field(6, fieldType.string, 'A human-readable message with details about the last change.'),
});

define(CORE + 'NodeAddress', 'One address of a node.', {
  type: field(1, fieldType.string, 'The kind of address: Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS.', { required: true }),
  address: field(2, fieldType.string, 'The address itself.', { required: true }),
});

define(CORE + 'NodeDaemonEndpoints', 'The ports on which daemons of the node listen.', {
  kubeletEndpoint: field(1, fieldType.ref(CORE + 'DaemonEndpoint'), 'The port of the kubelet.'),
});

define(CORE + 'NodeSystemInfo', 'Identifying information about a node.', {
  machineID: field(1, fieldType.string, 'The machine ID reported by the node (/etc/machine-id).'),
  systemUUID: field(2, fieldType.string, 'The system UUID reported by the node.'),
  bootID: field(3, fieldType.string, 'The boot ID, which changes on every reboot.'),
  kernelVersion: field(4, fieldType.string, 'The kernel version (uname -r).'),
  osImage: field(5, fieldType.string, 'The operating system image (from /etc/os-release).'),
  containerRuntimeVersion: field(6, fieldType.string, 'The container runtime name and version, e.g. containerd://1.7.0.'),
  kubeletVersion: field(7, fieldType.string, 'The kubelet version.'),
  kubeProxyVersion: field(8, fieldType.string, 'Deprecated: the kube-proxy version, not reliable.'),
  operatingSystem: field(9, fieldType.string, 'The operating system, as GOOS reports it.'),
  architecture: field(10, fieldType.string, 'The CPU architecture, as GOARCH reports it.'),
  swap: field(11, fieldType.ref(CORE + 'NodeSwapStatus'), 'Swap memory information of the node.'),
});

define(CORE + 'ContainerImage', 'A container image present on a node.', {
  names: field(1, fieldType.array(fieldType.string), 'The names and digests by which the image is known.', { listType: 'atomic' }),
  sizeBytes: field(2, fieldType.int64, 'The size of the image in bytes.'),
});

define(CORE + 'AttachedVolume', 'A volume attached to a node.', {
  name: field(1, fieldType.string, 'The name of the attached volume.', { required: true }),
  devicePath: field(2, fieldType.string, 'Where the volume should be available on the node.', { required: true }),
});

define(CORE + 'NodeRuntimeHandler', 'A runtime handler available on a node.', {
  name: field(1, fieldType.string, 'The handler name; empty for the default handler.'),
  features: field(2, fieldType.ref(CORE + 'NodeRuntimeHandlerFeatures'), 'Features the handler supports.'),
});

define(CORE + 'NodeFeatures', 'Features implemented by a node\'s CRI runtime.', {
  supplementalGroupsPolicy: field(1, fieldType.boolean, 'Whether the runtime supports the supplementalGroupsPolicy field.', { pointer: true }),
});

define(CORE + 'ServicePort', 'One port a service exposes.', {
  name: field(1, fieldType.string, 'The port name, unique within the service; required when there are several ports.'),
  protocol: field(2, fieldType.string, 'The IP protocol: TCP (default), UDP or SCTP.', { default: 'TCP' }),
  appProtocol: field(6, fieldType.string, 'The application protocol of the port, as a hint to implementations.'),
  port: field(3, fieldType.int32, 'The port the service exposes.', { required: true }),
  targetPort: field(4, fieldType.intOrString, 'The port number or named container port on the pods; defaults to port.'),
  nodePort: field(5, fieldType.int32, 'The port on every node for NodePort and LoadBalancer services; allocated when unset.'),
});

define(CORE + 'SessionAffinityConfig', 'Settings of session affinity.', {
  clientIP: field(1, fieldType.ref(CORE + 'ClientIPConfig'), 'Settings of ClientIP session affinity.'),
});

define(CORE + 'LoadBalancerStatus', 'The status of a load balancer.', {
  ingress: field(1, fieldType.array(fieldType.ref(CORE + 'LoadBalancerIngress')), 'The ingress points of the load balancer.', { listType: 'atomic' }),
});

define(CORE + 'EndpointAddress', 'One endpoint address.', {
  ip: field(1, fieldType.string, 'The IP of this endpoint.', { required: true }),
  hostname: field(3, fieldType.string, 'The hostname of this endpoint.'),
  nodeName: field(4, fieldType.string, 'The node hosting this endpoint.'),
  targetRef: field(2, fieldType.ref(CORE + 'ObjectReference'), 'The object that provides this endpoint, usually a pod.'),
});

define(CORE + 'EndpointPort', 'One port of an endpoint.', {
  name: field(1, fieldType.string, 'The port name; must match a ServicePort name.'),
  port: field(2, fieldType.int32, 'The port number.', { required: true }),
  protocol: field(3, fieldType.string, 'The IP protocol: TCP (default), UDP or SCTP.', { default: 'TCP' }),
  appProtocol: field(4, fieldType.string, 'The application protocol of the port.'),
});

define(AUTHN + 'BoundObjectReference', 'A reference to the object a token is bound to.', {
  kind: field(1, fieldType.string, 'Kind of the referent: Pod, Secret or Node.'),
  apiVersion: field(2, fieldType.string, 'API version of the referent.'),
  name: field(3, fieldType.string, 'Name of the referent.'),
  uid: field(4, fieldType.string, 'UID of the referent.'),
});

define(CORE + 'DaemonEndpoint', 'The port of a daemon on a node.', {
  Port: field(1, fieldType.int32, 'The port number.', { required: true }),
});

define(CORE + 'NodeSwapStatus', 'Swap memory information of a node.', {
  capacity: field(1, fieldType.int64, 'Total swap memory in bytes.', { pointer: true }),
});

define(CORE + 'NodeRuntimeHandlerFeatures', 'Features of a runtime handler.', {
  recursiveReadOnlyMounts: field(1, fieldType.boolean, 'Whether the handler supports recursive read-only mounts.', { pointer: true }),
  userNamespaces: field(2, fieldType.boolean, 'Whether the handler supports user namespaces, volumes included.', { pointer: true }),
});

define(CORE + 'ClientIPConfig', 'Settings of ClientIP session affinity.', {
  timeoutSeconds: field(1, fieldType.int32, 'How long a client sticks to its endpoint, 1 to 86400 seconds; defaults to 10800.', { default: 10800, pointer: true }),
});

define(CORE + 'LoadBalancerIngress', 'One ingress point of a load balancer.', {
  ip: field(1, fieldType.string, 'The IP of the ingress point.'),
  hostname: field(2, fieldType.string, 'The DNS name of the ingress point.'),
  ipMode: field(3, fieldType.string, 'How traffic reaches the load balancer IP: VIP or Proxy.'),
  ports: field(4, fieldType.array(fieldType.ref(CORE + 'PortStatus')), 'The status of each service port on this ingress point.', { listType: 'atomic' }),
});

define(CORE + 'PortStatus', 'The status of one port of a load balancer.', {
  port: field(1, fieldType.int32, 'The port number.', { required: true }),
  protocol: field(2, fieldType.string, 'The protocol of the port: TCP, UDP or SCTP.', { required: true }),
  error: field(3, fieldType.string, 'Why the port is in error, as a CamelCase reason; empty when fine.'),
});

// ---------------------------------------------------------------------------------------
// Kinds

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const age = (o: any, now: number): string => translateAge(o.metadata?.creationTimestamp, now);
const AGE_DOC = 'Time since the object was created.';
/** upstream v1.LabelMetadataName */
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

registerKind({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  nameRule: 'label',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  definition: CORE + 'Namespace',
  // upstream's namespace storage implements no DeleteCollection
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status', 'finalize'],
  columns: [
    { name: 'Status', type: 'string', priority: 0, description: 'The status of the namespace', value: (o) => str(o.status?.phase) },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
  ],
  fieldSelectors: { 'status.phase': (o) => str(o.status?.phase) },
  // upstream: a new namespace carries the "kubernetes" finalizer, so deleting it waits
  // until everything in it is gone
  prepareForCreate: (o) => {
    o.spec ??= {};
    o.spec.finalizers ??= ['kubernetes'];
  },
  deletion: {
    holds: (o) => o.spec?.finalizers ?? [],
    prepareForDelete: (o) => {
      (o.status ??= {}).phase = 'Terminating';
    },
    readYourDelete: true,
  },
  defaults: (o) => {
    o.status ??= {};
    o.status.phase ||= 'Active';
    // upstream SetDefaults_Namespace and the strategy's Canonicalize: the immutable
    // kubernetes.io/metadata.name label, set on create and put back by every update
    // (so a namespace stored before this rule gets it on its next write)
    if (o.metadata?.name) (o.metadata.labels ??= {})[LABEL_METADATA_NAME] = o.metadata.name;
  },
});

// ---- Node

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** Roles from node-role.kubernetes.io/<role> labels and the legacy kubernetes.io/role label, sorted. */
function nodeRoles(node: any): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(node.metadata?.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeStatus(node: any): string {
  const status: string[] = [];
  // Only the Ready condition is summarized, as upstream.
  const ready = (node.status?.conditions ?? []).filter((c: any) => c?.type === 'Ready').pop();
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

const nodeAddress = (node: any, type: string): string =>
  (node.status?.addresses ?? []).find((a: any) => a?.type === type)?.address || '<none>';
const nodeInfo = (node: any, key: string): string => node.status?.nodeInfo?.[key] || '<unknown>';

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

registerKind({
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  namespaced: false,
  definition: CORE + 'Node',
  subresources: ['status'],
  columns: [
    { name: 'Status', type: 'string', priority: 0, description: 'The status of the node', value: (o) => nodeStatus(o) },
    { name: 'Roles', type: 'string', priority: 0, description: 'The roles of the node', value: (o) => nodeRoles(o) },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
    { name: 'Version', type: 'string', priority: 0, description: 'The kubelet version.', value: (o) => str(o.status?.nodeInfo?.kubeletVersion) },
    { name: 'Internal-IP', type: 'string', priority: 1, description: 'The first InternalIP address of the node.', value: (o) => nodeAddress(o, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, description: 'The first ExternalIP address of the node.', value: (o) => nodeAddress(o, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, description: 'The operating system image of the node.', value: (o) => nodeInfo(o, 'osImage') },
    { name: 'Kernel-Version', type: 'string', priority: 1, description: 'The kernel version of the node.', value: (o) => nodeInfo(o, 'kernelVersion') },
    { name: 'Container-Runtime', type: 'string', priority: 1, description: 'The container runtime name and version.', value: (o) => nodeInfo(o, 'containerRuntimeVersion') },
  ],
  fieldSelectors: { 'spec.unschedulable': (o) => String(o.spec?.unschedulable === true) },
  defaults: (o) => {
    applySchemaDefaults(o, CORE + 'Node');
    // Upstream: allocatable defaults to capacity.
    if (o.status?.capacity && !o.status.allocatable) o.status.allocatable = structuredClone(o.status.capacity);
  },
  validate: (o) => {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    (Array.isArray(o.spec?.taints) ? o.spec.taints : []).forEach((t: any, i: number) => {
      const p = `spec.taints[${i}]`;
      // key and effect being present is the schema's to check.
      if (typeof t?.effect === 'string' && t.effect !== '' && !TAINT_EFFECTS.includes(t.effect)) errs.push(fieldError.notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
      const id = `${t?.key}:${t?.effect}`;
      if (seen.has(id)) errs.push(fieldError.duplicate(p, `${t?.key}=${t?.value ?? ''}:${t?.effect}`));
      seen.add(id);
    });
    return errs;
  },
});

// ---- Service

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const LOAD_BALANCER_WIDTH = 16;

/** PORT(S): "80/TCP,443/TCP", with the node port as "80:30080/TCP". */
function servicePorts(svc: any): string {
  const ports: any[] = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p?.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p?.port}/${p?.protocol}`)).join(',');
}

function loadBalancerIngress(svc: any, wide: boolean): string {
  const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i?.ip || i?.hostname).filter(Boolean);
  const s = ips.join(',');
  return !wide && s.length > LOAD_BALANCER_WIDTH ? `${s.slice(0, LOAD_BALANCER_WIDTH - 3)}...` : s;
}

function serviceExternalIP(svc: any): string {
  const external: string[] = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      // The Table is the same for `get` and `get -o wide`, so the narrow form is used.
      const lb = loadBalancerIngress(svc, false);
      if (external.length) return [...(lb ? lb.split(',') : []), ...external].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(svc.spec?.externalName);
  }
  return '<unknown>';
}

const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
/** the kubelet's port, which a LoadBalancer may not expose (upstream ports.KubeletPort) */
const KUBELET_PORT = 10250;

/** upstream IsValidIP for the IPv4 this cluster serves (IPv6 is refused by allocation) */
function isIP(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  if (s.includes(':')) return /^[0-9a-fA-F:.]+$/.test(s);
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** upstream ExternallyAccessible: the types (and external IPs) that take traffic from outside */
const externallyAccessible = (type: string, spec: any) =>
  type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);

function validateService(svc: any, old?: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) errs.push(fieldError.notSupported('spec.type', type, SERVICE_TYPES));
  if (spec.sessionAffinity !== undefined && !SESSION_AFFINITIES.includes(spec.sessionAffinity)) {
    errs.push(fieldError.notSupported('spec.sessionAffinity', spec.sessionAffinity, SESSION_AFFINITIES));
  }
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (t !== undefined && !(t > 0 && t <= 86400)) {
      errs.push(fieldError.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400'));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(fieldError.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
  const clusterIPs: any[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const headless = spec.clusterIP === 'None' || clusterIPs[0] === 'None';
  if (type === 'ExternalName') {
    if (spec.clusterIP) errs.push(fieldError.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    if (clusterIPs.length) errs.push(fieldError.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (spec.ipFamilies?.length) errs.push(fieldError.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy) errs.push(fieldError.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    // the CNAME may end in a dot to say it is fully qualified
    const cname = typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '') : '';
    if (!cname) errs.push(fieldError.required('spec.externalName'));
    else for (const msg of isDNS1123Subdomain(cname)) errs.push(fieldError.invalid('spec.externalName', cname, msg));
  } else {
    if (ports.length === 0 && !headless) errs.push(fieldError.required('spec.ports'));
    if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
      errs.push(fieldError.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
    }
    errs.push(...validateClusterIPs(spec));
    // internalTrafficPolicy, externalTrafficPolicy and allocateLoadBalancerNodePorts are
    // always defaulted before validation: only their values are checked
    if (spec.internalTrafficPolicy !== undefined && !TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) errs.push(fieldError.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (type === 'LoadBalancer') {
    ports.forEach((p: any, i: number) => {
      if (p?.port === KUBELET_PORT) errs.push(fieldError.invalid(`spec.ports[${i}]`, p.port, `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`));
    });
  } else if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null) {
    errs.push(fieldError.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (!externallyAccessible(type, spec)) {
    if (spec.externalTrafficPolicy) errs.push(fieldError.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (spec.externalTrafficPolicy && !TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(fieldError.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  const needsHealthCheck = type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort !== 0) {
    if (!needsHealthCheck) {
      errs.push(fieldError.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    } else errs.push(...validatePortNumber('spec.healthCheckNodePort', spec.healthCheckNodePort));
  }
  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip: unknown, i: number) => {
    if (!isIP(ip)) errs.push(fieldError.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  const names = new Set<string>();
  const portIds = new Set<string>();
  const nodePortIds = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const pp = `spec.ports[${i}]`;
    if (ports.length > 1 && !p?.name) errs.push(fieldError.required(`${pp}.name`));
    if (p?.name) {
      if (names.has(p.name)) errs.push(fieldError.duplicate(`${pp}.name`, p.name));
      names.add(p.name);
    }
    if (p?.port !== undefined) errs.push(...validatePortNumber(`${pp}.port`, p.port));
    const protocol = p?.protocol ?? 'TCP';
    if (!PROTOCOLS.includes(protocol)) errs.push(fieldError.notSupported(`${pp}.protocol`, protocol, PROTOCOLS));
    const id = `${p?.port}/${protocol}`;
    if (portIds.has(id)) errs.push(fieldError.duplicate(pp, { port: p?.port, protocol }));
    portIds.add(id);
    if (typeof p?.targetPort === 'number') errs.push(...validatePortNumber(`${pp}.targetPort`, p.targetPort));
    if (p?.nodePort !== undefined && p.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') {
        errs.push(fieldError.forbidden(`${pp}.nodePort`, `may not be used when \`type\` is '${type}'`));
      } else errs.push(...validatePortNumber(`${pp}.nodePort`, p.nodePort));
      const nid = `${p.nodePort}/${protocol}`;
      if (nodePortIds.has(nid)) errs.push(fieldError.duplicate(`${pp}.nodePort`, p.nodePort));
      nodePortIds.add(nid);
    }
  });
  const oldIP = old?.spec?.clusterIP;
  if (old && (old.spec?.type ?? 'ClusterIP') !== 'ExternalName' && oldIP && type !== 'ExternalName' && spec.clusterIP !== oldIP) {
    errs.push(fieldError.invalid('spec.clusterIPs[0]', spec.clusterIP ?? '', 'may not change once set'));
  }
  return errs;
}

/** upstream ValidateServiceClusterIPsRelatedFields (single-stack part) */
function validateClusterIPs(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const ips: any[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (spec.clusterIP) {
    // (defaulting mirrors clusterIP into an empty clusterIPs)
    if (ips.length && ips[0] !== spec.clusterIP) errs.push(fieldError.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length) {
    errs.push(fieldError.invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const families: any[] = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(fieldError.notSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    if (seen.has(f)) errs.push(fieldError.duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(fieldError.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) errs.push(fieldError.invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      return;
    }
    if (!isIP(ip)) errs.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  if (ips.length > 2) errs.push(fieldError.invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  return errs;
}

registerKind({
  group: '',
  version: 'v1',
  kind: 'Service',
  nameRule: 'dns1035',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  definition: CORE + 'Service',
  subresources: ['status'],
  columns: [
    { name: 'Type', type: 'string', priority: 0, description: 'How the service is exposed.', value: (o) => str(o.spec?.type) },
    { name: 'Cluster-IP', type: 'string', priority: 0, description: 'The virtual IP of the service.', value: (o) => o.spec?.clusterIPs?.[0] || o.spec?.clusterIP || '<none>' },
    { name: 'External-IP', type: 'string', priority: 0, description: 'External IPs and load balancer ingress points of the service.', value: (o) => serviceExternalIP(o) },
    { name: 'Port(s)', type: 'string', priority: 0, description: 'The ports the service exposes.', value: (o) => servicePorts(o) },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
    { name: 'Selector', type: 'string', priority: 1, description: 'The label selector of the pods behind the service.', value: (o) => formatLabels(o.spec?.selector) },
  ],
  defaults: (o) => {
    applySchemaDefaults(o, CORE + 'Service');
    const spec = o.spec;
    if (!spec) return;
    for (const p of spec.ports ?? []) if (p && p.targetPort === undefined && p.port !== undefined) p.targetPort = p.port;
    if (spec.type !== 'ExternalName') {
      spec.internalTrafficPolicy ??= 'Cluster';
      // clusterIP and clusterIPs mirror each other (upstream NormalizeClusterIPs)
      if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
      else if (!spec.clusterIP && typeof spec.clusterIPs?.[0] === 'string' && spec.clusterIPs[0]) spec.clusterIP = spec.clusterIPs[0];
    }
    if (externallyAccessible(spec.type, spec)) spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    if (spec.sessionAffinity === 'ClientIP') {
      spec.sessionAffinityConfig ??= {};
      spec.sessionAffinityConfig.clientIP ??= {};
      spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
    }
  },
  validate: validateService,
});

// ---- Endpoints

/** ENDPOINTS: up to three "ip:port" entries, then " + N more...", as upstream. */
function formatEndpoints(ep: any): string {
  const subsets: any[] = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  const add = (s: string) => {
    if (list.length < max) list.push(s);
    count++;
  };
  for (const ss of subsets) {
    const addresses: any[] = ss?.addresses ?? [];
    const ports: any[] = ss?.ports ?? [];
    // Headless services may have addresses without ports.
    if (ports.length === 0) for (const a of addresses) add(str(a?.ip));
    for (const p of ports) for (const a of addresses) add(str(a?.ip).includes(':') ? `[${a.ip}]:${p?.port}` : `${a?.ip}:${p?.port}`);
  }
  const joined = list.join(',');
  return count > max ? `${joined} + ${count - max} more...` : joined;
}

registerKind({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  definition: CORE + 'Endpoints',
  columns: [
    { name: 'Endpoints', type: 'string', priority: 0, description: 'The addresses and ports of the endpoints.', value: (o) => formatEndpoints(o) },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
  ],
  defaults: (o) => applySchemaDefaults(o, CORE + 'Endpoints'),
  validate: (o) => {
    const errs: FieldError[] = [];
    (Array.isArray(o.subsets) ? o.subsets : []).forEach((ss: any, i: number) => {
      (ss?.ports ?? []).forEach((p: any, j: number) => {
        if (p?.port !== undefined) errs.push(...validatePortNumber(`subsets[${i}].ports[${j}].port`, p.port));
        if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) {
          errs.push(fieldError.notSupported(`subsets[${i}].ports[${j}].protocol`, p.protocol, PROTOCOLS));
        }
      });
    });
    return errs;
  },
});

// ---- ConfigMap and Secret

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const MAX_SECRET_BYTES = 1024 * 1024;

function validateDataKeys(path: string, data: unknown): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of Object.keys(data && typeof data === 'object' ? data : {})) {
    const p = `${path}[${key}]`;
    if (key.length > 253) errs.push(fieldError.invalid(p, key, 'must be no more than 253 characters'));
    if (!CONFIG_KEY.test(key)) {
      errs.push(
        fieldError.invalid(
          p,
          key,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
      );
    }
    if (key === '.' || key === '..') errs.push(fieldError.invalid(p, key, `must not be '${key}'`));
    else if (key.startsWith('..')) errs.push(fieldError.invalid(p, key, "must not start with '..'"));
  }
  return errs;
}

const canonicalJSON = (v: unknown): string =>
  JSON.stringify(v ?? {}, (_k, val) => (val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort()) : val));

/** Once `immutable` is true, the data fields may not change and it may not be unset. */
function validateImmutable(o: any, old: any, dataFields: string[]): FieldError[] {
  if (!old || old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of dataFields) {
    if (canonicalJSON(o[f]) !== canonicalJSON(old[f])) errs.push(fieldError.forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

registerKind({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  definition: CORE + 'ConfigMap',
  columns: [
    { name: 'Data', type: 'string', priority: 0, description: 'Number of keys in data and binaryData.', value: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
  ],
  validate: (o, old) => {
    const errs = [...validateDataKeys('data', o.data), ...validateDataKeys('binaryData', o.binaryData)];
    for (const key of Object.keys(o.binaryData ?? {})) {
      if (o.data && Object.hasOwn(o.data, key)) errs.push(fieldError.invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
    }
    errs.push(...validateImmutable(o, old, ['data', 'binaryData']));
    return errs;
  },
});

/** Keys each built-in secret type must carry. */
const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

function validateSecret(o: any, old?: any): FieldError[] {
  const errs = validateDataKeys('data', o.data);
  const data: Record<string, string> = o.data ?? {};
  let size = 0;
  for (const v of Object.values(data)) size += typeof v === 'string' ? Buffer.byteLength(v, 'base64') : 0;
  if (size > MAX_SECRET_BYTES) errs.push({ field: 'data', reason: 'FieldValueTooLong', message: `Too long: may not be more than ${MAX_SECRET_BYTES} bytes` });
  const type = o.type ?? 'Opaque';
  for (const key of SECRET_REQUIRED_KEYS[type] ?? []) if (!Object.hasOwn(data, key)) errs.push(fieldError.required(`data[${key}]`));
  if (type === 'kubernetes.io/service-account-token' && !o.metadata?.annotations?.['kubernetes.io/service-account.name']) {
    errs.push(fieldError.required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  if (type === 'kubernetes.io/basic-auth' && !Object.hasOwn(data, 'username') && !Object.hasOwn(data, 'password')) {
    errs.push(fieldError.required('data[username]'));
  }
  if (old && (old.type ?? 'Opaque') !== type) errs.push(fieldError.invalid('type', type, 'field is immutable'));
  errs.push(...validateImmutable(o, old, ['data']));
  return errs;
}

registerKind({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  definition: CORE + 'Secret',
  columns: [
    { name: 'Type', type: 'string', priority: 0, description: 'The kind of secret.', value: (o) => str(o.type) },
    { name: 'Data', type: 'string', priority: 0, description: 'Number of keys in data.', value: (o) => Object.keys(o.data ?? {}).length },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
  ],
  fieldSelectors: { type: (o) => str(o.type) },
  defaults: (o) => {
    applySchemaDefaults(o, CORE + 'Secret');
    // stringData is write-only: upstream folds it into data (base64) and never stores it.
    if (o.stringData && typeof o.stringData === 'object') {
      o.data ??= {};
      for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      delete o.stringData;
    }
  },
  validate: validateSecret,
});

registerKind({
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,
  definition: CORE + 'ServiceAccount',
  subresources: ['token'],
  columns: [
    { name: 'Secrets', type: 'string', priority: 0, description: 'Number of legacy token secrets of the service account.', value: (o) => (o.secrets ?? []).length },
    { name: 'Age', type: 'string', priority: 0, description: AGE_DOC, value: age },
  ],
});

// ---- Event

function eventTimes(e: any, now: number): { first: string; last: string; count: number } {
  let first = translateAge(e.firstTimestamp, now);
  if (!e.firstTimestamp) first = translateAge(e.eventTime, now);
  let last = e.lastTimestamp ? translateAge(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = translateAge(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    // Events written through events.k8s.io have no count: they happened once.
    count = 1;
  }
  return { first, last, count };
}

function eventObject(e: any): string {
  const kind = str(e.involvedObject?.kind).toLowerCase();
  return e.involvedObject?.name ? `${kind}/${e.involvedObject.name}` : kind;
}

/**
 * Upstream serves an unset metav1.Time as null, never leaves the key out: clients such as
 * `kubectl get events --sort-by=.lastTimestamp` find no value to sort on without it.
 */
export function nullEventTimes(e: any): void {
  for (const k of ['firstTimestamp', 'lastTimestamp', 'eventTime']) if (e[k] === undefined) e[k] = null;
}

function eventSource(e: any): string {
  const component = e.source?.component || str(e.reportingComponent);
  const instance = e.source?.host || str(e.reportingInstance);
  return instance ? `${component}, ${instance}` : component;
}

registerKind({
  group: '',
  version: 'v1',
  kind: 'Event',
  nameRule: 'path-segment',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  definition: CORE + 'Event',
  defaults: nullEventTimes,
  // Upstream's event Table has no leading NAME: the name is the last, wide-only column,
  // marked by format "name".
  columns: [
    { name: 'Last Seen', type: 'string', priority: 0, description: 'When the most recent occurrence was recorded.', value: (o, now) => eventTimes(o, now).last },
    { name: 'Type', type: 'string', priority: 0, description: 'The type of event: Normal or Warning.', value: (o) => str(o.type) },
    { name: 'Reason', type: 'string', priority: 0, description: 'Why the event happened.', value: (o) => str(o.reason) },
    { name: 'Object', type: 'string', priority: 0, description: 'The object this event is about.', value: (o) => eventObject(o) },
    { name: 'Subobject', type: 'string', priority: 1, description: 'The part of the object the event is about.', value: (o) => str(o.involvedObject?.fieldPath) },
    { name: 'Source', type: 'string', priority: 1, description: 'The component that reported the event.', value: (o) => eventSource(o) },
    { name: 'Message', type: 'string', priority: 0, description: 'A human-readable description of the event.', value: (o) => str(o.message).trim() },
    { name: 'First Seen', type: 'string', priority: 1, description: 'When the event was first recorded.', value: (o, now) => eventTimes(o, now).first },
    { name: 'Count', type: 'string', priority: 1, description: 'How many times the event occurred.', value: (o, now) => eventTimes(o, now).count },
    { name: 'Name', type: 'string', format: 'name', priority: 1, description: 'The name of the event.', value: (o) => str(o.metadata?.name) },
  ],
  fieldSelectors: {
    'involvedObject.kind': (o) => str(o.involvedObject?.kind),
    'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
    'involvedObject.name': (o) => str(o.involvedObject?.name),
    'involvedObject.uid': (o) => str(o.involvedObject?.uid),
    'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(o.source?.component),
    type: (o) => str(o.type),
  },
  validate: (o) => {
    const ns = o.metadata?.namespace;
    const involved = o.involvedObject?.namespace;
    if (ns && involved && ns !== involved) {
      return [fieldError.invalid('involvedObject.namespace', involved, 'does not match event.namespace')];
    }
    return [];
  },
});
