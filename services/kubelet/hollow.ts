/**
 * The `hollow` runtime (as KWOK and kubemark): sandboxes and containers are records in
 * memory; nothing runs. A container runs until stopped, unless its pod's annotations say
 * otherwise: `flotilla.io/hollow-run-seconds` makes it exit after that many seconds,
 * with `flotilla.io/hollow-exit-code` (default 0), so Jobs can succeed and fail and
 * restart policies have something to act on.
 */
import { createHash } from 'node:crypto';
import { normalizeImage } from './images/reference.js';
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerEventType,
  ContainerRuntime,
  ContainerStatus,
  PodSandboxConfig,
  PodSandboxStatus,
} from './runtime.js';

export const RUN_SECONDS_ANNOTATION = 'flotilla.io/hollow-run-seconds';
export const EXIT_CODE_ANNOTATION = 'flotilla.io/hollow-exit-code';
/** what a hollow container that ignores SIGTERM reports when stopped: 128 + 15 */
export const STOPPED_EXIT_CODE = 143;

interface Sandbox {
  status: PodSandboxStatus;
  containers: Set<string>;
  runSeconds?: number;
  exitCode: number;
}

interface Container {
  status: ContainerStatus;
  sandboxId: string;
  timer?: NodeJS.Timeout;
}

