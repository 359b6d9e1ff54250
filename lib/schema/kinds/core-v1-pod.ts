/**
 * core/v1 Pod, PodTemplate and every type a PodSpec reaches. JSON names, protobuf field
 * numbers, required flags, strategic-merge keys and list types follow k8s.io/api core/v1
 * (release 1.34: types.go struct tags and generated.proto). Rarely used in-tree volume
 * sources, generic ephemeral volumes and a few alpha status fields are `fieldType.any`: accepted
 * and kept as they are, not validated or decoded from protobuf.
 *
 * Defaults on fields are the static ones upstream's defaulters apply; computed defaults
 * (imagePullPolicy, requests from limits, host ports) live in the kind's `defaults`
 * (pod/defaults.ts). The pod's table cells are in pod/printing.ts, its validation in
 * pod/validation.ts.
 * Required flags are upstream's OpenAPI ones, except that status fields the kubelet
 * writes empty (ContainerStatus.image/imageID, and NodeSystemInfo, TokenRequestSpec.audiences
 * and metav1.Condition.message in core-v1.ts) are optional: the schema validator enforces
 * `required`, which upstream's hand-written validation does not for them.
 */
import { jsonEqual } from '../../api/canonical.js';
import { formatLabels } from '../../api/labels.js';
import { CORE, define, defineObject, field, META, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import { translateAge } from '../printing.js';
import { defaultPodSpec, qosClass } from './pod/defaults.js';
import { podStatusCells, readinessGatesCell } from './pod/printing.js';
import { validatePodSpec, validatePodSpecUpdate } from './pod/validation.js';
import './meta-v1.js';

defineObject(CORE + 'Pod', 'A Pod is a group of containers scheduled together onto one node, sharing network and storage.', {
  spec: field(2, fieldType.ref(CORE + 'PodSpec'), 'The desired behaviour of the pod: its containers, volumes and scheduling constraints.'),
  status: field(3, fieldType.ref(CORE + 'PodStatus'), 'The most recently observed status of the pod; may trail the real state.'),
});

defineObject(CORE + 'PodTemplate', 'A PodTemplate stores a pod template for later use.', {
  template: field(2, fieldType.ref(CORE + 'PodTemplateSpec'), 'The template of the pods to create.'),
});

define(CORE + 'PodSpec', 'The specification of a pod.', {
  volumes: field(1, fieldType.array(fieldType.ref(CORE + 'Volume')), 'Volumes that containers of the pod can mount.', { mergeKey: 'name', strategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] }),
  initContainers: field(20, fieldType.array(fieldType.ref(CORE + 'Container')), 'Containers run one after another, to completion, before the app containers start.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  containers: field(2, fieldType.array(fieldType.ref(CORE + 'Container')), 'The containers of the pod; there must be at least one.', { required: true, mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  ephemeralContainers: field(34, fieldType.array(fieldType.ref(CORE + 'EphemeralContainer')), 'Debugging containers added to a running pod through the ephemeralcontainers subresource.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  restartPolicy: field(3, fieldType.string, 'When containers are restarted: Always, OnFailure or Never; defaults to Always.', { default: 'Always' }),
  terminationGracePeriodSeconds: field(4, fieldType.int64, 'Seconds the pod is given to stop gracefully before being killed; defaults to 30.', { default: 30, pointer: true }),
  activeDeadlineSeconds: field(5, fieldType.int64, 'Seconds, counted from the pod\'s start, after which the system actively fails the pod.', { pointer: true }),
  dnsPolicy: field(6, fieldType.string, 'How the pod\'s DNS is configured: ClusterFirst (default), ClusterFirstWithHostNet, Default or None.', { default: 'ClusterFirst' }),
  nodeSelector: field(7, fieldType.map(fieldType.string), 'Labels a node must carry for the pod to fit on it.', { mapType: 'atomic' }),
  serviceAccountName: field(8, fieldType.string, 'The service account the pod runs as.'),
  serviceAccount: field(9, fieldType.string, 'Deprecated alias of serviceAccountName.'),
  automountServiceAccountToken: field(21, fieldType.boolean, 'Whether an API token is mounted into the pod automatically.', { pointer: true }),
  nodeName: field(10, fieldType.string, 'The node the pod is bound to; set by the scheduler, or by the user to bypass it.'),
  hostNetwork: field(11, fieldType.boolean, 'Use the node\'s network namespace.'),
  hostPID: field(12, fieldType.boolean, 'Use the node\'s process ID namespace.'),
  hostIPC: field(13, fieldType.boolean, 'Use the node\'s IPC namespace.'),
  shareProcessNamespace: field(27, fieldType.boolean, 'Share one process namespace among all containers of the pod.', { pointer: true }),
  securityContext: field(14, fieldType.ref(CORE + 'PodSecurityContext'), 'Pod-level security attributes and common container settings.', { default: {} }),
  imagePullSecrets: field(15, fieldType.array(fieldType.ref(CORE + 'LocalObjectReference')), 'Secrets in the pod\'s namespace used to pull the container images.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  hostname: field(16, fieldType.string, 'The pod\'s hostname; defaults to a system-chosen value.'),
  subdomain: field(17, fieldType.string, 'With hostname, gives the pod the DNS name <hostname>.<subdomain>.<namespace>.svc.<cluster-domain>.'),
  affinity: field(18, fieldType.ref(CORE + 'Affinity'), 'Node and inter-pod affinity constraints for scheduling.'),
  schedulerName: field(19, fieldType.string, 'The scheduler that places this pod; defaults to default-scheduler.', { default: 'default-scheduler' }),
  tolerations: field(22, fieldType.array(fieldType.ref(CORE + 'Toleration')), 'Taints this pod tolerates.', { listType: 'atomic' }),
  hostAliases: field(23, fieldType.array(fieldType.ref(CORE + 'HostAlias')), 'Extra entries for the pod\'s /etc/hosts file.', { mergeKey: 'ip', strategy: 'merge', listType: 'map', listMapKeys: ['ip'] }),
  priorityClassName: field(24, fieldType.string, 'The priority class giving the pod its priority.'),
  priority: field(25, fieldType.int32, 'The pod\'s priority, resolved from priorityClassName by admission.', { pointer: true }),
  dnsConfig: field(26, fieldType.ref(CORE + 'PodDNSConfig'), 'DNS parameters merged into those generated from dnsPolicy.'),
  readinessGates: field(28, fieldType.array(fieldType.ref(CORE + 'PodReadinessGate')), 'Extra conditions that must be True for the pod to be ready.', { listType: 'atomic' }),
  runtimeClassName: field(29, fieldType.string, 'The RuntimeClass to run the pod with.'),
  enableServiceLinks: field(30, fieldType.boolean, 'Whether service information is injected into environment variables; defaults to true.', { default: true, pointer: true }),
  preemptionPolicy: field(31, fieldType.string, 'Whether the pod may preempt lower-priority pods: PreemptLowerPriority (default) or Never.'),
  overhead: field(32, fieldType.map(fieldType.quantity), 'Resource overhead of running the pod on its RuntimeClass, set by admission.'),
  topologySpreadConstraints: field(33, fieldType.array(fieldType.ref(CORE + 'TopologySpreadConstraint')), 'How pods matching a selector should be spread across topology domains.', { mergeKey: 'topologyKey', strategy: 'merge', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] }),
  setHostnameAsFQDN: field(35, fieldType.boolean, 'Set the pod\'s hostname to its fully qualified domain name.', { pointer: true }),
  os: field(36, fieldType.ref(CORE + 'PodOS'), 'The operating system the containers are built for.'),
  hostUsers: field(37, fieldType.boolean, 'Whether the pod uses the host\'s user namespace; false gives it its own.', { pointer: true }),
  schedulingGates: field(38, fieldType.array(fieldType.ref(CORE + 'PodSchedulingGate')), 'Gates that hold the pod from being scheduled while any remains.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  resourceClaims: field(39, fieldType.array(fieldType.ref(CORE + 'PodResourceClaim')), 'Dynamic resources the pod needs, as ResourceClaims.', { mergeKey: 'name', strategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] }),
  resources: field(40, fieldType.ref(CORE + 'ResourceRequirements'), 'Pod-level total resource requests and limits shared by all containers.'),
  hostnameOverride: field(41, fieldType.string, 'An explicit hostname for the pod, overriding the generated one.'),
});

define(CORE + 'PodStatus', 'The observed state of a pod.', {
  observedGeneration: field(17, fieldType.int64, 'The pod generation the kubelet last acted on.'),
  phase: field(1, fieldType.string, 'Where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.'),
  conditions: field(2, fieldType.array(fieldType.ref(CORE + 'PodCondition')), 'The current conditions of the pod, such as PodScheduled and Ready.', { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] }),
  message: field(3, fieldType.string, 'A human-readable message on why the pod is in this state.'),
  reason: field(4, fieldType.string, 'A brief CamelCase reason why the pod is in this state, e.g. Evicted.'),
  nominatedNodeName: field(11, fieldType.string, 'The node preemption made room on for this pod; it may still land elsewhere.'),
  hostIP: field(5, fieldType.string, 'The primary IP of the node the pod is on.'),
  hostIPs: field(16, fieldType.array(fieldType.ref(CORE + 'HostIP')), 'The IPs (one per family) of the node the pod is on.', { mergeKey: 'ip', strategy: 'merge', listType: 'atomic' }),
  podIP: field(6, fieldType.string, 'The primary IP of the pod.'),
  podIPs: field(12, fieldType.array(fieldType.ref(CORE + 'PodIP')), 'The IPs (one per family) of the pod; the first equals podIP.', { mergeKey: 'ip', strategy: 'merge', listType: 'map', listMapKeys: ['ip'] }),
  startTime: field(7, fieldType.time, 'When the kubelet acknowledged the pod, before pulling images.'),
  initContainerStatuses: field(10, fieldType.array(fieldType.ref(CORE + 'ContainerStatus')), 'The status of each init container.', { listType: 'atomic' }),
  containerStatuses: field(8, fieldType.array(fieldType.ref(CORE + 'ContainerStatus')), 'The status of each app container.', { listType: 'atomic' }),
  qosClass: field(9, fieldType.string, 'The quality-of-service class of the pod: Guaranteed, Burstable or BestEffort.'),
  ephemeralContainerStatuses: field(13, fieldType.array(fieldType.ref(CORE + 'ContainerStatus')), 'The status of each ephemeral container.', { listType: 'atomic' }),
  resize: field(14, fieldType.string, 'Deprecated: the state of a requested in-place resize.'),
  resourceClaimStatuses: field(15, fieldType.array(fieldType.ref(CORE + 'PodResourceClaimStatus')), 'The names of the ResourceClaims generated for the pod.', { mergeKey: 'name', strategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] }),
  extendedResourceClaimStatus: field(18, fieldType.any, 'The ResourceClaim generated for extended resources.'),
});

