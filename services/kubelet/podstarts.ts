/**
 * How many pods the kubelet starts at once. Upstream's kubelet gives each pod its own
 * worker and lets containerd sort it out; here, 100 pods created together each asked
 * containerd for a sandbox at the same moment, and on 2 cores every one of them finished
 * late (the first pod Running after 34 s, the last after 64 s: bench/podstartup.ts). A
 * few starts at a time (sandbox, then containers) keep containerd, the CNI plugins and
 * the shims busy without thrashing, so pods reach Running in the order they came.
 */
export class PodStartQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`pod start parallelism must be at least 1, got ${limit}`);
  }

  /** Runs fn once one of the limit slots is free; resolves or rejects with it. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** pod starts waiting for a slot */
  get queued(): number {
    return this.waiting.length;
  }
}