function parseRunSeconds(v: string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what}: annotation ${RUN_SECONDS_ANNOTATION} must be a non-negative number of seconds, got "${v}"`);
  return n;
}

function parseExitCode(v: string | undefined, what: string): number {
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`${what}: annotation ${EXIT_CODE_ANNOTATION} must be an integer 0..255, got "${v}"`);
  return n;
}

export class HollowRuntime implements ContainerRuntime {
  readonly runtimeName = 'hollow';
  readonly runtimeVersion = '0.1.0';
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  private readonly listeners = new Set<(ev: ContainerEvent) => void>();
  private seq = 0;

  private newId(): string {
    // unique within the process and across restarts of it
    return createHash('sha256').update(`${process.pid}/${Date.now()}/${++this.seq}/${Math.random()}`).digest('hex');
  }

  private emit(containerId: string, podSandboxId: string, type: ContainerEventType): void {
    const ev: ContainerEvent = { containerId, podSandboxId, type, createdAt: Date.now() };
    for (const l of this.listeners) l(ev);
  }

  async runPodSandbox(config: PodSandboxConfig, ip?: string): Promise<string> {
    const what = `pod ${config.metadata.namespace}/${config.metadata.name}`;
    const ann = config.annotations ?? {};
    // invalid annotations fail the sandbox, as a runtime rejects a bad config
    const runSeconds = parseRunSeconds(ann[RUN_SECONDS_ANNOTATION], what);
    const exitCode = parseExitCode(ann[EXIT_CODE_ANNOTATION], what);
    const id = this.newId();
    this.sandboxes.set(id, {
      status: {
        id,
        metadata: config.metadata,
        state: 'SANDBOX_READY',
        createdAt: Date.now() * 1e6,
        network: ip ? { ip } : undefined,
        annotations: { ...ann },
      },
      containers: new Set(),
      runSeconds,
      exitCode,
    });
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    const sb = this.sandboxes.get(podSandboxId);
    if (!sb) return;
    for (const c of sb.containers) await this.stopContainer(c, 0);
    sb.status.state = 'SANDBOX_NOTREADY';
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    const sb = this.sandboxes.get(podSandboxId);
    if (!sb) return;
    await this.stopPodSandbox(podSandboxId);
    for (const c of [...sb.containers]) await this.removeContainer(c);
    this.sandboxes.delete(podSandboxId);
  }

  podSandboxStatus(podSandboxId: string): PodSandboxStatus | undefined {
    return this.sandboxes.get(podSandboxId)?.status;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig): Promise<string> {
    const sb = this.sandboxes.get(podSandboxId);
    if (!sb) throw new Error(`createContainer ${config.metadata.name}: no pod sandbox ${podSandboxId}`);
    if (sb.status.state !== 'SANDBOX_READY') throw new Error(`createContainer ${config.metadata.name}: pod sandbox ${podSandboxId} is not ready`);
    const id = this.newId();
    const image = normalizeImage(config.image);
    const repo = image.replace(/[:@][^/]*$/, '');
    const digest = createHash('sha256').update(image).digest('hex');
    this.containers.set(id, {
      sandboxId: podSandboxId,
      status: {
        id,
        metadata: config.metadata,
        state: 'CONTAINER_CREATED',
        createdAt: Date.now(),
        startedAt: 0,
        finishedAt: 0,
        exitCode: 0,
        image,
        imageRef: `${repo}@sha256:${digest}`,
        reason: '',
        message: '',
      },
    });
    sb.containers.add(id);
    this.emit(id, podSandboxId, 'CONTAINER_CREATED_EVENT');
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`startContainer: no container ${containerId}`);
    if (c.status.state !== 'CONTAINER_CREATED') throw new Error(`startContainer ${c.status.metadata.name}: container is ${c.status.state}, not created`);
    const sb = this.sandboxes.get(c.sandboxId)!;
    c.status.state = 'CONTAINER_RUNNING';
    c.status.startedAt = Date.now();
    if (sb.runSeconds !== undefined) {
      c.timer = setTimeout(() => this.exit(c, sb.exitCode, sb.exitCode === 0 ? 'Completed' : 'Error'), sb.runSeconds * 1000);
    }
    this.emit(containerId, c.sandboxId, 'CONTAINER_STARTED_EVENT');
  }

  private exit(c: Container, exitCode: number, reason: string): void {
    if (c.status.state !== 'CONTAINER_RUNNING') return;
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    c.status.state = 'CONTAINER_EXITED';
    c.status.finishedAt = Date.now();
    c.status.exitCode = exitCode;
    c.status.reason = reason;
    this.emit(c.status.id, c.sandboxId, 'CONTAINER_STOPPED_EVENT');
  }

  async stopContainer(containerId: string, _timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) return;
    if (c.status.state === 'CONTAINER_CREATED') {
      c.status.state = 'CONTAINER_EXITED';
      c.status.finishedAt = Date.now();
      return;
    }
    // a hollow container ends at the first signal
    this.exit(c, STOPPED_EXIT_CODE, 'Error');
  }

  async removeContainer(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) return;
    if (c.timer) clearTimeout(c.timer);
    this.containers.delete(containerId);
    this.sandboxes.get(c.sandboxId)?.containers.delete(containerId);
    this.emit(containerId, c.sandboxId, 'CONTAINER_DELETED_EVENT');
  }

  containerStatus(containerId: string): ContainerStatus | undefined {
    return this.containers.get(containerId)?.status;
  }

  getContainerEvents(listener: (ev: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The running containers with their pods' metadata (synthetic log lines are printed for these). */
  *runningContainers(): Iterable<{ namespace: string; pod: string; uid: string; container: string; startedAt: number }> {
    for (const c of this.containers.values()) {
      if (c.status.state !== 'CONTAINER_RUNNING') continue;
      const sb = this.sandboxes.get(c.sandboxId);
      if (sb) yield { namespace: sb.status.metadata.namespace, pod: sb.status.metadata.name, uid: sb.status.metadata.uid, container: c.status.metadata.name, startedAt: c.status.startedAt };
    }
  }

  /** How many sandboxes and containers it holds (for tests and metrics). */
  counts(): { sandboxes: number; containers: number } {
    return { sandboxes: this.sandboxes.size, containers: this.containers.size };
  }

  async close(): Promise<void> {
    for (const c of this.containers.values()) if (c.timer) clearTimeout(c.timer);
    this.containers.clear();
    this.sandboxes.clear();
    this.listeners.clear();
  }
}
