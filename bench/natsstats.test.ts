import assert from 'node:assert/strict';
import { formatNatsPerOp, natsPerOp, type NatsSample } from './natsstats.js';

describe('NATS traffic per operation', () => {
  const c = (inMsgs: number, outMsgs: number, inBytes: number, outBytes: number) => ({ inMsgs, outMsgs, inBytes, outBytes });
  const before: NatsSample = { server: c(100, 200, 10_000, 20_000), byRole: { apiserver: c(50, 60, 5000, 6000), gone: c(1, 1, 1, 1) } };
  const after: NatsSample = { server: c(300, 600, 30_000, 80_000), byRole: { apiserver: c(150, 160, 25_000, 16_000), scheduler: c(10, 20, 2000, 4000) } };

  it('divides the counters moved between two samples by the operations, a new connection counting from zero', () => {
    const d = natsPerOp(before, after, 100)!;
    assert.deepEqual(d.server, c(2, 4, 200, 600));
    assert.deepEqual(d.byRole, { apiserver: c(1, 1, 200, 100), scheduler: c(0.1, 0.2, 20, 40) });
    assert.equal(natsPerOp(before, after, 0), undefined);
  });

  it('prints the server totals and what each connection sent and received', () => {
    assert.equal(
      formatNatsPerOp(natsPerOp(before, after, 100)!),
      'in 2.00 msgs 0.20 kB, out 4.00 msgs 0.60 kB; sent/received kB by connection: apiserver 0.20/0.10 (1.00/1.00 msgs), scheduler 0.02/0.04 (0.10/0.20 msgs)',
    );
  });
});
