import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { boolFlag, checkedFlag, intFlag, portFlag, startOnPort } from './flags.js';

describe('command-line flags', () => {
  it('leaves an absent flag undefined and parses the given value', () => {
    assert.equal(boolFlag(undefined, '--x'), undefined);
    assert.equal(boolFlag('', '--x'), true);
    assert.equal(boolFlag('false', '--x'), false);
    assert.equal(intFlag('7', '--n', 1, 10), 7);
    assert.equal(portFlag('0'), 0);
    assert.equal(checkedFlag(undefined, '--x', () => assert.fail('not called')), undefined);
    assert.equal(checkedFlag('4Gi', '--memory', () => undefined), '4Gi');
  });

  it('names the flag and the value it refuses', () => {
    assert.throws(() => boolFlag('yes', '--leader-elect'), /--leader-elect: expected true or false, got "yes"/);
    assert.throws(() => intFlag('11', '--n', 1, 10), /--n: expected an integer from 1 to 10, got "11"/);
    assert.throws(() => portFlag('70000'), /--port: not a port number: 70000/);
    assert.throws(
      () => checkedFlag('lots', '--cpu', (v) => {
        throw new Error(`quantities must match the regular expression, got "${v}"`);
      }),
      /^Error: --cpu: quantities must match the regular expression, got "lots"$/,
    );
  });

  it('serves on a free port when the default one is taken, but not when the port was asked for', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    const tried: number[] = [];
    const listen = (p: number) =>
      new Promise<number>((resolve, reject) => {
        tried.push(p);
        const s = createServer();
        s.once('error', reject);
        s.listen(p, '127.0.0.1', () => {
          const got = (s.address() as AddressInfo).port;
          s.close(() => resolve(got));
        });
      });
    try {
      const got = await startOnPort('test', port, false, listen);
      assert.deepEqual(tried, [port, 0]);
      assert.notEqual(got, port);
      await assert.rejects(startOnPort('test', port, true, listen), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    } finally {
      busy.close();
    }
  });
});
