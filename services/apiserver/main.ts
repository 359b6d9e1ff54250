/**
 * `flotilla apiserver`: one apiserver in this process (what `flotilla up` supervises, and
 * what the benchmarks start, with the Node.js flags and Buffer pool size of nodeflags.ts). Stops on
 * SIGINT/SIGTERM, or when its supervising launcher is gone.
 */
import { parseArgs } from 'node:util';
import { durationFlag, intFlag, natsFlagUsage, natsUrlFlag } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { APISERVER_BUFFER_POOL_SIZE } from './nodeflags.js';
import { startApiServer } from './server.js';
import { DEFAULT_WATCH_CACHE_SIZE } from './watchcache.js';
import { DEFAULT_SERVICE_CLUSTER_IP_RANGE, DEFAULT_SERVICE_NODE_PORT_RANGE } from './serviceips/ranges.js';
import { TRACING_FLAG_OPTIONS, tracingFlags, tracingFlagsUsage } from '../../lib/tracing/mod.js';

export const APISERVER_USAGE = `usage: flotilla apiserver [--nats URL] [--port N] [--host ADDR] [--bucket NAME] [--replicas N] [--service-cluster-ip-range CIDR] [--service-node-port-range A-B] [--advertise-address IP] [--event-ttl DURATION] [--watch-cache-size N] [--tracing-* ...]

  ${natsFlagUsage()}
  --port N             HTTP port of the Kubernetes REST API (default 6443; 0 = any free port)
  --host ADDR          the address it listens on (default 127.0.0.1)
  --bucket NAME        the JetStream KV bucket that holds the objects
  --replicas N         JetStream replicas of the bucket (cluster mode)
  --service-cluster-ip-range CIDR  Services' cluster IPs (default ${DEFAULT_SERVICE_CLUSTER_IP_RANGE}; the first is the kubernetes Service's)
  --advertise-address IP  the address the kubernetes Service's endpoints name (default: --host when it is a
                       specific address, else this host's default-route address)
  --service-node-port-range A-B    node ports of NodePort and LoadBalancer Services (default ${DEFAULT_SERVICE_NODE_PORT_RANGE})
  --event-ttl DURATION an Event not written for this long is deleted, as upstream's etcd lease does (default 1h)
  --watch-cache-size N the recent events kept for watches and continued lists from an older resourceVersion,
                       all resources together (default ${DEFAULT_WATCH_CACHE_SIZE}); older ones get 410 Gone and relist
${tracingFlagsUsage()}`;

export async function runApiServer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string', default: '6443' },
      host: { type: 'string', default: '127.0.0.1' },
      bucket: { type: 'string' },
      replicas: { type: 'string' },
      'service-cluster-ip-range': { type: 'string', default: DEFAULT_SERVICE_CLUSTER_IP_RANGE },
      'service-node-port-range': { type: 'string', default: DEFAULT_SERVICE_NODE_PORT_RANGE },
      'advertise-address': { type: 'string' },
      'event-ttl': { type: 'string' },
      'watch-cache-size': { type: 'string' },
      ...TRACING_FLAG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(APISERVER_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const eventTtlMs = durationFlag(values['event-ttl'], '--event-ttl');
  const watchCacheSize = intFlag(values['watch-cache-size'], '--watch-cache-size', 1);
  Buffer.poolSize = APISERVER_BUFFER_POOL_SIZE;
  return startAndRunUntilStopped(
    'apiserver',
    () =>
      startApiServer({
        natsUrl,
        httpPort: Number(values.port),
        httpHost: values.host,
        bucket: values.bucket,
        replicas: values.replicas ? Number(values.replicas) : undefined,
        serviceClusterIPRange: values['service-cluster-ip-range'],
        serviceNodePortRange: values['service-node-port-range'],
        advertiseAddress: values['advertise-address'],
        eventTtlMs,
        watchCacheSize,
        tracing: tracingFlags(values),
      }),
    (server) => console.log(`apiserver: serving ${server.httpUrl} (NATS ${natsUrl})`),
  );
}

runIfEntryPoint(import.meta.url, 'apiserver', runApiServer);
