import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import {
  annotateTraceContext,
  carrierFromHttpHeaders,
  carrierFromNatsHeaders,
  contextFromAnnotations,
  contextFromCarrier,
  injectNatsHeaders,
  isSampledTraceparent,
  sampledContextFromAnnotations,
  traceIdOf,
  TRACEPARENT_ANNOTATION,
  TRACESTATE_ANNOTATION,
} from './propagation.js';

const SAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

describe('tracing: trace context in headers and annotations', () => {
  it('reads a W3C traceparent (and tracestate) from NATS and HTTP headers', () => {
    const h = headers();
    h.set('traceparent', SAMPLED);
    h.set('tracestate', 'vendor=x');
    const ctx = contextFromCarrier(carrierFromNatsHeaders(h))!;
    const sc = trace.getSpanContext(ctx)!;
    assert.equal(sc.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(sc.spanId, '00f067aa0ba902b7');
    assert.equal(sc.isRemote, true);
    assert.equal(sc.traceState?.get('vendor'), 'x');
    assert.deepEqual(carrierFromHttpHeaders({ traceparent: SAMPLED }), { traceparent: SAMPLED, tracestate: undefined });
    assert.equal(carrierFromNatsHeaders(headers()), undefined);
    assert.equal(carrierFromHttpHeaders({}), undefined);
  });

  it('ignores a malformed traceparent', () => {
    for (const bad of ['garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01']) {
      assert.equal(contextFromCarrier({ traceparent: bad }), undefined, bad);
    }
  });

  it('writes a span context onto annotations and reads it back; only a sampled one is taken on hot paths', () => {
    const sc = trace.getSpanContext(contextFromCarrier({ traceparent: SAMPLED, tracestate: 'a=1' })!)!;
    const meta: { annotations?: Record<string, string> | null } = {};
    annotateTraceContext(meta, sc);
    assert.equal(meta.annotations?.[TRACEPARENT_ANNOTATION], SAMPLED);
    assert.equal(meta.annotations?.[TRACESTATE_ANNOTATION], 'a=1');
    assert.equal(trace.getSpanContext(sampledContextFromAnnotations(meta.annotations)!)?.spanId, '00f067aa0ba902b7');
    assert.equal(sampledContextFromAnnotations({ [TRACEPARENT_ANNOTATION]: UNSAMPLED }), undefined);
    assert.ok(contextFromAnnotations({ [TRACEPARENT_ANNOTATION]: UNSAMPLED }), 'an unsampled context is still a parent (it says: do not sample)');
    assert.equal(sampledContextFromAnnotations(undefined), undefined);
    assert.equal(sampledContextFromAnnotations({}), undefined);
  });

  it('puts a context back into NATS headers', () => {
    const h = headers();
    injectNatsHeaders(contextFromCarrier({ traceparent: SAMPLED })!, h);
    assert.equal(h.get('traceparent'), SAMPLED);
  });

  it('tells sampled flags and trace ids from a traceparent', () => {
    assert.equal(isSampledTraceparent(SAMPLED), true);
    assert.equal(isSampledTraceparent(UNSAMPLED), false);
    assert.equal(isSampledTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03'), true);
    assert.equal(traceIdOf(SAMPLED), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(traceIdOf('nonsense'), undefined);
    assert.equal(traceIdOf(undefined), undefined);
  });
});
