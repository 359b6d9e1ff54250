/**
 * Node.js flags the scheduler process runs with (the launcher and the benchmarks start it
 * with them). Its informers keep every pod and node, so everything a watch frame brings
 * that the cache keeps survives the young generation, and at V8's default 16 MiB
 * semi-space the scavenger ran about once per thousand pods, each pass costing more as the
 * old generation grew. At 64 MiB it runs a quarter as often: at a million pods the
 * scheduler's scavenge pauses fell from 14.8 to 7.2 µs per pod and its CPU from 60.7 to
 * 53.3 µs per pod (SchedulingBasic/5000Nodes_50000Pods: 7.3-7.7 -> 4.9 µs per pod of
 * pauses; docs/scheduler.md, Dec 8). A fixed young generation from the start (as the
 * apiserver's) gained nothing here.
 */
export const SCHEDULER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
