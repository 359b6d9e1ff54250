/** Cluster-level logging's shared vocabulary: the stream's subjects and its messages (batches of CRI lines). */
export * from './subjects.js';
export * from './batch.js';
export * from './stream.js';
