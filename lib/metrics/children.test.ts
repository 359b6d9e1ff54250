import assert from 'node:assert/strict';
import client from 'prom-client';
import { LabelledChildren } from './children.js';

/** A counter and a histogram on their own registry, each with its children kept by key. */
function metrics() {
  const registry = new client.Registry();
  const counter = new client.Counter({ name: 'req_total', help: 'requests', labelNames: ['verb', 'code'], registers: [registry] });
  const histogram = new client.Histogram({ name: 'req_seconds', help: 'latency', labelNames: ['verb'], buckets: [0.1, 1], registers: [registry] });
  const made: string[] = [];
  const counters = new LabelledChildren(counter);
  const histograms = new LabelledChildren(histogram);
  const observe = (verb: string, code: number, v: number) => {
    counters
      .child(`${verb}\n${code}`, () => {
        made.push(`${verb} ${code}`);
        return { verb, code: String(code) };
      })
      .inc();
    histograms.child(verb, () => ({ verb })).observe(v);
  };
  return { registry, counter, histogram, counters, histograms, made, observe };
}

describe('LabelledChildren', () => {
  it("keeps one child per key, and every observation through it is in the registry's text", async () => {
    const { registry, made, counters, histograms, observe } = metrics();
    observe('POST', 201, 0.05);
    observe('POST', 201, 0.5);
    observe('POST', 201, 5);
    observe('GET', 404, 0.01);
    assert.deepEqual(made, ['POST 201', 'GET 404'], 'labels made once per key');
    assert.equal(counters.size, 2);
    assert.equal(histograms.size, 2);
    const text = await registry.metrics();
    assert.match(text, /^req_total\{verb="POST",code="201"\} 3$/m);
    assert.match(text, /^req_total\{verb="GET",code="404"\} 1$/m);
    assert.match(text, /^req_seconds_bucket\{le="0.1",verb="POST"\} 1$/m);
    assert.match(text, /^req_seconds_bucket\{le="1",verb="POST"\} 2$/m);
    assert.match(text, /^req_seconds_bucket\{le="\+Inf",verb="POST"\} 3$/m);
    assert.match(text, /^req_seconds_sum\{verb="POST"\} 5.55$/m);
    assert.match(text, /^req_seconds_count\{verb="POST"\} 3$/m);
    assert.match(text, /^req_seconds_count\{verb="GET"\} 1$/m);
  });

  it("drops its children when the metric or the registry is reset, and what is observed after the reset is counted from zero", async () => {
    const { registry, counter, made, counters, histograms, observe } = metrics();
    observe('POST', 201, 0.05);
    observe('POST', 201, 0.05);
    registry.resetMetrics();
    assert.equal(counters.size, 0);
    assert.equal(histograms.size, 0);
    assert.doesNotMatch(await registry.metrics(), /verb="POST"/);
    observe('POST', 201, 2);
    let text = await registry.metrics();
    assert.match(text, /^req_total\{verb="POST",code="201"\} 1$/m);
    assert.match(text, /^req_seconds_bucket\{le="1",verb="POST"\} 0$/m);
    assert.match(text, /^req_seconds_count\{verb="POST"\} 1$/m);
    counter.reset();
    assert.equal(counters.size, 0);
    observe('POST', 201, 2);
    text = await registry.metrics();
    assert.match(text, /^req_total\{verb="POST",code="201"\} 1$/m);
    assert.match(text, /^req_seconds_count\{verb="POST"\} 2$/m);
    assert.deepEqual(made, ['POST 201', 'POST 201', 'POST 201'], 'a child made again after each reset');
  });
});