define(CORE + 'PodTemplateSpec', 'The metadata and spec of pods to be created from this template.', {
  metadata: field(1, fieldType.ref(META + 'ObjectMeta'), 'Metadata (labels, annotations) given to pods created from this template.'),
  spec: field(2, fieldType.ref(CORE + 'PodSpec'), 'The pod spec given to pods created from this template.'),
});

define(CORE + 'Volume', 'A named volume in a pod that its containers can mount.', {
  name: field(1, fieldType.string, 'The volume name, a DNS label unique within the pod.', { required: true }),
  hostPath: field(1, fieldType.ref(CORE + 'HostPathVolumeSource'), 'A file or directory on the node, mounted into the pod.', { protoWrapper: 2 }),
  emptyDir: field(2, fieldType.ref(CORE + 'EmptyDirVolumeSource'), 'A temporary directory that lives as long as the pod.', { protoWrapper: 2 }),
  gcePersistentDisk: field(3, fieldType.any, 'Deprecated in-tree GCE persistent disk volume.', { protoWrapper: 2 }),
  awsElasticBlockStore: field(4, fieldType.any, 'Deprecated in-tree AWS EBS volume.', { protoWrapper: 2 }),
  gitRepo: field(5, fieldType.any, 'Deprecated: a directory cloned from a git repository.', { protoWrapper: 2 }),
  secret: field(6, fieldType.ref(CORE + 'SecretVolumeSource'), 'The keys of a Secret, written as files.', { protoWrapper: 2 }),
  nfs: field(7, fieldType.ref(CORE + 'NFSVolumeSource'), 'An NFS export, mounted into the pod.', { protoWrapper: 2 }),
  iscsi: field(8, fieldType.any, 'An iSCSI disk.', { protoWrapper: 2 }),
  glusterfs: field(9, fieldType.any, 'Removed in-tree GlusterFS volume.', { protoWrapper: 2 }),
  persistentVolumeClaim: field(10, fieldType.ref(CORE + 'PersistentVolumeClaimVolumeSource'), 'A PersistentVolumeClaim in the pod\'s namespace.', { protoWrapper: 2 }),
  rbd: field(11, fieldType.any, 'Removed in-tree Ceph RBD volume.', { protoWrapper: 2 }),
  flexVolume: field(12, fieldType.any, 'Deprecated exec-based flex volume.', { protoWrapper: 2 }),
  cinder: field(13, fieldType.any, 'Deprecated in-tree OpenStack Cinder volume.', { protoWrapper: 2 }),
  cephfs: field(14, fieldType.any, 'Removed in-tree CephFS volume.', { protoWrapper: 2 }),
  flocker: field(15, fieldType.any, 'Removed in-tree Flocker volume.', { protoWrapper: 2 }),
  downwardAPI: field(16, fieldType.ref(CORE + 'DownwardAPIVolumeSource'), 'Pod information written as files.', { protoWrapper: 2 }),
  fc: field(17, fieldType.any, 'A Fibre Channel disk.', { protoWrapper: 2 }),
  azureFile: field(18, fieldType.any, 'Deprecated in-tree Azure File volume.', { protoWrapper: 2 }),
  configMap: field(19, fieldType.ref(CORE + 'ConfigMapVolumeSource'), 'The keys of a ConfigMap, written as files.', { protoWrapper: 2 }),
  vsphereVolume: field(20, fieldType.any, 'Deprecated in-tree vSphere volume.', { protoWrapper: 2 }),
  quobyte: field(21, fieldType.any, 'Removed in-tree Quobyte volume.', { protoWrapper: 2 }),
  azureDisk: field(22, fieldType.any, 'Deprecated in-tree Azure Disk volume.', { protoWrapper: 2 }),
  photonPersistentDisk: field(23, fieldType.any, 'Removed in-tree Photon Controller disk.', { protoWrapper: 2 }),
  projected: field(26, fieldType.ref(CORE + 'ProjectedVolumeSource'), 'Several sources (secrets, config maps, downward API, tokens) merged into one directory.', { protoWrapper: 2 }),
  portworxVolume: field(24, fieldType.any, 'Deprecated in-tree Portworx volume.', { protoWrapper: 2 }),
  scaleIO: field(25, fieldType.any, 'Removed in-tree ScaleIO volume.', { protoWrapper: 2 }),
  storageos: field(27, fieldType.any, 'Removed in-tree StorageOS volume.', { protoWrapper: 2 }),
  csi: field(28, fieldType.ref(CORE + 'CSIVolumeSource'), 'An ephemeral volume provided by a CSI driver.', { protoWrapper: 2 }),
  ephemeral: field(29, fieldType.any, 'A generic ephemeral volume provisioned from a claim template for the pod\'s lifetime.', { protoWrapper: 2 }),
  image: field(30, fieldType.ref(CORE + 'ImageVolumeSource'), 'An OCI image or artifact, mounted read-only.', { protoWrapper: 2 }),
});

