/**
 * Node.js flags the apiserver process runs with (the launcher and the benchmarks start it
 * with them). Every request allocates short-lived JSON objects; a larger young generation
 * makes the scavenger run less often: about 15% more scheduled pods/s end to end on the
 * 2-core machine (SchedulingBasic/5000Nodes_50000Pods, 3,000 -> 3,550; 256 MiB gained
 * nothing over 128).
 */
export const APISERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=128'];

/**
 * Node's Buffer pool size in the apiserver process. Every write makes a few Buffers of about
 * a kB (its stored bytes, its change event, its watch frames' JSON), which Node cuts from a
 * shared pool ArrayBuffer when smaller than half of it: at the default 8 KiB a new pool was
 * allocated every few writes, 2.5% of the apiserver's CPU in SchedulingBasic/5000Nodes.
 */
export const APISERVER_BUFFER_POOL_SIZE = 64 * 1024;
