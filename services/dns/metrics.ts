/**
 * CoreDNS's series, with its names and labels: coredns_dns_requests_total{server,zone,view,
 * proto,family,type}, coredns_dns_responses_total{server,zone,view,rcode,plugin},
 * coredns_cache_entries/hits/misses, coredns_forward_requests_total and the histogram
 * coredns_dns_request_duration_seconds{server,zone,view,type} (CoreDNS's buckets: 0.25 ms
 * doubling to 8.192 s). Queries are counted in typed arrays (no label lookup per query),
 * handed to prom-client or rendered as exposition text when scraped.
 */
import type { Registry } from 'prom-client';
import { client } from '../../lib/metrics/mod.js';
import type { AnswerStats } from './answers.js';
import { RCODE_NAMES } from './answers.js';

const TYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };
const TYPE_SLOTS = Object.keys(TYPES).map(Number);
const OTHER = TYPE_SLOTS.length;
const SLOTS = OTHER + 1;
/** CoreDNS's prometheus.ExponentialBuckets(0.00025, 2, 16), in seconds */
const DURATION_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

export class DnsMetrics {
  /** [proto (0 udp, 1 tcp)][type slot] */
  private readonly requests = new Float64Array(2 * SLOTS);
  /** [rcode 0..15][plugin (0 kubernetes, 1 forward)] */
  private readonly responses = new Float64Array(16 * 2);
  private readonly slotOf = new Int16Array(65536).fill(OTHER);
  /** [type slot][bucket] counts (the last: above every bucket), and sums in seconds */
  private readonly durations = new Float64Array(SLOTS * (DURATION_BUCKETS.length + 1));
  private readonly durationSums = new Float64Array(SLOTS);

  constructor(registry: Registry, server: string, cache: () => { size: number; stats: AnswerStats }, forwarded: () => number) {
    TYPE_SLOTS.forEach((t, i) => (this.slotOf[t] = i));
    const requests = this.requests;
    const responses = this.responses;
    new client.Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per zone, protocol and family.',
      labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
      registers: [registry],
      collect() {
        this.reset();
        for (let p = 0; p < 2; p++)
          for (let s = 0; s < SLOTS; s++) {
            const n = requests[p * SLOTS + s];
            if (n) this.inc({ server, zone: '.', view: '', proto: p ? 'tcp' : 'udp', family: '1', type: s === OTHER ? 'other' : TYPES[TYPE_SLOTS[s]] }, n);
          }
      },
    });
    new client.Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
      registers: [registry],
      collect() {
        this.reset();
        for (let r = 0; r < 16; r++)
          for (let p = 0; p < 2; p++) {
            const n = responses[r * 2 + p];
            if (n) this.inc({ server, zone: '.', view: '', rcode: RCODE_NAMES[r] ?? String(r), plugin: p ? 'forward' : 'kubernetes' }, n);
          }
      },
    });
    new client.Gauge({
      name: 'coredns_cache_entries',
      help: 'The number of elements in the cache.',
      labelNames: ['server', 'type', 'zones', 'view'],
      registers: [registry],
      collect() {
        this.set({ server, type: 'success', zones: '.', view: '' }, cache().size);
      },
    });
    new client.Counter({
      name: 'coredns_cache_hits_total',
      help: 'The count of cache hits.',
      labelNames: ['server', 'type', 'zones', 'view'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ server, type: 'success', zones: '.', view: '' }, cache().stats.hits);
      },
    });
    new client.Counter({
      name: 'coredns_cache_misses_total',
      help: 'The count of cache misses.',
      labelNames: ['server', 'zones', 'view'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ server, zones: '.', view: '' }, cache().stats.misses);
      },
    });
    new client.Counter({
      name: 'coredns_forward_requests_total',
      help: 'Counter of requests made per upstream.',
      labelNames: ['to'],
      registers: [registry],
      collect() {
        this.reset();
        const n = forwarded();
        if (n) this.inc({ to: 'upstream' }, n);
      },
    });
  }

  request(tcp: boolean, qtype: number): void {
    this.requests[(tcp ? SLOTS : 0) + this.slotOf[qtype]]++;
  }

  response(rcode: number, forwarded: boolean): void {
    this.responses[(rcode & 15) * 2 + (forwarded ? 1 : 0)]++;
  }

  /** how long a query of qtype took from its arrival to its answer */
  duration(qtype: number, seconds: number): void {
    const slot = this.slotOf[qtype];
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]) b++;
    this.durations[slot * (DURATION_BUCKETS.length + 1) + b]++;
    this.durationSums[slot] += seconds;
  }

  /** coredns_dns_request_duration_seconds as exposition text (serveMetrics' extra lines) */
  *durationText(server: string): Iterable<string> {
    yield '# HELP coredns_dns_request_duration_seconds Histogram of the time (in seconds) each request took.\n# TYPE coredns_dns_request_duration_seconds histogram\n';
    const width = DURATION_BUCKETS.length + 1;
    for (let s = 0; s < SLOTS; s++) {
      let count = 0;
      for (let b = 0; b < width; b++) count += this.durations[s * width + b];
      if (!count) continue;
      const labels = `server="${server}",zone=".",view="",type="${s === OTHER ? 'other' : TYPES[TYPE_SLOTS[s]]}"`;
      let cumulative = 0;
      let text = '';
      for (let b = 0; b < DURATION_BUCKETS.length; b++) {
        cumulative += this.durations[s * width + b];
        text += `coredns_dns_request_duration_seconds_bucket{${labels},le="${DURATION_BUCKETS[b]}"} ${cumulative}\n`;
      }
      text += `coredns_dns_request_duration_seconds_bucket{${labels},le="+Inf"} ${count}\n`;
      text += `coredns_dns_request_duration_seconds_sum{${labels}} ${this.durationSums[s]}\n`;
      text += `coredns_dns_request_duration_seconds_count{${labels}} ${count}\n`;
      yield text;
    }
  }
}
