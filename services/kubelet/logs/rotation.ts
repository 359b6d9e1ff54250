/**
 * Container log rotation, as upstream's container log manager: every monitor period each
 * running container's live log (`<attempt>.log`) is checked; once it reaches the max size
 * it is renamed to `<attempt>.log.<YYYYMMDD-hhmmss>` and the runtime is asked to reopen
 * its log (CRI ReopenContainerLog), so it writes a new file at the path. The oldest rotated
 * files go so the live file and the rotated ones number at most `maxFiles`. Upstream
 * gzips rotated files but the newest; here they stay plain, so a log shipper and
 * `kubectl logs` read every one as it is.
 */
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { rotatedFiles } from './reader.js';

/** upstream's --container-log-max-size and --container-log-max-files defaults */
export const DEFAULT_CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_CONTAINER_LOG_MAX_FILES = 5;
/** upstream checks the logs every 10 s */
export const DEFAULT_LOG_MONITOR_PERIOD_MS = 10_000;

export interface LogRotationPolicy {
  /** bytes a live log reaches before it rotates */
  maxSize: number;
  /** the live file and the rotated ones, at most (2 or more) */
  maxFiles: number;
}

/** Go's "20060102-150405" in UTC: rotated names sort by age. */
export function rotationSuffix(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/**
 * Rotates one container's log when it reached the max size; `reopen` asks the runtime to
 * write a new file. True when it rotated. A failed reopen renames the file back, so the
 * runtime's writes are never lost in a file nobody reads.
 */
export async function rotateLog(logPath: string, policy: LogRotationPolicy, reopen: () => Promise<void>, now = new Date()): Promise<boolean> {
  if (policy.maxFiles < 2) throw new RangeError(`container log max files must be 2 or more, not ${policy.maxFiles}`);
  const st = await stat(logPath).catch(() => undefined);
  if (!st || st.size < policy.maxSize) return false;
  // temporary files a rotation left behind (upstream cleanupUnusedLogs)
  const dir = path.dirname(logPath);
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (n.startsWith(`${path.basename(logPath)}.`) && n.endsWith('.tmp')) await unlink(path.join(dir, n)).catch(() => undefined);
  }
  // room for the file rotated now: maxFiles - 2 rotated ones stay, with the live one
  const rotated = await rotatedFiles(logPath);
  for (const f of rotated.slice(0, Math.max(0, rotated.length - (policy.maxFiles - 2)))) await unlink(f).catch(() => undefined);
  const target = `${logPath}.${rotationSuffix(now)}`;
  // two rotations in one second would overwrite the first: wait for the next check
  if (await stat(target).catch(() => undefined)) return false;
  await rename(logPath, target);
  try {
    await reopen();
  } catch (e) {
    await rename(target, logPath).catch(() => undefined);
    throw new Error(`reopening ${logPath} after rotating it: ${(e as Error).message}`, { cause: e });
  }
  return true;
}

/** What the log manager needs of the runtime: the running containers and ReopenContainerLog. */
export interface RotatingRuntime {
  runningContainers(): Array<{ id: string; logPath: string }>;
  reopenContainerLog(id: string): Promise<void>;
}

/** Checks every running container's log each period and rotates what is due. */
export class ContainerLogManager {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** rotations done (for tests and metrics) */
  rotations = 0;

  constructor(
    private readonly runtime: RotatingRuntime,
    private readonly policy: LogRotationPolicy,
    private readonly periodMs = DEFAULT_LOG_MONITOR_PERIOD_MS,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    if (policy.maxFiles < 2) throw new RangeError(`--container-log-max-files must be 2 or more, not ${policy.maxFiles}`);
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.rotateAll().finally(() => (this.running = undefined));
    }, this.periodMs);
  }

  async rotateAll(): Promise<void> {
    for (const c of this.runtime.runningContainers()) {
      try {
        if (await rotateLog(c.logPath, this.policy, () => this.runtime.reopenContainerLog(c.id))) this.rotations++;
      } catch (e) {
        this.log(`rotating the log of container ${c.id}: ${(e as Error).message}`);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** The CRI runtime as the log manager sees it: its running containers' log paths, and ReopenContainerLog. */
export function criRotatingRuntime(rt: {
  listPodSandboxes(): Array<{ id: string }>;
  listContainers(podSandboxId: string): Array<{ id: string; state: string }>;
  containerLogPath(id: string): string | undefined;
  client: { reopenContainerLog(id: string): Promise<void> };
}): RotatingRuntime {
  return {
    runningContainers: () =>
      rt
        .listPodSandboxes()
        .flatMap((sb) => rt.listContainers(sb.id))
        .filter((c) => c.state === 'CONTAINER_RUNNING')
        .flatMap((c) => {
          const logPath = rt.containerLogPath(c.id);
          return logPath ? [{ id: c.id, logPath }] : [];
        }),
    reopenContainerLog: (id) => rt.client.reopenContainerLog(id),
  };
}
