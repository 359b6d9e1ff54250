/**
 * A typed CRI (runtime.v1) client over gRPC on a unix socket, as the kubelet's
 * remote runtime and image services. The wire schema is api.proto beside this module's
 * source (loaded at run time by @grpc/proto-loader); field names appear here in
 * camelCase, int64 values as decimal strings (nanosecond timestamps do not fit a JS
 * number), enums as their names, bytes as Buffers.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** int64 fields as proto-loader gives them (`longs: String`) */
export type Int64 = string;
export type Labels = Record<string, string>;

export interface ImageSpec {
  image: string;
  annotations?: Labels;
  userSpecifiedImage?: string;
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export interface PortMapping {
  protocol?: Protocol;
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}
export interface Int64Value {
  value: Int64 | number;
}
export interface LinuxContainerResources {
  cpuPeriod?: Int64 | number;
  cpuQuota?: Int64 | number;
  cpuShares?: Int64 | number;
  memoryLimitInBytes?: Int64 | number;
  oomScoreAdj?: Int64 | number;
  cpusetCpus?: string;
  cpusetMems?: string;
  unified?: Labels;
  memorySwapLimitInBytes?: Int64 | number;
}
export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: (Int64 | number)[];
  privileged?: boolean;
}
export interface LinuxContainerSecurityContext {
  capabilities?: { addCapabilities?: string[]; dropCapabilities?: string[] };
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: (Int64 | number)[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: { servers?: string[]; searches?: string[]; options?: string[] };
  portMappings?: PortMapping[];
  labels?: Labels;
  annotations?: Labels;
  linux?: {
    cgroupParent?: string;
    securityContext?: LinuxSandboxSecurityContext;
    sysctls?: Labels;
    overhead?: LinuxContainerResources;
    resources?: LinuxContainerResources;
  };
}
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: Int64;
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: NamespaceOption | null } | null } | null;
  labels: Labels;
  annotations: Labels;
  runtimeHandler: string;
}
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: Int64;
  labels: Labels;
  annotations: Labels;
  runtimeHandler: string;
}
export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: Labels;
}
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}
export interface ContainerMetadata {
  name: string;
  attempt?: number;
}
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: Labels;
  annotations?: Labels;
  /** relative to the sandbox's logDirectory */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: {
    resources?: LinuxContainerResources;
    securityContext?: LinuxContainerSecurityContext;
  };
}
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  state: ContainerState;
  createdAt: Int64;
  labels: Labels;
  annotations: Labels;
}
export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: Labels;
}
export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: Int64;
  startedAt: Int64;
  finishedAt: Int64;
  exitCode: number;
  image: ImageSpec;
  imageRef: string;
  reason: string;
  message: string;
  labels: Labels;
  annotations: Labels;
  mounts: Mount[];
  logPath: string;
}
export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}
export interface UInt64Value {
  value: Int64;
}
export interface ContainerStats {
  attributes: { id: string; metadata: ContainerMetadata; labels: Labels; annotations: Labels };
  cpu: { timestamp: Int64; usageCoreNanoSeconds: UInt64Value | null; usageNanoCores: UInt64Value | null } | null;
  memory: {
    timestamp: Int64;
    workingSetBytes: UInt64Value | null;
    availableBytes: UInt64Value | null;
    usageBytes: UInt64Value | null;
    rssBytes: UInt64Value | null;
    pageFaults: UInt64Value | null;
    majorPageFaults: UInt64Value | null;
  } | null;
  writableLayer: { timestamp: Int64; fsId: { mountpoint: string } | null; usedBytes: UInt64Value | null; inodesUsed: UInt64Value | null } | null;
}
export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: Int64;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}
export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}
export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** A failed CRI call: the method, gRPC's status code and the runtime's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`CRI ${method}: ${grpc.status[code] ?? code}: ${details}`);
    this.name = 'CriError';
  }
  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

/** api.proto lives in the source tree; from dist/ climb to the repository root to find it. */
function protoPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    const p = path.join(dir, 'services', 'kubelet', 'cri', 'api.proto');
    if (existsSync(p)) return p;
    if (path.dirname(dir) === dir) throw new Error(`CRI schema services/kubelet/cri/api.proto not found above ${here}`);
  }
}

