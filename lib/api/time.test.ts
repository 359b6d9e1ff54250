import assert from 'node:assert/strict';
import { canonicalTime, metaMicroTime, metaTime } from './time.js';

describe('metaTime (metav1.Time)', () => {
  it('writes RFC 3339 in UTC, cutting milliseconds rather than rounding', () => {
    assert.equal(metaTime(Date.UTC(2026, 10, 24, 19, 0, 0, 999)), '2026-11-24T19:00:00Z');
    assert.equal(metaTime(0), '1970-01-01T00:00:00Z');
  });

  it('defaults to now', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const t = Date.parse(metaTime());
    assert.ok(t >= before && t <= Date.now(), metaTime());
  });
});

describe('metaMicroTime (metav1.MicroTime)', () => {
  it('writes six fractional digits in UTC', () => {
    assert.equal(metaMicroTime(Date.UTC(2006, 0, 2, 15, 4, 5, 123)), '2006-01-02T15:04:05.123000Z');
    assert.equal(metaMicroTime(0), '1970-01-01T00:00:00.000000Z');
  });
  it('gives each millisecond its own string when called again and again (it remembers the last)', () => {
    const t = Date.UTC(2026, 11, 4, 16, 40, 1, 7);
    assert.equal(metaMicroTime(t), '2026-12-04T16:40:01.007000Z');
    assert.equal(metaMicroTime(t), '2026-12-04T16:40:01.007000Z');
    assert.equal(metaMicroTime(t + 1), '2026-12-04T16:40:01.008000Z');
    assert.equal(metaMicroTime(t), '2026-12-04T16:40:01.007000Z');
  });
});

describe('canonicalTime: a client timestamp as upstream serialises it back', () => {
  it('gives Time whole seconds and MicroTime six digits, truncating', () => {
    assert.equal(canonicalTime('2026-11-24T19:00:00.987Z', false), '2026-11-24T19:00:00Z');
    assert.equal(canonicalTime('2026-11-24T19:00:00Z', true), '2026-11-24T19:00:00.000000Z');
    assert.equal(canonicalTime('2026-11-24T19:00:00.123Z', true), '2026-11-24T19:00:00.123000Z');
    assert.equal(canonicalTime('2026-11-24T19:00:00.123456789Z', true), '2026-11-24T19:00:00.123456Z');
  });

  it('converts offsets to UTC', () => {
    assert.equal(canonicalTime('2026-11-24T21:30:00+02:30', false), '2026-11-24T19:00:00Z');
    assert.equal(canonicalTime('2026-12-31T23:00:00.5-01:00', true), '2027-01-01T00:00:00.500000Z');
  });

  it('leaves what is not RFC 3339 to validation', () => {
    assert.equal(canonicalTime('yesterday', false), undefined);
  });
});
