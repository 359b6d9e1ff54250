import assert from 'node:assert/strict';
import { aggregate, bucketQuantile, histogramDataItem, histogramDelta, parseHistograms, ThroughputSampler, throughputDataItem, throughputSummary } from './stats.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

describe('scheduler_perf throughput samples', () => {
  it('takes upstream nearest-rank percentiles and the mean', () => {
    // sorted: 10 20 30 40 50 60 70 80 90 100; PercN = sorted[ceil(10*N/100)-1]
    const s = throughputSummary([100, 10, 90, 20, 80, 30, 70, 40, 60, 50])!;
    assert.deepEqual(s, { Average: 55, Perc50: 50, Perc90: 90, Perc95: 100, Perc99: 100 });
    // 3 samples: Perc50 = sorted[ceil(1.5)-1] = sorted[1]; Perc90 = sorted[ceil(2.7)-1] = sorted[2]
    assert.deepEqual(throughputSummary([5, 1, 3]), { Average: 3, Perc50: 3, Perc90: 5, Perc95: 5, Perc99: 5 });
    assert.equal(throughputSummary([]), undefined);
  });

  it('drops the first sample, ignores the time before any pod is scheduled, and spreads stalled intervals', () => {
    const s = new ThroughputSampler(0);
    s.observe(0, 1000); // nothing scheduled yet: not a sample
    s.observe(40, 2000); // first sample: only a starting point
    s.observe(140, 3000); // 100 pods in 1 s
    s.observe(140, 4000); // nothing new: merged into the next interval
    s.observe(340, 5000); // 200 pods over 2 s = 100/s, recorded for both seconds
    s.observe(640, 5500); // 300 pods in 0.5 s = 600/s
    assert.deepEqual(s.samples, [100, 100, 100, 600]);
  });

  it('reports SchedulingThroughput in upstream data item shape', () => {
    const item = throughputDataItem([2, 4], { Name: 'SchedulingBasic/500Nodes' });
    assert.deepEqual(item, {
      data: { Average: 3, Perc50: 2, Perc90: 4, Perc95: 4, Perc99: 4 },
      unit: 'pods/s',
      labels: { Metric: 'SchedulingThroughput', Name: 'SchedulingBasic/500Nodes' },
    });
    assert.deepEqual(Object.keys(item), ['data', 'unit', 'labels']);
  });
});

