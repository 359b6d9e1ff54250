import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatGcPerOp, gcPerOp, sampleGc } from './gcstats.js';
import { gcMetricsSources } from './scheduler-perf/main.js';
import { newRegistry } from '../lib/metrics/mod.js';
import { withGcBurst } from '../test/gc.js';
import { parseHistograms } from './scheduler-perf/stats.js';

/** The text prom-client serves for nodejs_gc_duration_seconds, with count and sum (seconds) per kind. */
function gcText(kinds: Record<string, { count: number; sum: number }>): string {
  const lines = ['# HELP nodejs_gc_duration_seconds Garbage collection duration by kind.', '# TYPE nodejs_gc_duration_seconds histogram'];
  for (const [kind, { count, sum }] of Object.entries(kinds)) {
    for (const le of ['0.001', '0.01', '0.1', '+Inf']) lines.push(`nodejs_gc_duration_seconds_bucket{le="${le}",kind="${kind}"} ${le === '0.001' ? 0 : count}`);
    lines.push(`nodejs_gc_duration_seconds_sum{kind="${kind}"} ${sum}`, `nodejs_gc_duration_seconds_count{kind="${kind}"} ${count}`);
  }
  return lines.join('\n') + '\n# HELP process_cpu_seconds_total x\nprocess_cpu_seconds_total 12\n';
}

describe('garbage collection per operation', () => {
  const before = { apiserver: parseHistograms(gcText({ minor: { count: 10, sum: 0.25 }, major: { count: 1, sum: 0.03 } }), 'nodejs_gc_duration_seconds'), scheduler: null };
  const after = {
    apiserver: parseHistograms(gcText({ minor: { count: 30, sum: 0.75 }, major: { count: 1, sum: 0.03 }, incremental: { count: 2, sum: 0.0625 } }), 'nodejs_gc_duration_seconds'),
    scheduler: parseHistograms(gcText({ minor: { count: 5, sum: 0.05 } }), 'nodejs_gc_duration_seconds'),
  };

  it("divides each kind's pauses and collections between two samples by the operations, leaving out kinds that did not run", () => {
    const g = gcPerOp(before, after, 10_000);
    assert.deepEqual(g.apiserver, { minor: { usPerOp: 50, perThousandOps: 2 }, incremental: { usPerOp: 6.25, perThousandOps: 0.2 } });
    assert.equal(g.scheduler, null, 'a process not read at the start has no figure');
    assert.deepEqual(gcPerOp(before, after, 0).apiserver, null);
  });

  it('prints each process and kind with its collections per 1,000 operations', () => {
    assert.equal(formatGcPerOp(gcPerOp(before, after, 10_000)), 'apiserver minor 50.0 (2.00/1k pods), incremental 6.25 (0.20/1k pods); scheduler -');
  });

  it("reads each process's /metrics, and names one it could not read as unread", async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/metrics') res.end(gcText({ minor: { count: 3, sum: 0.009 } }));
      else res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { bench, ...urls } = gcMetricsSources(`${base}/`, `${base}/broken`);
      assert.deepEqual(urls, { apiserver: `${base}/metrics`, scheduler: `${base}/broken` });
      assert.equal(typeof bench, 'function', "the benchmark client's own registry");
      const s = await sampleGc(urls);
      assert.equal(s.scheduler, null);
      assert.deepEqual(
        s.apiserver?.map((x) => [x.labels.kind, x.count, x.sum]),
        [['minor', 3, 0.009]],
      );
    } finally {
      server.close();
    }
  });

  it("counts this process's own collections by kind, every one of a turn, from its own registry", async () => {
    const reg = newRegistry('bench');
    const own = { bench: () => reg.metrics() };
    const { result: g, pausesMs } = await withGcBurst(
      () => sampleGc(own),
      async (before) => gcPerOp(before, await sampleGc(own), 1000).bench!,
    );
    assert.ok(pausesMs.length >= 5, `the burst should collect several times (saw ${pausesMs.length})`);
    const counted = Object.values(g).reduce((a, k) => a + k.perThousandOps, 0);
    assert.equal(counted, pausesMs.length, JSON.stringify(g));
    assert.ok(g.minor && g.minor.usPerOp > 0, JSON.stringify(g));
  });
});