let loaded: grpc.GrpcObject | undefined;
function schema(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath(), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }),
  );
  return loaded;
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export interface CriClientOptions {
  /** per-call deadline unless a call gives its own; upstream's kubelet uses 2 minutes */
  timeoutMs?: number;
}

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;
  private readonly timeoutMs: number;

  /** endpoint: a unix socket path, or `unix:///path` as the kubelet's --container-runtime-endpoint */
  constructor(
    readonly endpoint: string,
    opts: CriClientOptions = {},
  ) {
    const target = endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
    const v1 = (schema().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const Runtime = v1.RuntimeService as grpc.ServiceClientConstructor;
    const Images = v1.ImageService as grpc.ServiceClientConstructor;
    const credentials = grpc.credentials.createInsecure();
    // 16 MiB, as the kubelet's default max message size
    const options = { 'grpc.max_receive_message_length': 16 << 20 };
    this.runtime = new Runtime(target, credentials, options);
    this.images = new Images(target, credentials, { ...options, channelOverride: this.runtime.getChannel() });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  private call<Res>(client: grpc.Client, method: string, req: object, timeoutMs = this.timeoutMs): Promise<Res> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details || err.message));
        else resolve(res as Res);
      });
    });
  }

  close(): void {
    this.images.close();
    this.runtime.close();
  }

  // ---- RuntimeService ----

  version(timeoutMs?: number): Promise<VersionResponse> {
    return this.call(this.runtime, 'Version', { version: 'v1' }, timeoutMs);
  }

  /** verbose: info carries the runtime's own details (containerd: its CRI config as JSON under "config") */
  async status(verbose = false): Promise<{ conditions: RuntimeCondition[]; info: Labels }> {
    const r = await this.call<{ status: { conditions: RuntimeCondition[] } | null; info: Labels }>(this.runtime, 'Status', { verbose });
    return { conditions: r.status?.conditions ?? [], info: r.info };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    return (await this.call<{ podSandboxId: string }>(this.runtime, 'RunPodSandbox', { config, runtimeHandler })).podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { podSandboxId });
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    return (await this.call<{ status: PodSandboxStatus }>(this.runtime, 'PodSandboxStatus', { podSandboxId, verbose: false })).status;
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return (await this.call<{ items: PodSandbox[] }>(this.runtime, 'ListPodSandbox', { filter })).items;
  }

  /**
   * Stops and removes every sandbox the runtime has, their containers with them; returns
   * how many. Only for a containerd that is wholly Flotilla's (its launcher's, a test's).
   */
  async removeAllPodSandboxes(): Promise<number> {
    const sandboxes = await this.listPodSandbox();
    // a sandbox another caller removed meanwhile (a kubelet still tearing down a deleted
    // pod as it stops) is as good as removed: containerd answers NOT_FOUND for it
    const gone = (e: unknown) => {
      if (!(e instanceof CriError && e.notFound)) throw e;
    };
    for (const sb of sandboxes) {
      await this.stopPodSandbox(sb.id).catch(gone);
      await this.removePodSandbox(sb.id).catch(gone);
    }
    return sandboxes.length;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    return (await this.call<{ containerId: string }>(this.runtime, 'CreateContainer', { podSandboxId, config, sandboxConfig })).containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'StartContainer', { containerId });
  }

  /** timeoutSeconds: the grace period before SIGKILL; the call's deadline allows for it */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.call(this.runtime, 'StopContainer', { containerId, timeout: String(timeoutSeconds) }, this.timeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', { containerId });
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    return (await this.call<{ containers: Container[] }>(this.runtime, 'ListContainers', { filter })).containers;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return (await this.call<{ status: ContainerStatus }>(this.runtime, 'ContainerStatus', { containerId, verbose: false })).status;
  }

  /** Runs cmd in the container and waits; timeoutSeconds 0 means no limit on the command. */
  execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    const deadline = timeoutSeconds > 0 ? this.timeoutMs + timeoutSeconds * 1000 : 24 * 3600_000;
    return this.call(this.runtime, 'ExecSync', { containerId, cmd, timeout: String(timeoutSeconds) }, deadline);
  }
  /** A one-time URL on containerd's streaming server where the exec runs (streaming/runtimestream.ts speaks to it). */
  async exec(req: { containerId: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'Exec', req)).url;
  }

  async attach(req: { containerId: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'Attach', req)).url;
  }

  async portForward(podSandboxId: string, ports: number[] = []): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'PortForward', { podSandboxId, port: ports })).url;
  }


  /** After the kubelet renamed the container's log (rotation), the runtime writes a new file at its path. */
  async reopenContainerLog(containerId: string): Promise<void> {
    await this.call(this.runtime, 'ReopenContainerLog', { containerId });
  }

  async listContainerStats(filter?: { id?: string; podSandboxId?: string; labelSelector?: Labels }): Promise<ContainerStats[]> {
    return (await this.call<{ stats: ContainerStats[] }>(this.runtime, 'ListContainerStats', { filter })).stats;
  }

  // ---- ImageService ----

  async listImages(image?: string): Promise<Image[]> {
    return (await this.call<{ images: Image[] }>(this.images, 'ListImages', { filter: image ? { image: { image } } : undefined })).images;
  }

  /** The image, or null when the runtime does not have it (CRI answers an empty image, not an error). */
  async imageStatus(image: string): Promise<Image | null> {
    const r = await this.call<{ image: Image | null }>(this.images, 'ImageStatus', { image: { image }, verbose: false });
    return r.image && r.image.id ? r.image : null;
  }

  async pullImage(image: string, sandboxConfig?: PodSandboxConfig): Promise<string> {
    return (await this.call<{ imageRef: string }>(this.images, 'PullImage', { image: { image }, sandboxConfig })).imageRef;
  }

  async removeImage(image: string): Promise<void> {
    await this.call(this.images, 'RemoveImage', { image: { image } });
  }
}

/** Nanoseconds since the epoch (CRI's int64 string) → milliseconds. */
export function nsToMs(ns: Int64 | number | null | undefined): number {
  if (ns === null || ns === undefined) return 0;
  return typeof ns === 'number' ? Math.floor(ns / 1e6) : Number(BigInt(ns) / 1_000_000n);
}
