/**
 * Tracing: one OpenTelemetry trace per pod, from its create to its containers' start.
 * The provider (sampling, exporters), the context's travel in headers and annotations,
 * the JetStream trace stream, and the flags components share.
 */
export * from './propagation.js';
export * from './provider.js';
export * from './jetstream.js';
export * from './flags.js';
export { ATTR_K8S_CONTAINER_NAME, ATTR_K8S_NAMESPACE_NAME, ATTR_K8S_NODE_NAME, ATTR_K8S_POD_NAME, ATTR_K8S_POD_UID } from '@opentelemetry/semantic-conventions';
