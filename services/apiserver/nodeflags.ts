/**
 * Node.js flags the apiserver process runs with (the launcher and the benchmarks start it
 * with them), as a JVM server is given -Xms: V8's defaults are sized for a browser tab.
 * - Every request allocates short-lived JSON objects; a larger young generation makes the
 *   scavenger run less often: about 15% more scheduled pods/s end to end on the 2-core
 *   machine (SchedulingBasic/5000Nodes_50000Pods, 3,000 -> 3,550; 256 MiB gained nothing
 *   over 128).
 * - The young generation at that size from the start, and an old generation that is
 *   first collected at 1 GiB rather than grown from a few MiB through a mark-compact at
 *   each step: a freshly started apiserver's first tens of thousands of writes cost a
 *   quarter less (SchedulingBasic/5000Nodes, five rounds: apiserver 220-233 -> 168-187
 *   CPU µs per pod, 4,208-4,447 -> 4,756-5,227 pods/s; its peak RSS 454-504 -> 435-445
 *   MiB). Once warm nothing changes (5000Nodes_50000Pods the same). The price: after a
 *   burst of 20,000 writes an idle apiserver held 275 MiB a minute later, against 139
 *   without (V8's memory reducer collects what it can either way).
 */
export const APISERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=128', '--min-semi-space-size=128', '--initial-old-space-size=1024'];

/**
 * Node's Buffer pool size in the apiserver process. Every write makes a few Buffers of about
 * a kB (its stored bytes, its change event, its watch frames' JSON), which Node cuts from a
 * shared pool ArrayBuffer when smaller than half of it: at the default 8 KiB a new pool was
 * allocated every few writes, 2.5% of the apiserver's CPU in SchedulingBasic/5000Nodes.
 */
export const APISERVER_BUFFER_POOL_SIZE = 64 * 1024;