define(CORE + 'Container', 'A single application container that runs within a pod.', {
  name: field(1, fieldType.string, 'The container name, a DNS label unique within the pod.', { required: true }),
  image: field(2, fieldType.string, 'The container image to run.'),
  command: field(3, fieldType.array(fieldType.string), 'The entrypoint, not run in a shell; defaults to the image\'s ENTRYPOINT.', { listType: 'atomic' }),
  args: field(4, fieldType.array(fieldType.string), 'Arguments to the entrypoint; defaults to the image\'s CMD.', { listType: 'atomic' }),
  workingDir: field(5, fieldType.string, 'The working directory; defaults to the runtime\'s or image\'s.'),
  ports: field(6, fieldType.array(fieldType.ref(CORE + 'ContainerPort')), 'Ports the container exposes, for information; unlisted ports can still be reached.', { mergeKey: 'containerPort', strategy: 'merge', listType: 'map', listMapKeys: ['containerPort', 'protocol'] }),
  envFrom: field(19, fieldType.array(fieldType.ref(CORE + 'EnvFromSource')), 'Sources of environment variables, expanded before env.', { listType: 'atomic' }),
  env: field(7, fieldType.array(fieldType.ref(CORE + 'EnvVar')), 'Environment variables to set in the container.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  resources: field(8, fieldType.ref(CORE + 'ResourceRequirements'), 'Compute resources the container requests and is limited to.'),
  resizePolicy: field(23, fieldType.array(fieldType.ref(CORE + 'ContainerResizePolicy')), 'Whether resizing each resource in place needs a container restart.', { listType: 'atomic' }),
  restartPolicy: field(24, fieldType.string, 'For init containers, Always makes a sidecar that keeps running beside the app containers.'),
  restartPolicyRules: field(25, fieldType.array(fieldType.ref(CORE + 'ContainerRestartRule')), 'Rules deciding, from the exit code, whether an exited container is restarted.', { listType: 'atomic' }),
  volumeMounts: field(9, fieldType.array(fieldType.ref(CORE + 'VolumeMount')), 'Pod volumes to mount into the container\'s filesystem.', { mergeKey: 'mountPath', strategy: 'merge', listType: 'map', listMapKeys: ['mountPath'] }),
  volumeDevices: field(21, fieldType.array(fieldType.ref(CORE + 'VolumeDevice')), 'Block devices the container uses.', { mergeKey: 'devicePath', strategy: 'merge', listType: 'map', listMapKeys: ['devicePath'] }),
  livenessProbe: field(10, fieldType.ref(CORE + 'Probe'), 'Periodic check of liveness; the container is restarted when it fails.'),
  readinessProbe: field(11, fieldType.ref(CORE + 'Probe'), 'Periodic check of readiness; the pod leaves service endpoints when it fails.'),
  startupProbe: field(22, fieldType.ref(CORE + 'Probe'), 'Check that the container has started; other probes wait until it succeeds.'),
  lifecycle: field(12, fieldType.ref(CORE + 'Lifecycle'), 'Actions the system takes on container start and stop.'),
  terminationMessagePath: field(13, fieldType.string, 'The file whose contents become the container\'s termination message; defaults to /dev/termination-log.', { default: '/dev/termination-log' }),
  terminationMessagePolicy: field(20, fieldType.string, 'How the termination message is filled: File (default) or FallbackToLogsOnError.', { default: 'File' }),
  imagePullPolicy: field(14, fieldType.string, 'When to pull the image: Always, Never or IfNotPresent; defaults by the image tag.'),
  securityContext: field(15, fieldType.ref(CORE + 'SecurityContext'), 'Security options of the container, overriding the pod\'s.'),
  stdin: field(16, fieldType.boolean, 'Allocate a stdin buffer for the container.'),
  stdinOnce: field(17, fieldType.boolean, 'Close stdin after the first attached client disconnects.'),
  tty: field(18, fieldType.boolean, 'Allocate a TTY for the container; needs stdin.'),
});

define(CORE + 'EphemeralContainer', 'A temporary container added to a running pod for debugging.', {
  name: field(1, fieldType.string, 'The container name, a DNS label unique within the pod.', { required: true, protoWrapper: 1 }),
  image: field(2, fieldType.string, 'The container image to run.', { protoWrapper: 1 }),
  command: field(3, fieldType.array(fieldType.string), 'The entrypoint, not run in a shell; defaults to the image\'s ENTRYPOINT.', { listType: 'atomic', protoWrapper: 1 }),
  args: field(4, fieldType.array(fieldType.string), 'Arguments to the entrypoint; defaults to the image\'s CMD.', { listType: 'atomic', protoWrapper: 1 }),
  workingDir: field(5, fieldType.string, 'The working directory; defaults to the runtime\'s or image\'s.', { protoWrapper: 1 }),
  ports: field(6, fieldType.array(fieldType.ref(CORE + 'ContainerPort')), 'Not allowed for ephemeral containers.', { mergeKey: 'containerPort', strategy: 'merge', listType: 'map', listMapKeys: ['containerPort', 'protocol'], protoWrapper: 1 }),
  envFrom: field(19, fieldType.array(fieldType.ref(CORE + 'EnvFromSource')), 'Sources of environment variables, expanded before env.', { listType: 'atomic', protoWrapper: 1 }),
  env: field(7, fieldType.array(fieldType.ref(CORE + 'EnvVar')), 'Environment variables to set in the container.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'], protoWrapper: 1 }),
  resources: field(8, fieldType.ref(CORE + 'ResourceRequirements'), 'Not allowed for ephemeral containers.', { protoWrapper: 1 }),
  resizePolicy: field(23, fieldType.array(fieldType.ref(CORE + 'ContainerResizePolicy')), 'Not allowed for ephemeral containers.', { listType: 'atomic', protoWrapper: 1 }),
  restartPolicy: field(24, fieldType.string, 'Not allowed for ephemeral containers.', { protoWrapper: 1 }),
  restartPolicyRules: field(25, fieldType.array(fieldType.ref(CORE + 'ContainerRestartRule')), 'Not allowed for ephemeral containers.', { listType: 'atomic', protoWrapper: 1 }),
  volumeMounts: field(9, fieldType.array(fieldType.ref(CORE + 'VolumeMount')), 'Pod volumes to mount into the container; subPath is not allowed.', { mergeKey: 'mountPath', strategy: 'merge', listType: 'map', listMapKeys: ['mountPath'], protoWrapper: 1 }),
  volumeDevices: field(21, fieldType.array(fieldType.ref(CORE + 'VolumeDevice')), 'Block devices the container uses.', { mergeKey: 'devicePath', strategy: 'merge', listType: 'map', listMapKeys: ['devicePath'], protoWrapper: 1 }),
  livenessProbe: field(10, fieldType.ref(CORE + 'Probe'), 'Not allowed for ephemeral containers.', { protoWrapper: 1 }),
  readinessProbe: field(11, fieldType.ref(CORE + 'Probe'), 'Not allowed for ephemeral containers.', { protoWrapper: 1 }),
  startupProbe: field(22, fieldType.ref(CORE + 'Probe'), 'Not allowed for ephemeral containers.', { protoWrapper: 1 }),
  lifecycle: field(12, fieldType.ref(CORE + 'Lifecycle'), 'Not allowed for ephemeral containers.', { protoWrapper: 1 }),
  terminationMessagePath: field(13, fieldType.string, 'The file whose contents become the container\'s termination message; defaults to /dev/termination-log.', { default: '/dev/termination-log', protoWrapper: 1 }),
  terminationMessagePolicy: field(20, fieldType.string, 'How the termination message is filled: File (default) or FallbackToLogsOnError.', { default: 'File', protoWrapper: 1 }),
  imagePullPolicy: field(14, fieldType.string, 'When to pull the image: Always, Never or IfNotPresent; defaults by the image tag.', { protoWrapper: 1 }),
  securityContext: field(15, fieldType.ref(CORE + 'SecurityContext'), 'Security options of the container, overriding the pod\'s.', { protoWrapper: 1 }),
  stdin: field(16, fieldType.boolean, 'Allocate a stdin buffer for the container.', { protoWrapper: 1 }),
  stdinOnce: field(17, fieldType.boolean, 'Close stdin after the first attached client disconnects.', { protoWrapper: 1 }),
  tty: field(18, fieldType.boolean, 'Allocate a TTY for the container; needs stdin.', { protoWrapper: 1 }),
  targetContainerName: field(2, fieldType.string, 'The container whose namespaces (PID, IPC) this ephemeral container joins.'),
});

