/**
 * What a run prints: upstream's data items as an aligned table for people and as the
 * JSON document upstream writes (`{"version":"v1","dataItems":[...]}`) for tools, plus
 * each workload's overall rate, time, peak memory and threshold verdict.
 */
import type { DataItem } from './stats.js';
import type { WorkloadResult } from './runner.js';
import { formatNatsPerOp } from '../natsstats.js';
import { formatGcPerOp } from '../gcstats.js';

const DATA_COLUMNS = ['Average', 'Perc50', 'Perc90', 'Perc95', 'Perc99'];

function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

/** A label that tells items of one metric apart (result, extension point, ...). */
function detail(item: DataItem): string {
  return Object.entries(item.labels)
    .filter(([k]) => k !== 'Metric' && k !== 'Name')
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function formatTable(items: readonly DataItem[]): string {
  const header = ['Name', 'Metric', 'labels', ...DATA_COLUMNS, 'unit'];
  const rows = items.map((d) => [d.labels.Name ?? '', d.labels.Metric ?? '', detail(d), ...DATA_COLUMNS.map((c) => fmt(d.data[c])), d.unit || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => (i < 3 || i === r.length - 1 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

/** Upstream's result document, one data item a line. */
export function formatJson(items: readonly DataItem[]): string {
  if (items.length === 0) return '{"version":"v1","dataItems":[]}';
  return `{"version":"v1","dataItems":[\n${items.map((d) => '  ' + JSON.stringify(d)).join(',\n')}\n]}`;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  return `${(n / (1 << 20)).toFixed(0)} MiB`;
}

/** The lines under the table for one workload. */
export function formatSummary(r: WorkloadResult): string {
  const lines: string[] = [];
  const name = r.workload.fullName;
  if (r.measured)
    lines.push(`${name}: measured op ${r.measured.op}: ${r.measured.pods} pods scheduled in ${r.measured.seconds.toFixed(2)} s, overall ${fmt(r.measured.podsPerSecond)} pods/s`);
  const cpu = r.measured?.cpuUsPerPod;
  if (cpu && Object.keys(cpu).length)
    lines.push(`${name}: CPU us per pod (measured op) ${Object.entries(cpu).map(([who, us]) => `${who} ${fmt(us ?? undefined)}`).join(', ')}, total ${fmt(Object.values(cpu).reduce<number>((a, b) => a + (b ?? 0), 0))}`);
  const sys = r.measured?.syscallsPerPod;
  if (sys && Object.values(sys).some((v) => v))
    lines.push(`${name}: syscalls per pod (measured op, reads/writes) ${Object.entries(sys).map(([who, v]) => `${who} ${v ? `${fmt(v.reads)}/${fmt(v.writes)}` : '-'}`).join(', ')}`);
  if (r.measured?.gcPerPod) lines.push(`${name}: GC pause us per pod (measured op, nodejs_gc_duration_seconds; collections per 1k pods) ${formatGcPerOp(r.measured.gcPerPod)}`);
  if (r.measured?.natsPerPod) lines.push(`${name}: NATS per pod (measured op, nats-server /varz and /connz) ${formatNatsPerOp(r.measured.natsPerPod)}`);
  lines.push(`${name}: total time ${r.seconds.toFixed(1)} s`);
  if (r.peakMemory && Object.keys(r.peakMemory).length)
    lines.push(`${name}: peak memory (RSS) ${Object.entries(r.peakMemory).map(([who, b]) => `${who} ${formatBytes(b)}`).join(', ')}`);
  for (const n of r.notes) lines.push(`${name}: note: ${n}`);
  if (r.error) lines.push(`${name}: FAILED: ${r.error}`);
  else if (r.thresholdFailure) lines.push(`${name}: FAILED threshold: ${r.thresholdFailure}`);
  else if (r.workload.threshold !== undefined) lines.push(`${name}: ok (threshold ${r.workload.threshold} pods/s)`);
  return lines.join('\n');
}
