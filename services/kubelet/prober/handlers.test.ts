import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Container } from 'kubernetes-types/core/v1.js';
import { checkExec, checkHttpGet, checkTcpSocket, httpGetUrl, PROBE_USER_AGENT, resolvePort } from './handlers.js';

describe('probe and hook handlers (upstream pkg/probe)', () => {
  let server: http.Server;
  let port = 0;
  const seen: http.IncomingHttpHeaders[] = [];
  const container = (): Container => ({ name: 'web', ports: [{ name: 'http', containerPort: port }] });
  const target = () => ({ containerId: 'c1', container: container(), podIP: '127.0.0.1' });

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/moved' ? 302 : 500;
      res.end('body');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('resolves ports by number or by the container’s port name, and builds the URL from the pod IP', () => {
    assert.equal(resolvePort('http', container()), port);
    assert.equal(resolvePort(81, container()), 81);
    assert.throws(() => resolvePort('nope', container()), /couldn't find port: nope in container web/);
    assert.equal(httpGetUrl({ port: 'http', path: 'healthz', scheme: 'HTTPS' }, target()).toString(), `https://127.0.0.1:${port}/healthz`);
  });

  it('httpGet: 2xx and 3xx succeed, others fail with the status code; sends kube-probe’s User-Agent and the given headers', async () => {
    assert.equal((await checkHttpGet({ port: 'http', path: '/ok', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, target(), 1)).result, 'success');
    assert.equal(seen.at(-1)!['user-agent'], PROBE_USER_AGENT);
    assert.equal(seen.at(-1)!['x-probe'], 'yes');
    assert.equal((await checkHttpGet({ port, path: '/moved' }, target(), 1)).result, 'success');
    assert.deepEqual(await checkHttpGet({ port, path: '/bad' }, target(), 1), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    const slow = await checkHttpGet({ port, path: '/slow' }, target(), 1);
    assert.equal(slow.result, 'failure');
    assert.match(slow.output, /context deadline exceeded/);
  });

  it('tcpSocket: a listening port succeeds, a closed one fails with Go’s dial error', async () => {
    assert.equal((await checkTcpSocket({ port }, target(), 1)).result, 'success');
    const free = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    assert.deepEqual(await checkTcpSocket({ port: free }, target(), 1), { result: 'failure', output: `dial tcp 127.0.0.1:${free}: connect: connection refused` });
  });

  it('exec: exit 0 succeeds, others fail with the output; a runtime deadline is a timeout', async () => {
    const exec = async (_id: string, cmd: string[]) => {
      if (cmd[0] === 'sleep') throw new Error('CRI ExecSync: DEADLINE_EXCEEDED: timeout 1s exceeded');
      return { exitCode: cmd[0] === 'true' ? 0 : 1, stdout: Buffer.from('out '), stderr: Buffer.from('err') };
    };
    assert.equal((await checkExec({ command: ['true'] }, { ...target(), exec }, 1)).result, 'success');
    assert.deepEqual(await checkExec({ command: ['false'] }, { ...target(), exec }, 1), { result: 'failure', output: 'out err' });
    assert.deepEqual(await checkExec({ command: ['sleep', '5'] }, { ...target(), exec }, 1), { result: 'failure', output: 'command "sleep 5" timed out' });
  });
});
