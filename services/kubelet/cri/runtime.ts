/**
 * The `cri` runtime: the kubelet's ContainerRuntime (../runtime.ts) on a real container
 * runtime reached through CRI (containerd here). Pod IPs come from the runtime's CNI
 * network, not from the caller. Status reads are synchronous in the interface, so this
 * keeps the last status CRI returned for each sandbox and container, refreshed by every
 * call that changes one and by a relist (upstream's generic PLEG: ListContainers every
 * second while someone listens for events), which is what notices containers exiting by
 * themselves. Pods outlive this object: `close()` stops listening, never a pod, so a
 * restarted kubelet finds its containers again with `sync()`.
 */
import path from 'node:path';
import { PAUSE_IMAGE } from '../containerd/config.js';
import { normalizeImage } from '../images/reference.js';
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerEventType,
  ContainerRuntime,
  ContainerState,
  ContainerSecurity,
  ContainerStatus,
  PodSandboxConfig,
  PodSandboxStatus,
  SandboxSecurity,
} from '../runtime.js';
import {
  CriError,
  nsToMs,
  type CriClient,
  type ContainerStatus as CriContainerStatus,
  type ExecSyncResult,
  type LinuxContainerSecurityContext,
  type LinuxSandboxSecurityContext,
  type NamespaceOption,
  type PodSandboxConfig as CriPodSandboxConfig,
  type PodSandboxStatus as CriPodSandboxStatus,
} from './client.js';

export interface CriRuntimeOptions {
  client: CriClient;
  /** pods' log folders go under it, as upstream's /var/log/pods: <ns>_<name>_<uid>/<container>/<attempt>.log */
  podLogDir: string;
  /** the relist period while event listeners exist; upstream's generic PLEG relists every second */
  relistIntervalMs?: number;
  /** CRI runtime_handler for every sandbox ("" is the runtime's default: runc here) */
  runtimeHandler?: string;
  /** the runtime's sandbox image (containerd's sandbox_image): must be present before any RunPodSandbox */
  sandboxImage?: string;
}

/** A request the runtime refuses before asking CRI. */
export class CriRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CriRuntimeError';
  }
}

interface SandboxEntry {
  config: CriPodSandboxConfig;
  status: PodSandboxStatus;
}

interface ContainerEntry {
  sandboxId: string;
  status: ContainerStatus;
  logPath: string;
}

/** The sandbox's CRI security context (host network is namespace_options.network = NODE). */
function sandboxSecurityContext(sec: SandboxSecurity | undefined): LinuxSandboxSecurityContext {
  const out: LinuxSandboxSecurityContext = {};
  if (!sec) return out;
  if (sec.namespaceOptions) out.namespaceOptions = sec.namespaceOptions;
  if (sec.runAsUser !== undefined) out.runAsUser = { value: sec.runAsUser };
  if (sec.runAsGroup !== undefined) out.runAsGroup = { value: sec.runAsGroup };
  if (sec.supplementalGroups?.length) out.supplementalGroups = sec.supplementalGroups;
  if (sec.privileged) out.privileged = true;
  return out;
}

/** The container's CRI security context; its namespaces are the sandbox's (a host-network pod's containers join the host's). */
function containerSecurityContext(sec: ContainerSecurity | undefined, namespaceOptions: NamespaceOption | undefined): LinuxContainerSecurityContext {
  const out: LinuxContainerSecurityContext = {};
  if (namespaceOptions) out.namespaceOptions = namespaceOptions;
  if (!sec) return out;
  if (sec.runAsUser !== undefined) out.runAsUser = { value: sec.runAsUser };
  if (sec.runAsGroup !== undefined) out.runAsGroup = { value: sec.runAsGroup };
  if (sec.supplementalGroups?.length) out.supplementalGroups = sec.supplementalGroups;
  if (sec.readonlyRootfs) out.readonlyRootfs = true;
  if (sec.privileged) out.privileged = true;
  if (sec.noNewPrivs) out.noNewPrivs = true;
  if (sec.capabilities) out.capabilities = sec.capabilities;
  return out;
}

function isNotFound(e: unknown): boolean {
  return e instanceof CriError && e.notFound;
}

function toSandboxStatus(s: CriPodSandboxStatus): PodSandboxStatus {
  const ip = s.network?.ip;
  return {
    id: s.id,
    metadata: { name: s.metadata.name, namespace: s.metadata.namespace, uid: s.metadata.uid, attempt: s.metadata.attempt ?? 0 },
    state: s.state,
    createdAt: Number(s.createdAt),
    network: ip ? { ip, additionalIps: (s.network?.additionalIps ?? []).map((a) => a.ip) } : undefined,
    annotations: s.annotations ?? {},
  };
}

function toContainerStatus(s: CriContainerStatus): ContainerStatus {
  return {
    id: s.id,
    metadata: { name: s.metadata.name, attempt: s.metadata.attempt ?? 0 },
    state: s.state,
    createdAt: nsToMs(s.createdAt),
    startedAt: nsToMs(s.startedAt),
    finishedAt: nsToMs(s.finishedAt),
    exitCode: s.exitCode,
    image: s.image?.image ?? '',
    imageRef: s.imageRef,
    reason: s.reason,
    message: s.message,
  };
}