define(CORE + 'PodSecurityContext', 'Pod-level security options, some of them defaults for every container.', {
  seLinuxOptions: field(1, fieldType.ref(CORE + 'SELinuxOptions'), 'The SELinux context applied to all containers.'),
  windowsOptions: field(8, fieldType.any, 'Windows-specific options for all containers.'),
  runAsUser: field(2, fieldType.int64, 'The UID container processes run as by default.', { pointer: true }),
  runAsGroup: field(6, fieldType.int64, 'The GID container processes run as by default.', { pointer: true }),
  runAsNonRoot: field(3, fieldType.boolean, 'Refuse to start containers that would run as UID 0.', { pointer: true }),
  supplementalGroups: field(4, fieldType.array(fieldType.int64), 'Extra GIDs given to each container\'s first process.', { listType: 'atomic' }),
  supplementalGroupsPolicy: field(12, fieldType.string, 'How supplemental groups are computed: Merge (default) or Strict.'),
  fsGroup: field(5, fieldType.int64, 'A GID that owns mounted volumes and is added to every container\'s groups.', { pointer: true }),
  sysctls: field(7, fieldType.array(fieldType.ref(CORE + 'Sysctl')), 'Namespaced kernel parameters set for the pod.', { listType: 'atomic' }),
  fsGroupChangePolicy: field(9, fieldType.string, 'When volume ownership is changed: OnRootMismatch or Always.'),
  seccompProfile: field(10, fieldType.ref(CORE + 'SeccompProfile'), 'The seccomp profile of all containers.'),
  appArmorProfile: field(11, fieldType.ref(CORE + 'AppArmorProfile'), 'The AppArmor profile of all containers.'),
  seLinuxChangePolicy: field(13, fieldType.string, 'How the SELinux label is applied to volumes: Recursive or MountOption.'),
});

define(CORE + 'LocalObjectReference', 'A reference by name to an object in the same namespace.', {
  name: field(1, fieldType.string, 'Name of the referent.'),
}, { mapType: 'atomic' });

define(CORE + 'Affinity', 'The scheduling affinity rules of a pod.', {
  nodeAffinity: field(1, fieldType.ref(CORE + 'NodeAffinity'), 'Rules on the nodes the pod may run on.'),
  podAffinity: field(2, fieldType.ref(CORE + 'PodAffinity'), 'Rules to place the pod near other pods.'),
  podAntiAffinity: field(3, fieldType.ref(CORE + 'PodAntiAffinity'), 'Rules to keep the pod away from other pods.'),
});

define(CORE + 'Toleration', 'Allows a pod onto nodes with a matching taint.', {
  key: field(1, fieldType.string, 'The taint key to match; empty with operator Exists matches every taint.'),
  operator: field(2, fieldType.string, 'Exists or Equal (default).'),
  value: field(3, fieldType.string, 'The taint value to match, for operator Equal.'),
  effect: field(4, fieldType.string, 'The taint effect to match; empty matches all effects.'),
  tolerationSeconds: field(5, fieldType.int64, 'How long a NoExecute taint is tolerated before eviction; forever when unset.', { pointer: true }),
});

define(CORE + 'HostAlias', 'An /etc/hosts entry.', {
  ip: field(1, fieldType.string, 'The IP address.', { required: true }),
  hostnames: field(2, fieldType.array(fieldType.string), 'The host names for the IP.', { listType: 'atomic' }),
});

define(CORE + 'PodDNSConfig', 'DNS parameters of a pod.', {
  nameservers: field(1, fieldType.array(fieldType.string), 'DNS server IPs.', { listType: 'atomic' }),
  searches: field(2, fieldType.array(fieldType.string), 'DNS search domains.', { listType: 'atomic' }),
  options: field(3, fieldType.array(fieldType.ref(CORE + 'PodDNSConfigOption')), 'DNS resolver options.', { listType: 'atomic' }),
});

define(CORE + 'PodReadinessGate', 'An extra condition needed for pod readiness.', {
  conditionType: field(1, fieldType.string, 'The type of pod condition that must be True.', { required: true }),
});

define(CORE + 'TopologySpreadConstraint', 'How matching pods are spread over a topology.', {
  maxSkew: field(1, fieldType.int32, 'The largest allowed difference in matching pods between domains.', { required: true }),
  topologyKey: field(2, fieldType.string, 'The node label whose values define the domains.', { required: true }),
  whenUnsatisfiable: field(3, fieldType.string, 'DoNotSchedule or ScheduleAnyway.', { required: true }),
  labelSelector: field(4, fieldType.ref(META + 'LabelSelector'), 'The pods counted in each domain.'),
  minDomains: field(5, fieldType.int32, 'The least number of eligible domains.', { pointer: true }),
  nodeAffinityPolicy: field(6, fieldType.string, 'Whether node affinity and selector limit the domains: Honor (default) or Ignore.'),
  nodeTaintsPolicy: field(7, fieldType.string, 'Whether node taints limit the domains: Honor or Ignore (default).'),
  matchLabelKeys: field(8, fieldType.array(fieldType.string), 'Label keys whose values from this pod narrow labelSelector.', { listType: 'atomic' }),
});

define(CORE + 'PodOS', 'The operating system of a pod.', {
  name: field(1, fieldType.string, 'linux or windows.', { required: true }),
});

define(CORE + 'PodSchedulingGate', 'A gate that holds a pod from scheduling.', {
  name: field(1, fieldType.string, 'The gate name, unique within the pod.', { required: true }),
});

define(CORE + 'PodResourceClaim', 'A ResourceClaim a pod uses.', {
  name: field(1, fieldType.string, 'The name of the entry, unique within the pod.', { required: true }),
  resourceClaimName: field(3, fieldType.string, 'An existing ResourceClaim to use.'),
  resourceClaimTemplateName: field(4, fieldType.string, 'A ResourceClaimTemplate from which a claim is made for this pod.'),
});

define(CORE + 'ResourceRequirements', 'Compute resource requests and limits.', {
  limits: field(1, fieldType.map(fieldType.quantity), 'The most of each resource the container may use.'),
  requests: field(2, fieldType.map(fieldType.quantity), 'The least of each resource the container needs; defaults to limits.'),
  claims: field(3, fieldType.array(fieldType.ref(CORE + 'ResourceClaim')), 'Entries of spec.resourceClaims the container uses.', { listType: 'map', listMapKeys: ['name'] }),
});

define(CORE + 'PodCondition', 'One observation of a pod\'s state.', {
  type: field(1, fieldType.string, 'The kind of condition, e.g. PodScheduled, Initialized, ContainersReady, Ready.', { required: true }),
  observedGeneration: field(7, fieldType.int64, 'The pod generation the condition was set for.'),
  status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
  lastProbeTime: field(3, fieldType.time, 'When the condition was last probed.'),
  lastTransitionTime: field(4, fieldType.time, 'The last time the condition moved from one status to another.'),
  reason: field(5, fieldType.string, 'A short, machine-readable CamelCase reason for the last change.'),
  message: field(6, fieldType.string, 'A human-readable message with details about the last change.'),
});

define(CORE + 'HostIP', 'One IP of the node a pod is on.', {
  ip: field(1, fieldType.string, 'The IP address.', { required: true }),
});

define(CORE + 'PodIP', 'One IP of a pod.', {
  ip: field(1, fieldType.string, 'The IP address.', { required: true }),
});

define(CORE + 'ContainerStatus', 'The observed state of one container.', {
  name: field(1, fieldType.string, 'The container name, as in the pod spec.', { required: true }),
  state: field(2, fieldType.ref(CORE + 'ContainerState'), 'The container\'s current state.'),
  lastState: field(3, fieldType.ref(CORE + 'ContainerState'), 'The container\'s previous termination, if any.'),
  ready: field(4, fieldType.boolean, 'Whether the container passes its readiness probe.', { required: true }),
  restartCount: field(5, fieldType.int32, 'How many times the container has been restarted.', { required: true }),
  image: field(6, fieldType.string, 'The image the container runs.'),
  imageID: field(7, fieldType.string, 'The digest of the image the container runs.'),
  containerID: field(8, fieldType.string, 'The runtime\'s ID of the container, as <type>://<id>.'),
  started: field(9, fieldType.boolean, 'Whether the container passed its startup probe and finished postStart.', { pointer: true }),
  allocatedResources: field(10, fieldType.map(fieldType.quantity), 'The resources the node allocated to the container.'),
  resources: field(11, fieldType.ref(CORE + 'ResourceRequirements'), 'The requests and limits actually applied to the running container.'),
  volumeMounts: field(12, fieldType.array(fieldType.ref(CORE + 'VolumeMountStatus')), 'The status of the container\'s volume mounts.', { mergeKey: 'mountPath', strategy: 'merge', listType: 'map', listMapKeys: ['mountPath'] }),
  user: field(13, fieldType.any, 'The user identity of the container\'s first process.'),
  allocatedResourcesStatus: field(14, fieldType.any, 'The health of the resources allocated to the container.', { mergeKey: 'name', strategy: 'merge', listType: 'map', listMapKeys: ['name'] }),
  stopSignal: field(15, fieldType.string, 'The signal the container is stopped with.'),
});

