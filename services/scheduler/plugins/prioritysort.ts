/** PrioritySort (upstream queuesort): higher priority first, then the earlier queue timestamp. */
import type { QueuedPodInfo, QueueSortPlugin } from '../framework/types.js';

export const PRIORITYSORT = 'PrioritySort';

export class PrioritySort implements QueueSortPlugin {
  readonly name = PRIORITYSORT;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.timestamp < b.timestamp);
  }
}

export function newPrioritySort(): PrioritySort {
  return new PrioritySort();
}