const EVENT_OF_STATE: Record<ContainerState, ContainerEventType | undefined> = {
  CONTAINER_CREATED: 'CONTAINER_CREATED_EVENT',
  CONTAINER_RUNNING: 'CONTAINER_STARTED_EVENT',
  CONTAINER_EXITED: 'CONTAINER_STOPPED_EVENT',
  CONTAINER_UNKNOWN: undefined,
};

export class CriRuntime implements ContainerRuntime {
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly ownsPodNetwork = true;
  readonly client: CriClient;
  private readonly sandboxes = new Map<string, SandboxEntry>();
  private readonly containers = new Map<string, ContainerEntry>();
  private readonly listeners = new Set<(ev: ContainerEvent) => void>();
  private relistTimer: NodeJS.Timeout | undefined;
  /** told how long each relist took (kubelet_pleg_relist_duration_seconds) */
  onRelist?: (seconds: number) => void;
  private relisting = false;
  /** containerd's handler for sandboxes without hostPorts, once its network is loaded (cri/nohostport.ts) */
  private noHostPortHandler?: string;

  private constructor(
    private readonly opts: CriRuntimeOptions,
    version: { runtimeName: string; runtimeVersion: string },
  ) {
    this.client = opts.client;
    this.runtimeName = version.runtimeName;
    this.runtimeVersion = version.runtimeVersion;
  }

  /** Sandboxes without port mappings run with this handler from now on (unless the options name one for all). */
  useNoHostPortHandler(handler: string): void {
    this.noHostPortHandler = handler;
  }

  /** Asks the runtime its name and version (containerd → containerID `containerd://…`), then fills the caches. */
  static async connect(opts: CriRuntimeOptions): Promise<CriRuntime> {
    const v = await opts.client.version();
    const rt = new CriRuntime(opts, v);
    await rt.sync();
    return rt;
  }

  /** Reloads every sandbox and container the runtime has (a kubelet restart adopts them this way). */
  async sync(): Promise<void> {
    const [sandboxes, containers] = await Promise.all([this.client.listPodSandbox(), this.client.listContainers()]);
    for (const sb of sandboxes) {
      if (!this.sandboxes.has(sb.id)) {
        const status = await this.client.podSandboxStatus(sb.id);
        this.sandboxes.set(sb.id, { config: { metadata: sb.metadata, labels: sb.labels, annotations: sb.annotations }, status: toSandboxStatus(status) });
      }
    }
    for (const c of containers) {
      if (!this.containers.has(c.id)) await this.refreshContainer(c.id, c.podSandboxId);
    }
  }

  private emit(containerId: string, podSandboxId: string, type: ContainerEventType): void {
    const ev: ContainerEvent = { containerId, podSandboxId, type, createdAt: Date.now() };
    for (const l of this.listeners) l(ev);
  }

  private async refreshContainer(id: string, sandboxId?: string): Promise<ContainerEntry | undefined> {
    let s: CriContainerStatus;
    try {
      s = await this.client.containerStatus(id);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.containers.delete(id);
      return undefined;
    }
    const prev = this.containers.get(id);
    const entry = { sandboxId: sandboxId ?? prev?.sandboxId ?? '', status: toContainerStatus(s), logPath: s.logPath };
    this.containers.set(id, entry);
    if (prev?.status.state !== entry.status.state) {
      const type = EVENT_OF_STATE[entry.status.state];
      if (type) this.emit(id, entry.sandboxId, type);
    }
    return entry;
  }

