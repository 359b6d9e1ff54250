/**
 * The client library's public surface: what schedulers, controllers, kubelets and
 * benchmarks import to talk to the apiserver over NATS.
 */
export { connectNats, partsLength, publishParts, type ConnectOptions } from './connect.js';
export { ApiClient, type ApiClientOptions, type KubeObject, type ObjectList } from './client.js';
export { ResourceClient } from './resourceclient.js';
export { Watch, type WatchClientOptions } from './watch.js';
export { dropManagedFields, metadataManagedFieldsMember, withoutManagedFields, withoutMetadataManagedFields } from './managedfields.js';
export { toStatusError } from './transport.js';
export type { PreferredResourcesOptions } from './discovery.js';
export * from './resources.js';
export {
  DeletedFinalStateUnknown,
  Indexer,
  NAMESPACE_INDEX,
  SharedInformer,
  SharedInformerFactory,
  deletedObject,
  deletionHandlingKey,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type EventHandlers,
  type IndexFunc,
  type InformerFactoryOptions,
  type InformerOptions,
} from './informer.js';
export { Batcher, type BatchSender, type BatcherOptions } from './batcher.js';
export { chunks, forEachLimited } from './concurrency.js';
export { DelayingQueue, RateLimitingQueue, WorkQueue, runWorkers, type QueueOptions, type RateLimitingQueueOptions, type RunWorkersOptions } from './workqueue.js';
export {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './ratelimiter.js';
export { BackoffStepper, DefaultBackoff, DefaultRetry, WaitTimeoutError, exponentialBackoff, onError, retryOnConflict, sleep, type Backoff } from './retry.js';
export { LeaderElector, type LeaderCallbacks, type LeaderElectionConfig } from './leaderelection.js';
export { applyHostService, type HostService, type HostServicePort } from './hostservice.js';
export { EventRecorder, type EventRecorderOptions, type EventSpec, type EventType } from './events.js';
export * from './protocol.js';
export * from '../api/errors.js';
export { componentUserAgent } from '../api/version.js';
