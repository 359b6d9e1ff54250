/**
 * Static pods from a folder (upstream's kubelet file source, --pod-manifest-path): every
 * file not starting with "." holds one or more pods in YAML or JSON. Each becomes the
 * pod the kubelet runs, as upstream makes it:
 *   - name `<name>-<nodeName>`, namespace default unless given, spec.nodeName the node;
 *   - uid = the hash of the pod (manifest, node and file), and the annotations
 *     kubernetes.io/config.hash (the same), kubernetes.io/config.source: file and
 *     kubernetes.io/config.seen;
 * so an edited manifest is a new pod (new uid), which replaces the old one.
 * StaticPodSource watches the folder (fs.watch, and a re-read every 20 s as upstream's
 * file source) and tells what was added, changed and removed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseAllDocuments } from 'yaml';
import { metaNamespaceKey } from '../../../lib/client/mod.js';
import { metaTime } from '../../../lib/api/time.js';

export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
/** upstream's file source re-reads the folder this often besides inotify */
export const FILE_CHECK_INTERVAL_MS = 20_000;

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

export class StaticPodManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaticPodManifestError';
  }
}

/** The pods one manifest file holds, made static pods of nodeName. */
export function staticPodsOf(file: string, text: string, nodeName: string): Pod[] {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJSON();
    });
  } catch (e) {
    throw new StaticPodManifestError(`${file}: not YAML or JSON: ${(e as Error).message}`);
  }
  return docs
    .filter((d) => d !== null && d !== undefined)
    .map((d, i) => {
      const pod = d as Pod;
      if (typeof pod !== 'object' || pod.kind !== 'Pod' || (pod.apiVersion ?? 'v1') !== 'v1')
        throw new StaticPodManifestError(`${file}: document ${i + 1} is not a v1 Pod (kind ${(pod as { kind?: string })?.kind ?? 'missing'})`);
      if (!pod.metadata?.name) throw new StaticPodManifestError(`${file}: document ${i + 1}: the pod has no metadata.name`);
      if (!pod.spec?.containers?.length) throw new StaticPodManifestError(`${file}: pod ${pod.metadata.name} has no containers`);
      return staticPod(pod, file, nodeName);
    });
}

function staticPod(manifest: Pod, file: string, nodeName: string): Pod {
  const name = `${manifest.metadata!.name}-${nodeName}`;
  const namespace = manifest.metadata!.namespace || 'default';
  // upstream hashes the pod with its source and node: the same manifest on another node is another pod
  const hash = createHash('md5').update(JSON.stringify(manifest)).update(nodeName).update(file).digest('hex');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...manifest.metadata,
      name,
      namespace,
      uid: hash,
      annotations: { ...manifest.metadata!.annotations, [CONFIG_HASH_ANNOTATION]: hash, [CONFIG_SEEN_ANNOTATION]: metaTime(), [CONFIG_SOURCE_ANNOTATION]: 'file' },
    },
    spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...manifest.spec!, nodeName },
    status: { phase: 'Pending' },
  };
}

/** Every static pod in dir, by namespace/name; a bad file is told to onError and skipped. */
export function readManifestDir(dir: string, nodeName: string, onError: (e: Error) => void): Map<string, Pod> {
  const out = new Map<string, Pod>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('.')) continue;
    const file = path.join(dir, f);
    try {
      if (!statSync(file).isFile()) continue;
      for (const pod of staticPodsOf(file, readFileSync(file, 'utf8'), nodeName)) {
        const key = metaNamespaceKey(pod);
        if (out.has(key)) throw new StaticPodManifestError(`${file}: pod ${key} is also in another manifest; the first one runs`);
        out.set(key, pod);
      }
    } catch (e) {
      onError(e as Error);
    }
  }
  return out;
}

export interface StaticPodHandler {
  /** a new pod, or a new version of one (another uid) */
  add(pod: Pod): void;
  remove(key: string): void;
}

/** Watches the manifest folder and tells the handler what changed. */
export class StaticPodSource {
  readonly pods = new Map<string, Pod>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private readonly reported = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly nodeName: string,
    private readonly handler: StaticPodHandler,
    private readonly log: (line: string) => void,
    private readonly intervalMs = FILE_CHECK_INTERVAL_MS,
  ) {}

  start(): void {
    this.sync();
    try {
      // editors write a new file and rename it: a short pause lets the folder settle
      this.watcher = watch(this.dir, () => this.syncSoon());
    } catch (e) {
      this.log(`static pods: watching ${this.dir}: ${(e as Error).message}; re-reading it every ${this.intervalMs / 1000} s`);
    }
    this.timer = setInterval(() => this.sync(), this.intervalMs);
  }

  private syncSoon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sync();
    }, 100);
  }

  /** Reads the folder again and hands the differences on. */
  sync(): void {
    const now = readManifestDir(this.dir, this.nodeName, (e) => {
      if (this.reported.has(e.message)) return;
      this.reported.add(e.message);
      this.log(`static pods: ${e.message}`);
    });
    for (const key of this.pods.keys()) {
      if (now.has(key)) continue;
      this.pods.delete(key);
      this.handler.remove(key);
    }
    for (const [key, pod] of now) {
      const had = this.pods.get(key);
      if (had?.metadata?.uid === pod.metadata?.uid) continue;
      this.pods.set(key, pod);
      this.handler.add(pod);
    }
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.pending);
  }
}