  /** The sandbox's CRI log directory for a pod, as upstream lays it out. */
  podLogDirectory(meta: { namespace: string; name: string; uid: string }): string {
    return path.join(this.opts.podLogDir, `${meta.namespace}_${meta.name}_${meta.uid}`);
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const meta = config.metadata;
    // containerd pulls a missing sandbox image from its registry: that must never happen
    // (no packet leaves the machine), so ask first. One local call, against ~140 ms for the sandbox.
    const sandboxImage = this.opts.sandboxImage ?? PAUSE_IMAGE;
    if (!(await this.client.imageStatus(sandboxImage))) {
      throw new CriRuntimeError(`pod ${meta.namespace}/${meta.name}: the sandbox image ${sandboxImage} is not in the container runtime (containerd would pull it from a registry); import the local images first (images/local.ts ensureLocalImages)`);
    }
    const criConfig: CriPodSandboxConfig = {
      metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, attempt: meta.attempt },
      hostname: config.hostname ?? meta.name,
      logDirectory: this.podLogDirectory(meta),
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
      portMappings: config.portMappings ?? [],
      ...(config.dnsConfig ? { dnsConfig: config.dnsConfig } : {}),
      linux: { securityContext: sandboxSecurityContext(config.securityContext) },
    };
    const handler = this.opts.runtimeHandler ?? (criConfig.portMappings?.length ? '' : (this.noHostPortHandler ?? ''));
    const id = await this.client.runPodSandbox(criConfig, handler);
    this.sandboxes.set(id, { config: criConfig, status: toSandboxStatus(await this.client.podSandboxStatus(id)) });
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    try {
      await this.client.stopPodSandbox(podSandboxId);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const entry = this.sandboxes.get(podSandboxId);
    if (entry) entry.status = { ...entry.status, state: 'SANDBOX_NOTREADY' };
    for (const [id, c] of this.containers) if (c.sandboxId === podSandboxId) await this.refreshContainer(id);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    try {
      await this.client.removePodSandbox(podSandboxId);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.sandboxes.delete(podSandboxId);
    for (const [id, c] of this.containers) {
      if (c.sandboxId !== podSandboxId) continue;
      this.containers.delete(id);
      this.emit(id, podSandboxId, 'CONTAINER_DELETED_EVENT');
    }
  }

  podSandboxStatus(podSandboxId: string): PodSandboxStatus | undefined {
    return this.sandboxes.get(podSandboxId)?.status;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = this.sandboxes.get(podSandboxId);
    if (!sandbox) throw new Error(`createContainer ${config.metadata.name}: no pod sandbox ${podSandboxId} on this runtime`);
    const { name, attempt } = config.metadata;
    const id = await this.client.createContainer(
      podSandboxId,
      {
        metadata: { name, attempt },
        image: { image: config.imageRef || normalizeImage(config.image), userSpecifiedImage: config.image },
        command: config.command ?? [],
        args: config.args ?? [],
        workingDir: config.workingDir ?? '',
        envs: config.envs ?? [],
        mounts: config.mounts ?? [],
        labels: config.labels ?? {},
        annotations: config.annotations ?? {},
        // relative to the sandbox's log directory, as upstream: <container>/<attempt>.log
        logPath: path.join(name, `${attempt}.log`),
        linux: {
          ...(config.resources ? { resources: config.resources } : {}),
          securityContext: containerSecurityContext(config.securityContext, sandbox.config.linux?.securityContext?.namespaceOptions),
        },
        stdin: config.stdin ?? false,
        stdinOnce: config.stdinOnce ?? false,
        tty: config.tty ?? false,
      },
      sandbox.config,
    );
    await this.refreshContainer(id, podSandboxId);
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.client.startContainer(containerId);
    await this.refreshContainer(containerId);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.client.stopContainer(containerId, timeoutSeconds);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.refreshContainer(containerId);
  }

  async removeContainer(containerId: string): Promise<void> {
    try {
      await this.client.removeContainer(containerId);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const entry = this.containers.get(containerId);
    this.containers.delete(containerId);
    if (entry) this.emit(containerId, entry.sandboxId, 'CONTAINER_DELETED_EVENT');
  }

  containerStatus(containerId: string): ContainerStatus | undefined {
    return this.containers.get(containerId)?.status;
  }

  listPodSandboxes(): PodSandboxStatus[] {
    return [...this.sandboxes.values()].map((s) => s.status);
  }

  listContainers(podSandboxId: string): ContainerStatus[] {
    return [...this.containers.values()].filter((c) => c.sandboxId === podSandboxId).map((c) => c.status);
  }

  /** The container's CRI log file (absolute): `<RFC3339Nano> <stream> <P|F> <line>` per line. */
  containerLogPath(containerId: string): string | undefined {
    return this.containers.get(containerId)?.logPath;
  }

  execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    return this.client.execSync(containerId, cmd, timeoutSeconds);
  }

  /** One relist: every container whose state changed since the last look is refreshed (and its event sent). */
  async relist(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    const t0 = performance.now();
    try {
      const seen = new Set<string>();
      for (const c of await this.client.listContainers()) {
        seen.add(c.id);
        const known = this.containers.get(c.id);
        if (!known || known.status.state !== c.state) await this.refreshContainer(c.id, c.podSandboxId);
      }
      for (const [id, c] of this.containers) {
        if (seen.has(id)) continue;
        this.containers.delete(id);
        this.emit(id, c.sandboxId, 'CONTAINER_DELETED_EVENT');
      }
      this.onRelist?.((performance.now() - t0) / 1000);
    } finally {
      this.relisting = false;
    }
  }

  getContainerEvents(listener: (ev: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    this.relistTimer ??= setInterval(() => {
      this.relist().catch(() => undefined); // a failed relist is retried at the next tick
    }, this.opts.relistIntervalMs ?? 1000);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.relistTimer) {
        clearInterval(this.relistTimer);
        this.relistTimer = undefined;
      }
    };
  }

  /** Stops listening and closes the connection; the pods keep running (see the module comment). */
  async close(): Promise<void> {
    if (this.relistTimer) clearInterval(this.relistTimer);
    this.relistTimer = undefined;
    this.listeners.clear();
    this.client.close();
  }
}
