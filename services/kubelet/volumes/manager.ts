/**
 * The real node's volumes, after upstream's volume manager and plugins: each pod's
 * volumes are set up under `<root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`
 * before its sandbox runs, handed to its containers as CRI mounts, rewritten when a
 * ConfigMap or Secret they show changes (and downwardAPI files when the pod's labels or
 * annotations do), and torn down (tmpfs unmounted, folder removed) when the pod goes.
 * Set-up is idempotent, so a restarted kubelet that adopts a pod keeps its volumes
 * (files and tmpfs mounts stay; the same payload writes nothing).
 *
 * Plugins: emptyDir (a folder, or a tmpfs with `medium: Memory` sized by sizeLimit),
 * configMap, secret (on a tmpfs), downwardAPI, projected (configMap, secret and
 * downwardAPI sources; serviceAccountToken sources are skipped until the kubelet
 * requests tokens), hostPath (with type checks).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Container, Pod, Secret, Volume } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { parseQuantity } from '../../../lib/api/quantity.js';
import { ContainerConfigError } from '../containerconfig.js';
import type { Mount } from '../runtime.js';
import { AtomicWriter, type Payload } from './atomicwriter.js';
import { configMapPayload, VolumeSetUpError } from './configmap.js';
import { downwardAPIPayload } from './downwardapi.js';
import { checkHostPathType } from './hostpath.js';
import { secretPayload } from './secret.js';
import { mountTmpfs, unmountUnder } from './tmpfs.js';

export { VolumeSetUpError } from './configmap.js';

export interface VolumeManagerOptions {
  /** the kubelet's root-dir: volumes go under <rootDir>/pods/<uid>/volumes */
  rootDir: string;
  configMap(namespace: string, name: string): Promise<ConfigMap>;
  secret(namespace: string, name: string): Promise<Secret>;
  /** the node's allocatable, for resourceFieldRef files */
  allocatable: () => Record<string, string>;
  log?: (line: string) => void;
}

interface PodVolumes {
  pod: Pod;
  /** volume name → the host path containers mount */
  paths: Map<string, string>;
}

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** upstream's plugin folder names */
function pluginOf(v: Volume): string | undefined {
  if (v.emptyDir) return 'kubernetes.io~empty-dir';
  if (v.configMap) return 'kubernetes.io~configmap';
  if (v.secret) return 'kubernetes.io~secret';
  if (v.downwardAPI) return 'kubernetes.io~downward-api';
  if (v.projected) return 'kubernetes.io~projected';
  return undefined;
}

/** the plugins upstream mounts read-only whatever the volumeMount says */
function alwaysReadOnly(v: Volume): boolean {
  return !!(v.configMap || v.secret || v.downwardAPI || v.projected);
}

const PROPAGATION = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
} as const;

/** a memory-backed emptyDir's size: sizeLimit, else the pod's memory limit when every container has one (upstream) */
function memoryVolumeSize(pod: Pod, v: Volume): bigint | undefined {
  if (v.emptyDir?.sizeLimit) return parseQuantity(String(v.emptyDir.sizeLimit)).value();
  const limits = (pod.spec?.containers ?? []).map((c) => c.resources?.limits?.memory);
  if (!limits.length || limits.some((l) => l === undefined)) return undefined;
  return limits.reduce((sum, l) => sum + parseQuantity(String(l)).value(), 0n);
}

export class VolumeManager {
  private readonly pods = new Map<string, PodVolumes>();
  private readonly log: (line: string) => void;

  constructor(private readonly opts: VolumeManagerOptions) {
    this.log = opts.log ?? (() => {});
  }

  podDir(uid: string): string {
    return path.join(this.opts.rootDir, 'pods', uid);
  }

