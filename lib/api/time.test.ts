import assert from 'node:assert/strict';
import { metaTime } from './time.js';

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
