/**
 * Controller expectations (upstream pkg/controller/controller_utils.go): a controller
 * that just asked for N creations or deletions must not act on its cache again until
 * the informer has shown it those changes, or it would create (or delete) twice. The
 * counts are lowered as the pod events arrive; a record older than 5 minutes is
 * considered satisfied anyway, so a lost event cannot wedge a controller forever.
 * Deletions are tracked by pod key (UIDTrackingControllerExpectations), so the delete
 * event of a pod the controller did not delete does not count.
 */

export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Record {
  add: number;
  del: number;
  /** keys of the pods this controller asked to delete and has not yet seen go */
  deleting: Set<string>;
  at: number;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Record>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when the controller may act on key: nothing is in flight, or the record expired. */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.now() - r.at > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, n: number): void {
    this.records.set(key, { add: n, del: 0, deleting: new Set(), at: this.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.records.set(key, { add: 0, del: podKeys.length, deleting: new Set(podKeys), at: this.now() });
  }

  /** One expected creation was seen (or will never happen: the create failed or was skipped). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r && r.add > 0) r.add--;
  }

  /** A pod went (or will not go: its delete failed); only pods this controller deleted count. */
  deletionObserved(key: string, podKey: string): void {
    const r = this.records.get(key);
    if (r && r.deleting.delete(podKey)) r.del--;
  }

  /** The controller's object is gone. */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** The outstanding counts (for tests and logs). */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }
}
