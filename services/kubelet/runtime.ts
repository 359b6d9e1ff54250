/**
 * The kubelet's container runtime interface, after upstream's CRI RuntimeService
 * (k8s.io/cri-api v1): pod sandboxes hold containers; containers are created, started,
 * stopped and removed; their status is read back. Runtimes report container state
 * changes as events (CRI's GetContainerEvents, the "evented PLEG"), so a kubelet that
 * carries thousands of pods never relists them. `hollow` (hollow.ts) is the first
 * runtime; the `process` runtime comes later behind the same interface.
 */

export interface PodSandboxMetadata {
  name: string;
  namespace: string;
  uid: string;
  attempt: number;
}

/** a sandbox's Linux security settings, as CRI's LinuxSandboxSecurityContext (securitycontext.ts) */
export interface SandboxSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  privileged?: boolean;
  /** the pod's namespaces, CRI's NamespaceOption (its containers get the same) */
  namespaceOptions?: { network?: 'POD' | 'NODE'; pid?: 'POD' | 'CONTAINER' | 'NODE'; ipc?: 'POD' | 'NODE' };
}

/** a hostPort, as CRI's PortMapping */
export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  securityContext?: SandboxSecurity;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  /** the pod's annotations, as upstream passes them to the runtime */
  annotations?: Record<string, string>;
  /** the sandbox's resolv.conf (dnsconfig.ts); absent: the runtime copies the host's */
  dnsConfig?: { servers: string[]; searches: string[]; options: string[] };
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  /** ns since the epoch, as CRI */
  createdAt: number;
  network?: { ip: string; additionalIps?: string[] };
  annotations: Record<string, string>;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

/** cgroup limits, as CRI's LinuxContainerResources (0 or absent: no limit) */
export interface ContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
}

/** a host path bind-mounted into a container, as CRI's Mount */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

/** a container's Linux security settings, as CRI's LinuxContainerSecurityContext (securitycontext.ts) */
export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  readonlyRootfs?: boolean;
  privileged?: boolean;
  noNewPrivs?: boolean;
  capabilities?: { addCapabilities: string[]; dropCapabilities: string[] };
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  /** the image as the pod spec names it */
  image: string;
  /**
   * the image's ID from the image service, once pulled or found: containers are created
   * from it, as upstream's kubelet does, so a tag that moves between pull and create
   * changes nothing
   */
  imageRef?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** the container's environment, resolved (valueFrom already looked up) */
  envs?: Array<{ key: string; value: string }>;
  resources?: ContainerResources;
  /** volumes (volumes/manager.ts) */
  mounts?: Mount[];
  securityContext?: ContainerSecurity;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** the spec's stdin, stdinOnce and tty: what `kubectl attach -i -t` needs */
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  /** ms since the epoch (CRI uses ns; ms is what pod status needs) */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: string;
  /** the resolved image reference: becomes containerStatuses[].imageID */
  imageRef: string;
  /** "Completed", "Error", ... once exited */
  reason: string;
  message: string;
}

export type ContainerEventType = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

export interface ContainerEvent {
  containerId: string;
  type: ContainerEventType;
  podSandboxId: string;
  /** ms since the epoch */
  createdAt: number;
}

/** The CRI RuntimeService methods a kubelet needs, with upstream's names. */
export interface ContainerRuntime {
  /** e.g. "hollow": containerIDs are `<runtimeName>://<id>` in pod status */
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  /**
   * True when the runtime gives pods their IPs itself (CRI through CNI): the sandbox
   * status carries the IP. Otherwise the caller allocates one and passes it in.
   */
  readonly ownsPodNetwork?: boolean;

  /** Creates and starts a sandbox; the pod's IP is the caller's (the kubelet's network plugin stand-in). */
  runPodSandbox(config: PodSandboxConfig, ip?: string): Promise<string>;
  /** Stops every container of the sandbox, then the sandbox. Idempotent. */
  stopPodSandbox(podSandboxId: string): Promise<void>;
  /** Removes the sandbox and its containers. Idempotent. */
  removePodSandbox(podSandboxId: string): Promise<void>;
  podSandboxStatus(podSandboxId: string): PodSandboxStatus | undefined;

  createContainer(podSandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** Stops a container, waiting at most timeoutSeconds before killing it. Idempotent. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): ContainerStatus | undefined;

  /**
   * Every sandbox the runtime has, when its pods outlive this process (CRI): a restarted
   * kubelet adopts them. Absent for runtimes whose pods die with the process (hollow).
   */
  listPodSandboxes?(): PodSandboxStatus[];
  /** The containers of one sandbox (with listPodSandboxes). */
  listContainers?(podSandboxId: string): ContainerStatus[];

  /** Runs a command in a running container and waits for it (CRI ExecSync), for probes and hooks. Absent where nothing runs (hollow). */
  execSync?(containerId: string, cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>;

  /** Subscribes to container events; returns the unsubscribe function. */
  getContainerEvents(listener: (ev: ContainerEvent) => void): () => void;
  /** Stops everything the runtime runs (process exit). */
  close(): Promise<void>;
}
