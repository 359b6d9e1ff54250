/**
 * What watch frames share within one turn of the event loop, by object: every watcher of a
 * resource is queued the watch cache's same objects in a turn (the scheduler's informer and
 * the benchmark's tracker both watch every pod), so an object's encoding, its encoding
 * without managedFields and whole frames are made once for all of them. Forgotten by a
 * setImmediate queued behind the flushes that share it, so nothing is served from a turn
 * older than the one it was queued in.
 */
export class TurnMemo<K extends object, V> {
  private readonly made = new Map<K, V>();

  get(key: K): V | undefined {
    return this.made.get(key);
  }

  set(key: K, value: V): void {
    if (this.made.size === 0) setImmediate(() => this.made.clear());
    this.made.set(key, value);
  }
}
