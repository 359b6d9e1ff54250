import assert from 'node:assert/strict';
import { formatNumber, formatTable, JSON_PREFIX, jsonLine, percentile, phaseResult, summarize } from './stats.js';

describe('bench stats', () => {
  it('percentile is nearest-rank: a sample that really occurred, never an interpolation', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile(xs, 0), 1);
    assert.equal(percentile([10, 20, 30, 40], 50), 20);
    assert.equal(percentile([10, 20, 30, 40], 51), 30);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile(xs, 101), RangeError);
  });

  it('summarize sorts numerically without touching its input', () => {
    const xs = [100, 9, 25, 3, 1000, 2];
    const s = summarize(xs);
    assert.deepEqual(xs, [100, 9, 25, 3, 1000, 2]);
    assert.equal(s.count, 6);
    assert.equal(s.min, 2);
    assert.equal(s.max, 1000);
    assert.equal(s.p50, 9); // a string sort would put 1000 before 2
    assert.equal(s.p99, 1000);
    assert.equal(s.mean, 1139 / 6);
    const empty = summarize([]);
    assert.equal(empty.count, 0);
    assert.ok(Number.isNaN(empty.p50));
  });

  it('phaseResult derives ops/s and latency percentiles, null latency without samples', () => {
    const r = phaseResult('create', 'nats', 500, 2, [4, 1, 3, 2]);
    assert.equal(r.opsPerSec, 250);
    assert.equal(r.p50Ms, 2);
    assert.equal(r.p99Ms, 4);
    assert.equal(r.errors, 0);
    const none = phaseResult('list', 'http', 0, 1, []);
    assert.equal(none.p50Ms, null);
    assert.equal(none.p99Ms, null);
  });

  it('formatTable aligns every row under the header and prints each figure', () => {
    const rows = [phaseResult('kv put (1000 in flight)', 'kv', 10000, 0.5, [1.5, 2.5]), phaseResult('get', 'http', 7, 123.456, [], 2)];
    const lines = formatTable(rows).split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^phase\s+\| transport \|\s+ops \| seconds \| ops\/s \| p50 ms \| p99 ms \| errors$/);
    const bars = (l: string) => [...l.matchAll(/\|/g)].map((m) => m.index);
    assert.deepEqual(bars(lines[2]), bars(lines[0]));
    assert.deepEqual(bars(lines[3]), bars(lines[0]));
    assert.match(lines[2], /kv put \(1000 in flight\) \| kv\s+\| 10000 \|\s+0\.500 \| 20000 \|\s+1\.50 \|\s+2\.50 \|\s+0$/);
    assert.match(lines[3], /\|\s+- \|\s+- \|\s+2$/);
  });

  it('formatTable adds CPU columns only when a row has CPU figures', () => {
    const r = phaseResult('create', 'nats', 10, 1, [1]);
    assert.doesNotMatch(formatTable([r]), /cpu/);
    r.cpuUsPerOp = { apiserver: 210, nats: 55.5, client: null };
    const [head, , row] = formatTable([r]).split('\n');
    assert.match(head, /cpu us\/op: apiserver \| nats \| client$/);
    assert.match(row, /\|\s+210 \|\s+55\.5 \|\s+-$/);
  });

  it('formatNumber keeps about three significant figures', () => {
    assert.equal(formatNumber(16312.4), '16312');
    assert.equal(formatNumber(51.94), '51.9');
    assert.equal(formatNumber(1.544), '1.54');
    assert.equal(formatNumber(0.1812), '0.181');
    assert.equal(formatNumber(null), '-');
    assert.equal(formatNumber(NaN), '-');
  });

  it('jsonLine is the prefix and the whole result as JSON', () => {
    const r = phaseResult('get', 'nats', 3, 1, [1, 2, 3], 0, { concurrency: 4 });
    const line = jsonLine(r);
    assert.ok(line.startsWith(JSON_PREFIX));
    assert.deepEqual(JSON.parse(line.slice(JSON_PREFIX.length)), JSON.parse(JSON.stringify(r)));
  });
});