define(CORE + 'PodResourceClaimStatus', 'The ResourceClaim generated for one entry of spec.resourceClaims.', {
  name: field(1, fieldType.string, 'The name of the entry in spec.resourceClaims.', { required: true }),
  resourceClaimName: field(2, fieldType.string, 'The name of the generated ResourceClaim.'),
});

define(CORE + 'ContainerPort', 'A network port of one container.', {
  name: field(1, fieldType.string, 'A name for the port, an IANA_SVC_NAME unique within the pod, that services can refer to.'),
  hostPort: field(2, fieldType.int32, 'The port to expose on the node; rarely needed.'),
  containerPort: field(3, fieldType.int32, 'The port number on the pod\'s IP.', { required: true }),
  protocol: field(4, fieldType.string, 'The protocol: TCP (default), UDP or SCTP.', { default: 'TCP' }),
  hostIP: field(5, fieldType.string, 'The node IP to bind the host port to.'),
});

define(CORE + 'EnvFromSource', 'A source of a set of environment variables.', {
  prefix: field(1, fieldType.string, 'A prefix prepended to every variable name from the source.'),
  configMapRef: field(2, fieldType.ref(CORE + 'ConfigMapEnvSource'), 'The ConfigMap to take variables from.'),
  secretRef: field(3, fieldType.ref(CORE + 'SecretEnvSource'), 'The Secret to take variables from.'),
});

define(CORE + 'EnvVar', 'One environment variable of a container.', {
  name: field(1, fieldType.string, 'The variable name.', { required: true }),
  value: field(2, fieldType.string, 'The value; $(VAR) references to earlier variables are expanded.'),
  valueFrom: field(3, fieldType.ref(CORE + 'EnvVarSource'), 'Where to take the value from, when value is empty.'),
});

define(CORE + 'ContainerResizePolicy', 'The resize policy of one resource.', {
  resourceName: field(1, fieldType.string, 'The resource the policy applies to: cpu or memory.', { required: true }),
  restartPolicy: field(2, fieldType.string, 'NotRequired (default) or RestartContainer.', { required: true }),
});

define(CORE + 'ContainerRestartRule', 'One rule deciding whether an exited container restarts.', {
  action: field(1, fieldType.string, 'What to do when the rule matches: Restart.', { required: true }),
  exitCodes: field(2, fieldType.ref(CORE + 'ContainerRestartRuleOnExitCodes'), 'The exit codes the rule matches.'),
});

define(CORE + 'VolumeMount', 'A volume mounted into a container.', {
  name: field(1, fieldType.string, 'The name of the pod volume.', { required: true }),
  readOnly: field(2, fieldType.boolean, 'Mount read-only when true; defaults to false.'),
  recursiveReadOnly: field(7, fieldType.string, 'Whether read-only mounts are read-only recursively: Disabled, IfPossible or Enabled.'),
  mountPath: field(3, fieldType.string, 'The path in the container to mount at; must not contain \':\'.', { required: true }),
  subPath: field(4, fieldType.string, 'A path within the volume to mount instead of its root.'),
  mountPropagation: field(5, fieldType.string, 'How mounts propagate between host and container: None, HostToContainer or Bidirectional.'),
  subPathExpr: field(6, fieldType.string, 'Like subPath, with $(VAR) references expanded from the container\'s environment.'),
});

define(CORE + 'VolumeDevice', 'A raw block volume mapped into a container.', {
  name: field(1, fieldType.string, 'The name of the pod\'s persistentVolumeClaim volume.', { required: true }),
  devicePath: field(2, fieldType.string, 'The path in the container the device is mapped to.', { required: true }),
});

define(CORE + 'Probe', 'A health check run against a container.', {
  exec: field(1, fieldType.ref(CORE + 'ExecAction'), 'Runs a command in the container.', { protoWrapper: 1 }),
  httpGet: field(2, fieldType.ref(CORE + 'HTTPGetAction'), 'Sends an HTTP GET.', { protoWrapper: 1 }),
  tcpSocket: field(3, fieldType.ref(CORE + 'TCPSocketAction'), 'Opens a TCP connection.', { protoWrapper: 1 }),
  grpc: field(4, fieldType.ref(CORE + 'GRPCAction'), 'Calls the gRPC health checking service.', { protoWrapper: 1 }),
  initialDelaySeconds: field(2, fieldType.int32, 'Seconds after the container starts before probes begin.'),
  timeoutSeconds: field(3, fieldType.int32, 'Seconds after which a probe times out; defaults to 1.', { default: 1 }),
  periodSeconds: field(4, fieldType.int32, 'How often to probe, in seconds; defaults to 10.', { default: 10 }),
  successThreshold: field(5, fieldType.int32, 'Consecutive successes needed after a failure; defaults to 1.', { default: 1 }),
  failureThreshold: field(6, fieldType.int32, 'Consecutive failures after which the probe is considered failed; defaults to 3.', { default: 3 }),
  terminationGracePeriodSeconds: field(7, fieldType.int64, 'Grace period for a container killed by this probe, overriding the pod\'s.', { pointer: true }),
});

define(CORE + 'Lifecycle', 'Actions run on container lifecycle events.', {
  postStart: field(1, fieldType.ref(CORE + 'LifecycleHandler'), 'Runs right after the container is created; the container is restarted if it fails.'),
  preStop: field(2, fieldType.ref(CORE + 'LifecycleHandler'), 'Runs before the container is stopped, within the grace period.'),
  stopSignal: field(3, fieldType.string, 'The signal used to stop the container.'),
});

define(CORE + 'SecurityContext', 'Security options of a container; they override the pod\'s where both are set.', {
  capabilities: field(1, fieldType.ref(CORE + 'Capabilities'), 'Linux capabilities to add or drop.'),
  privileged: field(2, fieldType.boolean, 'Run the container privileged, like root on the host.', { pointer: true }),
  seLinuxOptions: field(3, fieldType.ref(CORE + 'SELinuxOptions'), 'The SELinux context of the container.'),
  windowsOptions: field(10, fieldType.any, 'Windows-specific options.'),
  runAsUser: field(4, fieldType.int64, 'The UID the container process runs as.', { pointer: true }),
  runAsGroup: field(8, fieldType.int64, 'The GID the container process runs as.', { pointer: true }),
  runAsNonRoot: field(5, fieldType.boolean, 'Refuse to start the container if it would run as UID 0.', { pointer: true }),
  readOnlyRootFilesystem: field(6, fieldType.boolean, 'Mount the container\'s root filesystem read-only.', { pointer: true }),
  allowPrivilegeEscalation: field(7, fieldType.boolean, 'Whether a process may gain more privileges than its parent (no_new_privs).', { pointer: true }),
  procMount: field(9, fieldType.string, 'The proc mount type: Default or Unmasked.'),
  seccompProfile: field(11, fieldType.ref(CORE + 'SeccompProfile'), 'The seccomp profile of the container.'),
  appArmorProfile: field(12, fieldType.ref(CORE + 'AppArmorProfile'), 'The AppArmor profile of the container.'),
});

define(CORE + 'SELinuxOptions', 'An SELinux label.', {
  user: field(1, fieldType.string, 'The SELinux user.'),
  role: field(2, fieldType.string, 'The SELinux role.'),
  type: field(3, fieldType.string, 'The SELinux type.'),
  level: field(4, fieldType.string, 'The SELinux level.'),
});