describe('scheduler_perf histogram quantiles', () => {
  // cumulative: 10 obs <= 1, 30 <= 2, 40 <= 4, 40 <= +Inf
  const buckets = [
    { upperBound: 1, count: 10 },
    { upperBound: 2, count: 30 },
    { upperBound: 4, count: 40 },
    { upperBound: Infinity, count: 40 },
  ];

  it('interpolates linearly inside the bucket holding the rank', () => {
    // q=0.5: rank 20, in (1,2]: 1 + 1*(20-10)/20 = 1.5
    close(bucketQuantile(0.5, buckets), 1.5, 'p50');
    // q=0.9: rank 36, in (2,4]: 2 + 2*(36-30)/10 = 3.2
    close(bucketQuantile(0.9, buckets), 3.2, 'p90');
    // q=0.1: rank 4, first bucket from 0: 1 * 4/10 = 0.4
    close(bucketQuantile(0.1, buckets), 0.4, 'p10');
  });

  it('answers the highest finite bound when the rank falls in +Inf', () => {
    const spill = [
      { upperBound: 1, count: 10 },
      { upperBound: 2, count: 20 },
      { upperBound: Infinity, count: 30 },
    ];
    assert.equal(bucketQuantile(0.99, spill), 2);
    assert.ok(Number.isNaN(bucketQuantile(0.5, [{ upperBound: Infinity, count: 3 }])));
  });

  const before = `# HELP scheduler_scheduling_attempt_duration_seconds x
# TYPE scheduler_scheduling_attempt_duration_seconds histogram
scheduler_scheduling_attempt_duration_seconds_bucket{le="0.001",profile="default-scheduler",result="scheduled"} 5
scheduler_scheduling_attempt_duration_seconds_bucket{le="0.002",profile="default-scheduler",result="scheduled"} 5
scheduler_scheduling_attempt_duration_seconds_bucket{le="+Inf",profile="default-scheduler",result="scheduled"} 5
scheduler_scheduling_attempt_duration_seconds_sum{profile="default-scheduler",result="scheduled"} 0.004
scheduler_scheduling_attempt_duration_seconds_count{profile="default-scheduler",result="scheduled"} 5
scheduler_scheduling_algorithm_duration_seconds_bucket{le="+Inf"} 9
`;
  const after = `scheduler_scheduling_attempt_duration_seconds_bucket{le="0.001",profile="default-scheduler",result="scheduled"} 15
scheduler_scheduling_attempt_duration_seconds_bucket{le="0.002",profile="default-scheduler",result="scheduled"} 25
scheduler_scheduling_attempt_duration_seconds_bucket{le="+Inf",profile="default-scheduler",result="scheduled"} 25
scheduler_scheduling_attempt_duration_seconds_sum{profile="default-scheduler",result="scheduled"} 0.034
scheduler_scheduling_attempt_duration_seconds_count{profile="default-scheduler",result="scheduled"} 25
scheduler_scheduling_attempt_duration_seconds_bucket{le="0.001",profile="default-scheduler",result="unschedulable"} 0
scheduler_scheduling_attempt_duration_seconds_bucket{le="0.002",profile="default-scheduler",result="unschedulable"} 2
scheduler_scheduling_attempt_duration_seconds_bucket{le="+Inf",profile="default-scheduler",result="unschedulable"} 4
scheduler_scheduling_attempt_duration_seconds_sum{profile="default-scheduler",result="unschedulable"} 0.01
scheduler_scheduling_attempt_duration_seconds_count{profile="default-scheduler",result="unschedulable"} 4
`;
  const name = 'scheduler_scheduling_attempt_duration_seconds';

  it('parses exposition text into series without le, buckets ascending', () => {
    const s = parseHistograms(before, name);
    assert.equal(s.length, 1, 'the algorithm histogram is another metric');
    assert.deepEqual(s[0].labels, { profile: 'default-scheduler', result: 'scheduled' });
    assert.deepEqual(s[0].buckets.map((b) => b.upperBound), [0.001, 0.002, Infinity]);
    assert.equal(s[0].count, 5);
  });

  it('measures only what happened between the scrapes, as milliseconds', () => {
    const delta = histogramDelta(parseHistograms(before, name), parseHistograms(after, name));
    const scheduled = aggregate(delta, { result: 'scheduled' })!;
    // delta: 10 obs <= 1 ms, 20 <= 2 ms, 20 total, sum 30 ms
    assert.deepEqual(scheduled.buckets, [
      { upperBound: 0.001, count: 10 },
      { upperBound: 0.002, count: 20 },
      { upperBound: Infinity, count: 20 },
    ]);
    const item = histogramDataItem(name, scheduled, { Name: 'T/W' })!;
    assert.equal(item.unit, 'ms');
    assert.deepEqual(item.labels, { Metric: name, Name: 'T/W', result: 'scheduled' });
    // p50: rank 10 -> first bucket: 1 ms * 10/10 = 1 ms; p90: rank 18 -> 1 + 1*(18-10)/10 = 1.8 ms
    close(item.data.Perc50, 1, 'Perc50');
    close(item.data.Perc90, 1.8, 'Perc90');
    close(item.data.Perc95, 1.9, 'Perc95');
    close(item.data.Average, 1.5, 'Average'); // 30 ms / 20
    // the unschedulable series did not exist before: counted from zero; p99 is in +Inf -> 2 ms
    const unsched = histogramDataItem(name, aggregate(delta, { result: 'unschedulable' }), {})!;
    close(unsched.data.Perc99, 2, 'unschedulable Perc99');
    close(unsched.data.Average, 2.5, 'unschedulable Average');
    // nothing observed: no item, as upstream
    assert.equal(histogramDataItem(name, aggregate(delta, { result: 'error' }), {}), undefined);
  });

  it('adds series up bucket by bucket when no label is filtered', () => {
    const all = aggregate(parseHistograms(after, name))!;
    assert.deepEqual(all.buckets.map((b) => b.count), [15, 27, 29]);
    assert.equal(all.count, 29);
    close(all.sum, 0.044, 'sum');
  });
});
