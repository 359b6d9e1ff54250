/**
 * The tracing flags every traced component takes (apiserver, scheduler, kubelet, and
 * `flotilla up`, which passes them on): their parseArgs options, usage lines and values.
 */
import { boolFlag, durationFlag, intFlag, numberFlag } from '../process/flags.js';
import { DEFAULT_TRACE_RETENTION, type TraceRetention } from './jetstream.js';
import { DEFAULT_SAMPLING_RATE } from './provider.js';

export const TRACING_FLAG_OPTIONS = {
  tracing: { type: 'string' },
  'tracing-sampling-rate': { type: 'string' },
  'tracing-endpoint': { type: 'string' },
  'tracing-retention': { type: 'string' },
  'tracing-max-bytes': { type: 'string' },
} as const;

export function tracingFlagsUsage(column = 21): string {
  const line = (flag: string, text: string) => `  ${flag.padEnd(column - 1)} ${text}`;
  return [
    line('--tracing=false', 'no tracer at all: no span, not even for a caller\'s sampled traceparent (default true)'),
    line('--tracing-sampling-rate R', `share of pod creates traced, 0..1 (default ${DEFAULT_SAMPLING_RATE}); a caller's sampled traceparent is always honoured`),
    line('--tracing-endpoint URL', 'also export spans over OTLP/HTTP (e.g. http://127.0.0.1:4318/v1/traces)'),
    line('--tracing-retention D', `how long the trace stream keeps spans (default ${DEFAULT_TRACE_RETENTION.maxAgeMs / 60_000}m)`),
    line('--tracing-max-bytes N', `how many bytes of spans it keeps (default ${DEFAULT_TRACE_RETENTION.maxBytes})`),
  ].join('\n');
}

export interface TracingFlagValues {
  samplingRate?: number;
  endpoint?: string;
  retention: TraceRetention;
}

/** The tracing options the flags ask for; undefined for --tracing=false. */
export function tracingFlags(values: Record<string, unknown>): TracingFlagValues | undefined {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const on = boolFlag(str('tracing'), '--tracing') ?? true;
  const endpoint = str('tracing-endpoint');
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      throw new Error(`--tracing-endpoint: not a URL: "${endpoint}"`);
    }
  }
  const flags: TracingFlagValues = {
    samplingRate: numberFlag(str('tracing-sampling-rate'), '--tracing-sampling-rate', (n) => n >= 0 && n <= 1, 'a number from 0 to 1'),
    endpoint,
    retention: {
      maxAgeMs: durationFlag(str('tracing-retention'), '--tracing-retention') ?? DEFAULT_TRACE_RETENTION.maxAgeMs,
      maxBytes: intFlag(str('tracing-max-bytes'), '--tracing-max-bytes', 1024) ?? DEFAULT_TRACE_RETENTION.maxBytes,
    },
  };
  return on ? flags : undefined;
}

/** The flags again, for a launcher that passes them on to its children. */
export function tracingArgs(values: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(TRACING_FLAG_OPTIONS)) if (typeof values[k] === 'string') out.push(`--${k}=${values[k] as string}`);
  return out;
}
