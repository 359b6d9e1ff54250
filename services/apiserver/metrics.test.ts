import assert from 'node:assert/strict';
import { ApiServerMetrics, type RequestLabels } from './metrics.js';

const CREATE: RequestLabels = { verb: 'POST', group: '', version: 'v1', resource: 'pods', scope: 'namespace', component: 'nats' };
const CREATE_LABELS = 'verb="POST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="nats"';
const CREATE_SLI_LABELS = 'verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="nats"';

describe('ApiServerMetrics', () => {
  it('counts every request in apiserver_request_total and times it in both duration histograms', async () => {
    const m = new ApiServerMetrics();
    m.observe(CREATE, 201, 0.003);
    m.observe(CREATE, 201, 0.07);
    m.observe(CREATE, 201, 2.5);
    m.observe(CREATE, 409, 0.004);
    m.observe({ ...CREATE, dryRun: true }, 201, 0.004);
    m.observe({ verb: 'PATCH', group: '', version: 'v1', resource: 'pods', subresource: 'status', scope: 'resource', component: 'apiserver' }, 200, 0.01);
    const text = await m.registry.metrics();
    const line = (name: string, labels: string) => text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    assert.equal(line('apiserver_request_total', `${CREATE_LABELS},code="201"`), `apiserver_request_total{${CREATE_LABELS},code="201"} 3`);
    assert.equal(line('apiserver_request_total', `${CREATE_LABELS},code="409"`), `apiserver_request_total{${CREATE_LABELS},code="409"} 1`);
    assert.match(text, /^apiserver_request_total\{verb="POST",dry_run="All",[^}]*code="201"\} 1$/m);
    assert.match(text, /^apiserver_request_total\{verb="PATCH",[^}]*subresource="status",scope="resource",component="apiserver",code="200"\} 1$/m);
    // one duration series for the four non-dry-run creates, whatever their code
    assert.equal(line('apiserver_request_duration_seconds_count', CREATE_LABELS), `apiserver_request_duration_seconds_count{${CREATE_LABELS}} 4`);
    assert.equal(line('apiserver_request_duration_seconds_sum', CREATE_LABELS), `apiserver_request_duration_seconds_sum{${CREATE_LABELS}} 2.577`);
    assert.equal(line('apiserver_request_duration_seconds_bucket', `le="0.005",${CREATE_LABELS}`), `apiserver_request_duration_seconds_bucket{le="0.005",${CREATE_LABELS}} 2`);
    assert.equal(line('apiserver_request_duration_seconds_bucket', `le="0.1",${CREATE_LABELS}`), `apiserver_request_duration_seconds_bucket{le="0.1",${CREATE_LABELS}} 3`);
    assert.equal(line('apiserver_request_duration_seconds_bucket', `le="+Inf",${CREATE_LABELS}`), `apiserver_request_duration_seconds_bucket{le="+Inf",${CREATE_LABELS}} 4`);
    // the SLI histogram has no dry_run label: the dry-run create falls in the same series
    assert.equal(line('apiserver_request_sli_duration_seconds_count', CREATE_SLI_LABELS), `apiserver_request_sli_duration_seconds_count{${CREATE_SLI_LABELS}} 5`);
    assert.equal(line('apiserver_request_sli_duration_seconds_bucket', `le="0.05",${CREATE_SLI_LABELS}`), `apiserver_request_sli_duration_seconds_bucket{le="0.05",${CREATE_SLI_LABELS}} 3`);
    assert.equal(line('apiserver_request_sli_duration_seconds_bucket', `le="3",${CREATE_SLI_LABELS}`), `apiserver_request_sli_duration_seconds_bucket{le="3",${CREATE_SLI_LABELS}} 5`);
  });

  it('counts a watch but does not time it', async () => {
    const m = new ApiServerMetrics();
    m.observe({ ...CREATE, verb: 'WATCH', scope: 'cluster' }, 200, 30);
    const text = await m.registry.metrics();
    assert.match(text, /^apiserver_request_total\{verb="WATCH",[^}]*scope="cluster",component="nats",code="200"\} 1$/m);
    assert.doesNotMatch(text, /^apiserver_request(_sli)?_duration_seconds_\w+\{[^}]*verb="WATCH"/m);
  });
});