  /** Sets up every volume of the pod; VolumeSetUpError names the volume as upstream's MountVolume.SetUp failure. */
  async setUpPod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const pv: PodVolumes = this.pods.get(uid) ?? { pod, paths: new Map() };
    pv.pod = pod;
    for (const v of pod.spec?.volumes ?? []) {
      try {
        pv.paths.set(v.name, await this.setUpVolume(pod, v));
      } catch (e) {
        throw new VolumeSetUpError(`MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
      }
    }
    this.pods.set(uid, pv);
  }

  private volumeDir(pod: Pod, v: Volume, plugin: string): string {
    return path.join(this.podDir(pod.metadata?.uid ?? ''), 'volumes', plugin, v.name);
  }

  private async setUpVolume(pod: Pod, v: Volume): Promise<string> {
    if (v.hostPath) {
      checkHostPathType(v.hostPath.path, v.hostPath.type);
      return v.hostPath.path;
    }
    const plugin = pluginOf(v);
    if (!plugin) throw new VolumeSetUpError(`volume "${v.name}": this kubelet supports emptyDir, configMap, secret, downwardAPI, projected and hostPath volumes`);
    const dir = this.volumeDir(pod, v, plugin);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    if (v.emptyDir) {
      if (v.emptyDir.medium === 'Memory') mountTmpfs(dir, memoryVolumeSize(pod, v));
      else if (v.emptyDir.medium) throw new VolumeSetUpError(`unknown storage medium "${v.emptyDir.medium}"`);
      // anyone in the pod may write an emptyDir (upstream 0777; chmod, as the umask narrows mkdir's mode)
      chmodSync(dir, 0o777);
      return dir;
    }
    // secrets never touch the disk; projected volumes may hold them too
    if (v.secret || v.projected) mountTmpfs(dir);
    new AtomicWriter(dir).write(await this.payload(pod, v));
    return dir;
  }

  private async payload(pod: Pod, v: Volume): Promise<Payload> {
    const ns = pod.metadata?.namespace ?? '';
    if (v.configMap) {
      const optional = !!v.configMap.optional;
      return configMapPayload(await this.fetch(() => this.opts.configMap(ns, v.configMap!.name ?? ''), optional), v.configMap.items, v.configMap.defaultMode, optional);
    }
    if (v.secret) {
      const optional = !!v.secret.optional;
      return secretPayload(await this.fetch(() => this.opts.secret(ns, v.secret!.secretName ?? ''), optional), v.secret.items, v.secret.defaultMode, optional);
    }
    if (v.downwardAPI) return downwardAPIPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode, this.opts.allocatable());
    const out: Payload = new Map();
    const mode = v.projected?.defaultMode;
    for (const s of v.projected?.sources ?? []) {
      let part: Payload = new Map();
      if (s.configMap) {
        const optional = !!s.configMap.optional;
        part = configMapPayload(await this.fetch(() => this.opts.configMap(ns, s.configMap!.name ?? ''), optional), s.configMap.items, mode, optional);
      } else if (s.secret) {
        const optional = !!s.secret.optional;
        part = secretPayload(await this.fetch(() => this.opts.secret(ns, s.secret!.name ?? ''), optional), s.secret.items, mode, optional);
      } else if (s.downwardAPI) part = downwardAPIPayload(pod, s.downwardAPI.items, mode, this.opts.allocatable());
      for (const [k, f] of part) out.set(k, f);
    }
    return out;
  }

  /** The object; undefined when it is missing and optional (an empty volume, as upstream). */
  private async fetch<T>(get: () => Promise<T>, optional: boolean): Promise<T | undefined> {
    try {
      return await get();
    } catch (e) {
      if (optional && isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The CRI mounts of container c (its volumeMounts; subPath folders are made as upstream does). */
  mounts(pod: Pod, c: Container): Mount[] {
    const pv = this.pods.get(pod.metadata?.uid ?? '');
    const out: Mount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const v = pod.spec?.volumes?.find((x) => x.name === m.name);
      const host = pv?.paths.get(m.name);
      if (!v || !host) throw new ContainerConfigError(`cannot find volume "${m.name}" to mount into container "${c.name}"`);
      let hostPath = host;
      if (m.subPath) {
        if (path.isAbsolute(m.subPath) || m.subPath.split('/').includes('..')) throw new ContainerConfigError(`subPath "${m.subPath}" of volume mount "${m.name}" must be a relative path without '..'`);
        hostPath = path.join(host, m.subPath);
        if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o750 });
      }
      out.push({
        containerPath: m.mountPath,
        hostPath,
        readonly: !!m.readOnly || alwaysReadOnly(v),
        propagation: PROPAGATION[(m.mountPropagation ?? 'None') as keyof typeof PROPAGATION] ?? 'PROPAGATION_PRIVATE',
      });
    }
    return out;
  }

  /** A ConfigMap or Secret changed: rewrite the volumes that show it, atomically. */
  async objectChanged(kind: 'configmap' | 'secret', namespace: string, name: string): Promise<void> {
    for (const pv of this.pods.values()) {
      if (pv.pod.metadata?.namespace !== namespace) continue;
      for (const v of pv.pod.spec?.volumes ?? []) {
        const shows =
          kind === 'configmap'
            ? v.configMap?.name === name || v.projected?.sources?.some((s) => s.configMap?.name === name)
            : v.secret?.secretName === name || v.projected?.sources?.some((s) => s.secret?.name === name);
        if (shows) await this.rewrite(pv.pod, v);
      }
    }
  }

  /** The pod object changed: downwardAPI files follow its labels and annotations. */
  async podUpdated(pod: Pod): Promise<void> {
    const pv = this.pods.get(pod.metadata?.uid ?? '');
    if (!pv) return;
    pv.pod = pod;
    for (const v of pod.spec?.volumes ?? []) if (v.downwardAPI || v.projected?.sources?.some((s) => s.downwardAPI)) await this.rewrite(pod, v);
  }

  private async rewrite(pod: Pod, v: Volume): Promise<void> {
    const plugin = pluginOf(v);
    if (!plugin) return;
    try {
      if (new AtomicWriter(this.volumeDir(pod, v, plugin)).write(await this.payload(pod, v)))
        this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: volume ${v.name} updated`);
    } catch (e) {
      // upstream keeps the last good contents and tries again at the next sync
      this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: updating volume ${v.name}: ${(e as Error).message}`);
    }
  }

  /** The pod is gone: tmpfs mounts unmounted, its folder removed. */
  tearDownPod(uid: string): void {
    this.pods.delete(uid);
    if (!uid) return;
    const dir = this.podDir(uid);
    if (!existsSync(dir)) return;
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  }

  /** After a restart: the folders of pods that no longer exist go. */
  removeOrphans(live: Set<string>): void {
    const root = path.join(this.opts.rootDir, 'pods');
    if (!existsSync(root)) return;
    for (const name of readdirSync(root)) {
      if (!UID.test(name) || live.has(name)) continue;
      this.log(`removing the volumes of pod uid ${name}: the pod is gone`);
      this.tearDownPod(name);
    }
  }
}
