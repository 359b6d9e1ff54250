/**
 * `npm run bench:tracing`: what tracing costs per pod on the hot paths, in process and
 * without export (the end-to-end figure is the scheduler benchmark with and without
 * `--tracing=false`, see bench/README.md): the apiserver's create wrapper at the default
 * sampling rate against none, and the scheduler's and kubelet's check of a pod without
 * the annotation.
 */
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { DEFAULT_SAMPLING_RATE, sampledContextFromAnnotations, startTracing } from '../lib/tracing/mod.js';
import { traceCreate } from '../services/apiserver/tracing.js';
import { tracePlacement } from '../services/scheduler/tracing.js';

function pod(i: number): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default', labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

async function perOp(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(n, 10_000); i++) await fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '200000' }, rate: { type: 'string' } } });
  const n = Number(values.n);
  const rate = values.rate === undefined ? DEFAULT_SAMPLING_RATE : Number(values.rate);
  const tracing = await startTracing({ service: 'bench', samplingRate: rate });
  const store = async (p: Pod) => p;
  const plain = await perOp(n, (i) => store(pod(i)));
  const traced = await perOp(n, (i) => {
    const p = pod(i);
    return traceCreate(tracing, 'default', p, undefined, () => store(p));
  });
  const unannotated = pod(0);
  const check = await perOp(n, () => sampledContextFromAnnotations(unannotated.metadata?.annotations));
  const placement = await perOp(n, () => tracePlacement(tracing.tracer, unannotated, 'node-0', performance.now()));
  await tracing.shutdown();
  console.log(`tracing overhead per pod (${n} ops each, sampling rate ${rate}, no export):`);
  console.log(`  apiserver create path   ${(traced - plain).toFixed(0)} ns (${plain.toFixed(0)} ns without tracing, ${traced.toFixed(0)} ns with)`);
  console.log(`  scheduler/kubelet check ${check.toFixed(0)} ns for a pod without the annotation (tracePlacement ${placement.toFixed(0)} ns)`);
}

await main();
