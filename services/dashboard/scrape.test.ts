/**
 * The charts' readings without Prometheus: the text format as prom-client writes it, and
 * histogram_quantile as Prometheus interpolates it.
 */
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { histogramQuantile, parseExposition } from './scrape.js';

describe('dashboard scrape', () => {
  it('parses prom-client\'s text: names, escaped labels, +Inf buckets', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'req_seconds', help: 'h', labelNames: ['verb'], buckets: [0.1, 1], registers: [registry] });
    h.observe({ verb: 'say "hi"\\' }, 0.05);
    h.observe({ verb: 'say "hi"\\' }, 5);
    const samples = parseExposition(await registry.metrics());
    const buckets = samples.filter((s) => s.name === 'req_seconds_bucket');
    assert.deepEqual(buckets.map((s) => [s.labels.le, s.value]), [['0.1', 1], ['1', 1], ['+Inf', 2]]);
    assert.equal(buckets[0]!.labels.verb, 'say "hi"\\');
    assert.equal(samples.find((s) => s.name === 'req_seconds_count')!.value, 2);
  });

  it('interpolates a quantile inside its bucket, as Prometheus does', () => {
    const b = (pairs: Array<[number, number]>) => pairs.map(([le, count]) => ({ le, count }));
    // 100 observations: 50 under 0.1, 90 under 0.5, all under 1
    const h = b([[0.1, 50], [0.5, 90], [1, 100], [Infinity, 100]]);
    assert.equal(histogramQuantile(0.5, h), 0.1);
    assert.ok(Math.abs(histogramQuantile(0.7, h)! - 0.3) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(0.99, h)! - 0.95) < 1e-12);
    // the rank in +Inf: the highest finite bound
    assert.equal(histogramQuantile(0.99, b([[0.1, 10], [Infinity, 20]])), 0.1);
    assert.equal(histogramQuantile(0.99, b([[0.1, 0], [Infinity, 0]])), null);
  });
});
