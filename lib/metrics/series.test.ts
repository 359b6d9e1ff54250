import assert from 'node:assert/strict';
import client from 'prom-client';
import { KeyedCounter, KeyedHistogram } from './series.js';

const LABELS = ['verb', 'resource', 'code'];
const BUCKETS = [0.005, 0.025, 0.1, 1, 10];

/** The same observations through prom-client's Counter and Histogram and through the keyed ones. */
function both(): { prom: client.Registry; keyed: client.Registry; observe: (l: Record<string, string>, v: number) => void } {
  const prom = new client.Registry();
  const keyed = new client.Registry();
  const pc = new client.Counter({ name: 'req_total', help: 'requests', labelNames: LABELS, registers: [prom] });
  const ph = new client.Histogram({ name: 'req_seconds', help: 'latency', labelNames: LABELS, buckets: BUCKETS, registers: [prom] });
  const kc = new KeyedCounter({ name: 'req_total', help: 'requests', labelNames: LABELS, registers: [keyed] });
  const kh = new KeyedHistogram({ name: 'req_seconds', help: 'latency', labelNames: LABELS, buckets: BUCKETS, registers: [keyed] });
  return {
    prom,
    keyed,
    observe(l, v) {
      pc.inc(l);
      ph.observe(l, v);
      const key = `${l.verb}\n${l.resource}\n${l.code}`;
      kc.series(key, () => ({ ...l })).inc();
      kh.series(key, () => ({ ...l })).observe(v);
    },
  };
}

describe('KeyedCounter and KeyedHistogram', () => {
  it('render what prom-client Counter and Histogram render for the same observations, bounds and overflow included', async () => {
    const { prom, keyed, observe } = both();
    const a = { verb: 'POST', resource: 'pods', code: '201' };
    const b = { verb: 'GET', resource: 'config"maps', code: '404' };
    for (const v of [0.001, 0.005, 0.0051, 0.3, 10, 11, 0]) observe(a, v);
    for (const v of [0.02, 2]) observe(b, v);
    assert.equal(await keyed.metrics(), await prom.metrics());
    const text = await keyed.metrics();
    assert.match(text, /req_seconds_bucket\{le="0.005",verb="POST",resource="pods",code="201"\} 3\n/);
    assert.match(text, /req_seconds_bucket\{le="\+Inf",verb="POST",resource="pods",code="201"\} 7\n/);
    assert.match(text, /req_total\{verb="GET",resource="config\\"maps",code="404"\} 2\n/);
    const json = await keyed.getMetricsAsJSON();
    const count = json.find((m) => m.name === 'req_seconds')!.values.find((v) => (v as { metricName?: string }).metricName === 'req_seconds_count' && v.labels.resource === 'pods');
    assert.equal(count?.value, 7);
  });

  it('refuses a series whose labels miss a label name or add one', () => {
    const { keyed } = both();
    const c = keyed.getSingleMetric('req_total') as unknown as KeyedCounter;
    assert.throws(() => c.series('x', () => ({ verb: 'GET', resource: 'pods' })), /label "code"/);
    assert.throws(() => c.series('y', () => ({ verb: 'GET', resource: 'pods', code: '200', extra: '1' })), /label "extra"/);
  });
});
