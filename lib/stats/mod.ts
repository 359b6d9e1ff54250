/** Resource readings (node, pod, container CPU and memory) and how they travel from kubelets to the metrics service. */
export type { ContainerSample, NodeSample, PodSample } from './samples.js';
export { CHUNK_BYTES, KUBELET_STATS_SUBJECT, scrapeKubelets, serveKubeletStats, type ScrapeOptions, type ScrapeResult } from './wire.js';