define(CORE + 'Sysctl', 'A kernel parameter to set.', {
  name: field(1, fieldType.string, 'The parameter name.', { required: true }),
  value: field(2, fieldType.string, 'The parameter value.', { required: true }),
});

define(CORE + 'SeccompProfile', 'A seccomp profile.', {
  type: field(1, fieldType.string, 'Localhost, RuntimeDefault or Unconfined.', { required: true }),
  localhostProfile: field(2, fieldType.string, 'The profile file on the node, relative to the kubelet\'s seccomp directory; for type Localhost only.'),
});

define(CORE + 'AppArmorProfile', 'An AppArmor profile.', {
  type: field(1, fieldType.string, 'Localhost, RuntimeDefault or Unconfined.', { required: true }),
  localhostProfile: field(2, fieldType.string, 'The profile loaded on the node; for type Localhost only.'),
});

define(CORE + 'NodeAffinity', 'Node affinity rules.', {
  requiredDuringSchedulingIgnoredDuringExecution: field(1, fieldType.ref(CORE + 'NodeSelector'), 'Node requirements the pod must meet to be scheduled; later changes do not evict it.'),
  preferredDuringSchedulingIgnoredDuringExecution: field(2, fieldType.array(fieldType.ref(CORE + 'PreferredSchedulingTerm')), 'Weighted node preferences the scheduler tries to satisfy.', { listType: 'atomic' }),
});

define(CORE + 'PodAffinity', 'Inter-pod affinity rules.', {
  requiredDuringSchedulingIgnoredDuringExecution: field(1, fieldType.array(fieldType.ref(CORE + 'PodAffinityTerm')), 'Terms the pod must satisfy to be scheduled.', { listType: 'atomic' }),
  preferredDuringSchedulingIgnoredDuringExecution: field(2, fieldType.array(fieldType.ref(CORE + 'WeightedPodAffinityTerm')), 'Weighted terms the scheduler tries to satisfy.', { listType: 'atomic' }),
});

define(CORE + 'PodAntiAffinity', 'Inter-pod anti-affinity rules.', {
  requiredDuringSchedulingIgnoredDuringExecution: field(1, fieldType.array(fieldType.ref(CORE + 'PodAffinityTerm')), 'Terms the pod must satisfy to be scheduled.', { listType: 'atomic' }),
  preferredDuringSchedulingIgnoredDuringExecution: field(2, fieldType.array(fieldType.ref(CORE + 'WeightedPodAffinityTerm')), 'Weighted terms the scheduler tries to satisfy.', { listType: 'atomic' }),
});

define(CORE + 'PodDNSConfigOption', 'A DNS resolver option.', {
  name: field(1, fieldType.string, 'The option name.'),
  value: field(2, fieldType.string, 'The option value.'),
});

define(CORE + 'ResourceClaim', 'A reference to one entry of the pod\'s resourceClaims.', {
  name: field(1, fieldType.string, 'The name of the entry in spec.resourceClaims.', { required: true }),
  request: field(2, fieldType.string, 'One request of the claim, when only part of it is used.'),
});

define(CORE + 'ContainerState', 'The state of a container; at most one member is set, and waiting is the default.', {
  waiting: field(1, fieldType.ref(CORE + 'ContainerStateWaiting'), 'Details of a waiting container.'),
  running: field(2, fieldType.ref(CORE + 'ContainerStateRunning'), 'Details of a running container.'),
  terminated: field(3, fieldType.ref(CORE + 'ContainerStateTerminated'), 'Details of a terminated container.'),
});

define(CORE + 'VolumeMountStatus', 'The status of one volume mount.', {
  name: field(1, fieldType.string, 'The name of the mounted volume, as in the container\'s volumeMounts.', { required: true }),
  mountPath: field(2, fieldType.string, 'Where the volume is mounted in the container.', { required: true }),
  readOnly: field(3, fieldType.boolean, 'Whether the mount is read-only.'),
  recursiveReadOnly: field(4, fieldType.string, 'Whether the read-only mount is applied recursively: Disabled or Enabled.'),
});

define(CORE + 'HostPathVolumeSource', 'A path on the node mounted into a pod.', {
  path: field(1, fieldType.string, 'The path on the node.', { required: true }),
  type: field(2, fieldType.string, 'What must exist at the path: "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.'),
});

define(CORE + 'EmptyDirVolumeSource', 'An empty directory for a pod.', {
  medium: field(1, fieldType.string, 'The storage medium: "" for the node default, or Memory for tmpfs.'),
  sizeLimit: field(2, fieldType.quantity, 'The most storage the directory may use.'),
});

