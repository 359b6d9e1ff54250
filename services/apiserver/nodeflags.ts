/**
 * Node.js flags the apiserver process runs with (the launcher and the benchmarks start it
 * with them). Every request allocates short-lived JSON objects; a larger young generation
 * makes the scavenger run less often: about 15% more scheduled pods/s end to end on the
 * 2-core machine (SchedulingBasic/5000Nodes_50000Pods, 3,000 -> 3,550; 256 MiB gained
 * nothing over 128).
 */
export const APISERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=128'];