define(CORE + 'SecretVolumeSource', 'A Secret projected into a volume.', {
  secretName: field(1, fieldType.string, 'The name of the Secret in the pod\'s namespace.'),
  items: field(2, fieldType.array(fieldType.ref(CORE + 'KeyToPath')), 'Which keys to project and the relative file paths to write them to; all keys are projected when empty.', { listType: 'atomic' }),
  defaultMode: field(3, fieldType.int32, 'Default permission bits (0000 to 0777, octal or decimal) for the created files; defaults to 0644.', { default: 420, pointer: true }),
  optional: field(4, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'NFSVolumeSource', 'An NFS export.', {
  server: field(1, fieldType.string, 'The host name or IP of the NFS server.', { required: true }),
  path: field(2, fieldType.string, 'The path exported by the NFS server.', { required: true }),
  readOnly: field(3, fieldType.boolean, 'Mount the volume read-only when true; defaults to false.'),
});

define(CORE + 'PersistentVolumeClaimVolumeSource', 'A reference to a PersistentVolumeClaim.', {
  claimName: field(1, fieldType.string, 'The name of the claim in the pod\'s namespace.', { required: true }),
  readOnly: field(2, fieldType.boolean, 'Mount the volume read-only when true; defaults to false.'),
});

define(CORE + 'DownwardAPIVolumeSource', 'Pod information written as files in a volume.', {
  items: field(1, fieldType.array(fieldType.ref(CORE + 'DownwardAPIVolumeFile')), 'The files to write.', { listType: 'atomic' }),
  defaultMode: field(2, fieldType.int32, 'Default permission bits (0000 to 0777, octal or decimal) for the created files; defaults to 0644.', { default: 420, pointer: true }),
});

define(CORE + 'ConfigMapVolumeSource', 'A ConfigMap projected into a volume.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  items: field(2, fieldType.array(fieldType.ref(CORE + 'KeyToPath')), 'Which keys to project and the relative file paths to write them to; all keys are projected when empty.', { listType: 'atomic' }),
  defaultMode: field(3, fieldType.int32, 'Default permission bits (0000 to 0777, octal or decimal) for the created files; defaults to 0644.', { default: 420, pointer: true }),
  optional: field(4, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'ProjectedVolumeSource', 'Several sources projected into one volume.', {
  sources: field(1, fieldType.array(fieldType.ref(CORE + 'VolumeProjection')), 'The sources to project.', { listType: 'atomic' }),
  defaultMode: field(2, fieldType.int32, 'Default permission bits (0000 to 0777, octal or decimal) for the created files; defaults to 0644.', { default: 420, pointer: true }),
});

define(CORE + 'CSIVolumeSource', 'An ephemeral volume provided by a CSI driver.', {
  driver: field(1, fieldType.string, 'The name of the CSI driver.', { required: true }),
  readOnly: field(2, fieldType.boolean, 'Mount the volume read-only when true; defaults to false.', { pointer: true }),
  fsType: field(3, fieldType.string, 'The filesystem type to mount, e.g. ext4.'),
  volumeAttributes: field(4, fieldType.map(fieldType.string), 'Driver-specific properties of the volume.'),
  nodePublishSecretRef: field(5, fieldType.ref(CORE + 'LocalObjectReference'), 'A Secret passed to the driver\'s publish calls.'),
});

define(CORE + 'ImageVolumeSource', 'An OCI image or artifact mounted as a volume.', {
  reference: field(1, fieldType.string, 'The image or artifact reference to pull.'),
  pullPolicy: field(2, fieldType.string, 'When to pull: Always, Never or IfNotPresent.'),
});

define(CORE + 'ConfigMapEnvSource', 'A ConfigMap whose keys become environment variables.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  optional: field(2, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'SecretEnvSource', 'A Secret whose keys become environment variables.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  optional: field(2, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'EnvVarSource', 'The source of an environment variable\'s value; exactly one member may be set.', {
  fieldRef: field(1, fieldType.ref(CORE + 'ObjectFieldSelector'), 'A field of the pod, e.g. metadata.name or status.podIP.'),
  resourceFieldRef: field(2, fieldType.ref(CORE + 'ResourceFieldSelector'), 'A resource limit or request of a container.'),
  configMapKeyRef: field(3, fieldType.ref(CORE + 'ConfigMapKeySelector'), 'A key of a ConfigMap.'),
  secretKeyRef: field(4, fieldType.ref(CORE + 'SecretKeySelector'), 'A key of a Secret.'),
  fileKeyRef: field(5, fieldType.ref(CORE + 'FileKeySelector'), 'A key of an env file in a volume.'),
});

define(CORE + 'ContainerRestartRuleOnExitCodes', 'A condition on a container\'s exit code.', {
  operator: field(1, fieldType.string, 'In or NotIn.', { required: true }),
  values: field(2, fieldType.array(fieldType.int32), 'The exit codes to compare with.', { listType: 'set' }),
});

define(CORE + 'LifecycleHandler', 'An action run on a lifecycle event; exactly one member may be set.', {
  exec: field(1, fieldType.ref(CORE + 'ExecAction'), 'Runs a command in the container.'),
  httpGet: field(2, fieldType.ref(CORE + 'HTTPGetAction'), 'Sends an HTTP GET.'),
  tcpSocket: field(3, fieldType.ref(CORE + 'TCPSocketAction'), 'Deprecated: kept for compatibility, does nothing useful.'),
  sleep: field(4, fieldType.ref(CORE + 'SleepAction'), 'Sleeps for a while.'),
});

define(CORE + 'Capabilities', 'Linux capabilities to add to or drop from a container.', {
  add: field(1, fieldType.array(fieldType.string), 'Capabilities to add.', { listType: 'atomic' }),
  drop: field(2, fieldType.array(fieldType.string), 'Capabilities to drop.', { listType: 'atomic' }),
});

define(CORE + 'NodeSelector', 'A node selector: the union (OR) of its terms.', {
  nodeSelectorTerms: field(1, fieldType.array(fieldType.ref(CORE + 'NodeSelectorTerm')), 'The terms, ORed together.', { required: true, listType: 'atomic' }),
}, { mapType: 'atomic' });

define(CORE + 'PreferredSchedulingTerm', 'A weighted node preference.', {
  weight: field(1, fieldType.int32, 'The weight of the term, 1 to 100.', { required: true }),
  preference: field(2, fieldType.ref(CORE + 'NodeSelectorTerm'), 'The node requirements of the term.', { required: true }),
});

define(CORE + 'PodAffinityTerm', 'The pods that should (or should not) share a topology domain with this one.', {
  labelSelector: field(1, fieldType.ref(META + 'LabelSelector'), 'The pods this term refers to.'),
  namespaces: field(2, fieldType.array(fieldType.string), 'The namespaces the selected pods may be in; defaults to this pod\'s.', { listType: 'atomic' }),
  topologyKey: field(3, fieldType.string, 'The node label whose values define the topology domains.', { required: true }),
  namespaceSelector: field(4, fieldType.ref(META + 'LabelSelector'), 'A selector over namespaces the selected pods may be in.'),
  matchLabelKeys: field(5, fieldType.array(fieldType.string), 'Label keys whose values from this pod are added to labelSelector as In requirements.', { listType: 'atomic' }),
  mismatchLabelKeys: field(6, fieldType.array(fieldType.string), 'Label keys whose values from this pod are added to labelSelector as NotIn requirements.', { listType: 'atomic' }),
});

define(CORE + 'WeightedPodAffinityTerm', 'A weighted inter-pod term.', {
  weight: field(1, fieldType.int32, 'The weight of the term, 1 to 100.', { required: true }),
  podAffinityTerm: field(2, fieldType.ref(CORE + 'PodAffinityTerm'), 'The term.', { required: true }),
});

define(CORE + 'ContainerStateWaiting', 'A container that is not running yet.', {
  reason: field(1, fieldType.string, 'Why the container is not running yet, e.g. ContainerCreating or CrashLoopBackOff.'),
  message: field(2, fieldType.string, 'Details on why the container is not running yet.'),
});

define(CORE + 'ContainerStateRunning', 'A running container.', {
  startedAt: field(1, fieldType.time, 'When the container last (re)started.'),
});

define(CORE + 'ContainerStateTerminated', 'A container that has stopped.', {
  exitCode: field(1, fieldType.int32, 'The exit status of the container\'s last run.', { required: true }),
  signal: field(2, fieldType.int32, 'The signal that stopped the container, if any.'),
  reason: field(3, fieldType.string, 'Why the container stopped, e.g. Completed, Error or OOMKilled.'),
  message: field(4, fieldType.string, 'Details of the termination.'),
  startedAt: field(5, fieldType.time, 'When the container\'s last run started.'),
  finishedAt: field(6, fieldType.time, 'When the container\'s last run ended.'),
  containerID: field(7, fieldType.string, 'The runtime\'s ID of the container, as <type>://<id>.'),
});

define(CORE + 'KeyToPath', 'Maps one key to a file path in a volume.', {
  key: field(1, fieldType.string, 'The key to project.', { required: true }),
  path: field(2, fieldType.string, 'The relative path of the file to write the key to; must not contain \'..\'.', { required: true }),
  mode: field(3, fieldType.int32, 'Permission bits of this file, overriding the volume\'s defaultMode.', { pointer: true }),
});

define(CORE + 'DownwardAPIVolumeFile', 'One file of pod information.', {
  path: field(1, fieldType.string, 'The relative path of the file to write.', { required: true }),
  fieldRef: field(2, fieldType.ref(CORE + 'ObjectFieldSelector'), 'A field of the pod to write.'),
  resourceFieldRef: field(3, fieldType.ref(CORE + 'ResourceFieldSelector'), 'A resource limit or request of a container to write.'),
  mode: field(4, fieldType.int32, 'Permission bits of this file, overriding the volume\'s defaultMode.', { pointer: true }),
});

define(CORE + 'VolumeProjection', 'One source of a projected volume; exactly one member may be set.', {
  secret: field(1, fieldType.ref(CORE + 'SecretProjection'), 'Keys of a Secret.'),
  downwardAPI: field(2, fieldType.ref(CORE + 'DownwardAPIProjection'), 'Pod information.'),
  configMap: field(3, fieldType.ref(CORE + 'ConfigMapProjection'), 'Keys of a ConfigMap.'),
  serviceAccountToken: field(4, fieldType.ref(CORE + 'ServiceAccountTokenProjection'), 'A service account token.'),
  clusterTrustBundle: field(5, fieldType.any, 'Certificates from ClusterTrustBundle objects.'),
  podCertificate: field(6, fieldType.any, 'A pod certificate and its private key.'),
});

define(CORE + 'ObjectFieldSelector', 'Selects a field of the pod.', {
  apiVersion: field(1, fieldType.string, 'The API version fieldPath is written in; defaults to v1.', { default: 'v1' }),
  fieldPath: field(2, fieldType.string, 'The path of the field to select.', { required: true }),
}, { mapType: 'atomic' });

define(CORE + 'ResourceFieldSelector', 'Selects a resource of a container.', {
  containerName: field(1, fieldType.string, 'The container; required for volumes.'),
  resource: field(2, fieldType.string, 'The resource to select, e.g. limits.cpu.', { required: true }),
  divisor: field(3, fieldType.quantity, 'The unit the value is divided by; defaults to 1.'),
}, { mapType: 'atomic' });

define(CORE + 'ConfigMapKeySelector', 'Selects a key of a ConfigMap.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  key: field(2, fieldType.string, 'The key to select.', { required: true }),
  optional: field(3, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
}, { mapType: 'atomic' });

define(CORE + 'SecretKeySelector', 'Selects a key of a Secret.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  key: field(2, fieldType.string, 'The key of the secret to select.', { required: true }),
  optional: field(3, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
}, { mapType: 'atomic' });

define(CORE + 'FileKeySelector', 'Selects a key of an env file.', {
  volumeName: field(1, fieldType.string, 'The volume holding the env file.', { required: true }),
  path: field(2, fieldType.string, 'The path of the env file within the volume.', { required: true }),
  key: field(3, fieldType.string, 'The key in the env file.', { required: true }),
  optional: field(4, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'ExecAction', 'Runs a command in a container.', {
  command: field(1, fieldType.array(fieldType.string), 'The command and arguments, run without a shell; exit status 0 is success.', { listType: 'atomic' }),
});

define(CORE + 'HTTPGetAction', 'An HTTP GET request.', {
  path: field(1, fieldType.string, 'The path to request; defaults to /.', { default: '/' }),
  port: field(2, fieldType.intOrString, 'The port number or named container port.', { required: true }),
  host: field(3, fieldType.string, 'The host to connect to; defaults to the pod IP.'),
  scheme: field(4, fieldType.string, 'HTTP (default) or HTTPS.', { default: 'HTTP' }),
  httpHeaders: field(5, fieldType.array(fieldType.ref(CORE + 'HTTPHeader')), 'Extra request headers.', { listType: 'atomic' }),
});

define(CORE + 'TCPSocketAction', 'A TCP connection attempt.', {
  port: field(1, fieldType.intOrString, 'The port number or named container port.', { required: true }),
  host: field(2, fieldType.string, 'The host to connect to; defaults to the pod IP.'),
});

define(CORE + 'GRPCAction', 'A gRPC health check call.', {
  port: field(1, fieldType.int32, 'The port of the gRPC service.', { required: true }),
  service: field(2, fieldType.string, 'The service name sent in the HealthCheckRequest.'),
});

define(CORE + 'SleepAction', 'A pause.', {
  seconds: field(1, fieldType.int64, 'How many seconds to sleep.', { required: true }),
});

define(CORE + 'NodeSelectorTerm', 'Node requirements ANDed together; an empty term matches nothing.', {
  matchExpressions: field(1, fieldType.array(fieldType.ref(CORE + 'NodeSelectorRequirement')), 'Requirements on node labels.', { listType: 'atomic' }),
  matchFields: field(2, fieldType.array(fieldType.ref(CORE + 'NodeSelectorRequirement')), 'Requirements on node fields.', { listType: 'atomic' }),
}, { mapType: 'atomic' });

define(CORE + 'SecretProjection', 'Keys of a Secret projected into a volume.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  items: field(2, fieldType.array(fieldType.ref(CORE + 'KeyToPath')), 'Which keys to project and the relative file paths to write them to; all keys are projected when empty.', { listType: 'atomic' }),
  optional: field(4, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'DownwardAPIProjection', 'Pod information projected into a volume.', {
  items: field(1, fieldType.array(fieldType.ref(CORE + 'DownwardAPIVolumeFile')), 'The files to write.', { listType: 'atomic' }),
});

define(CORE + 'ConfigMapProjection', 'Keys of a ConfigMap projected into a volume.', {
  name: field(1, fieldType.string, 'Name of the referent.', { protoWrapper: 1 }),
  items: field(2, fieldType.array(fieldType.ref(CORE + 'KeyToPath')), 'Which keys to project and the relative file paths to write them to; all keys are projected when empty.', { listType: 'atomic' }),
  optional: field(4, fieldType.boolean, 'When true, a missing referenced object or key is tolerated instead of failing.', { pointer: true }),
});

define(CORE + 'ServiceAccountTokenProjection', 'A service account token projected into a volume.', {
  audience: field(1, fieldType.string, 'The intended audience of the token; defaults to the API server\'s.'),
  expirationSeconds: field(2, fieldType.int64, 'Requested validity of the token; defaults to one hour, at least 10 minutes.', { default: 3600, pointer: true }),
  path: field(3, fieldType.string, 'The file path, relative to the mount point, to write the token to.', { required: true }),
});

define(CORE + 'HTTPHeader', 'One HTTP header.', {
  name: field(1, fieldType.string, 'The header name.', { required: true }),
  value: field(2, fieldType.string, 'The header value.', { required: true }),
});

define(CORE + 'NodeSelectorRequirement', 'A requirement relating a key to values.', {
  key: field(1, fieldType.string, 'The label or field key.', { required: true }),
  operator: field(2, fieldType.string, 'In, NotIn, Exists, DoesNotExist, Gt or Lt.', { required: true }),
  values: field(3, fieldType.array(fieldType.string), 'The values to compare with; one integer for Gt and Lt, none for Exists and DoesNotExist.', { listType: 'atomic' }),
});

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

registerKind({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  definition: CORE + 'Pod',
  subresources: ['status', 'binding', 'log', 'eviction', 'exec', 'attach', 'portforward'],
  columns: [
    { name: 'Ready', type: 'string', priority: 0, description: 'The aggregate readiness state of this pod for accepting traffic.', value: (o, now) => podStatusCells(o, now).ready },
    { name: 'Status', type: 'string', priority: 0, description: 'The aggregate status of the containers in this pod.', value: (o, now) => podStatusCells(o, now).status },
    {
      name: 'Restarts',
      type: 'string',
      priority: 0,
      description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      value: (o, now) => podStatusCells(o, now).restarts,
    },
    { name: 'Age', type: 'string', priority: 0, description: 'Time since the object was created.', value: (o, now) => translateAge(o.metadata?.creationTimestamp, now) },
    { name: 'IP', type: 'string', priority: 1, description: 'The primary IP of the pod.', value: (o) => o.status?.podIPs?.[0]?.ip || '<none>' },
    { name: 'Node', type: 'string', priority: 1, description: 'The node the pod is bound to.', value: (o) => o.spec?.nodeName || '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, description: 'The node preemption made room on for this pod.', value: (o) => o.status?.nominatedNodeName || '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, description: 'How many readiness gates of the pod are True.', value: (o) => readinessGatesCell(o) },
  ],
  // Unset fields select as "", so spec.nodeName= finds unscheduled pods, as upstream.
  fieldSelectors: {
    'spec.nodeName': (o) => str(o.spec?.nodeName),
    'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
    'spec.schedulerName': (o) => str(o.spec?.schedulerName),
    'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
    'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
    'status.phase': (o) => str(o.status?.phase),
    'status.podIP': (o) => str(o.status?.podIP),
    'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
  },
  prepareForCreate: (o) => {
    o.status = { phase: 'Pending', qosClass: qosClass(o.spec) };
  },
  // upstream: only pods bound to a node and not yet terminal get a grace period
  deletion: {
    gracePeriodSeconds: (o, requested) => {
      if (!o.spec?.nodeName) return 0;
      const phase = o.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return 0;
      return Math.max(0, requested ?? o.spec?.terminationGracePeriodSeconds ?? 30);
    },
  },
  defaults: (o) => {
    if (o?.spec) defaultPodSpec(o.spec);
  },
  validate: (o, old) => {
    // a spec an update leaves as it was (every status write) was checked when it was written
    if (old && jsonEqual(o?.spec, old.spec)) return [];
    const errs = validatePodSpec(o?.spec, 'spec');
    if (old && errs.length === 0) errs.push(...validatePodSpecUpdate(o?.spec, old.spec));
    return errs;
  },
});

registerKind({
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  definition: CORE + 'PodTemplate',
  columns: [
    { name: 'Containers', type: 'string', priority: 0, description: 'Names of each container in the template.', value: (o) => (o.template?.spec?.containers ?? []).map((c: any) => c?.name).join(',') },
    { name: 'Images', type: 'string', priority: 0, description: 'Images referenced by each container in the template.', value: (o) => (o.template?.spec?.containers ?? []).map((c: any) => c?.image).join(',') },
    { name: 'Pod Labels', type: 'string', priority: 0, description: 'The labels for the pod template.', value: (o) => formatLabels(o.template?.metadata?.labels) },
  ],
  defaults: (o) => {
    if (o?.template?.spec) defaultPodSpec(o.template.spec);
  },
  validate: (o) => validatePodSpec(o?.template?.spec, 'template.spec'),
});
