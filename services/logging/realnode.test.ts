/**
 * Cluster-level logging on a real node (issue 12): the kubelet ships its containers' CRI
 * log files into the log stream, and `flotilla logs` finds a pod's lines after the pod
 * was deleted, its last line (printed on SIGTERM) included. Needs root (run under
 * `flock /tmp/flt-containerd.lock`).
 */
import assert from 'node:assert/strict';
import { PODS_DEFAULT, startRealNode, type RealNode } from '../../test/realnode.js';
import { spawnFlotilla } from '../../test/cluster.js';
import { waitFor } from '../../test/wait.js';
import { startLogging, type RunningLogging } from './server.js';

describe('cluster-level logging on a real node (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode | undefined;
  let logging: RunningLogging | undefined;

  before(async () => {
    rn = await startRealNode('the logging suite', { prefix: 'lgs', kubelet: (o) => ({ ...o, cri: { ...o.cri!, shipLogs: true } }) });
    logging = await startLogging({ natsUrl: rn.api.natsUrl, port: 0, log: () => undefined });
  });
  after(async () => {
    await logging?.stop();
    await rn?.stop();
  });

  const logs = async (...args: string[]) => {
    const p = spawnFlotilla(['logs', ...args, '--nats', rn!.api.natsUrl]);
    const code = await p.exited;
    assert.equal(code, 0, p.output());
    return p.output();
  };

  it('a deleted pod\'s lines, bad bytes escaped, long lines split and joined, stay queryable', async () => {
    const script = [
      `trap 'echo goodbye from printer; exit 0' TERM`,
      'echo line one',
      'echo err line >&2',
      `printf 'bad \\377\\376 bytes\\n'`,
      `head -c 40000 /dev/zero | tr '\\0' x; echo`,
      'echo done',
      'while true; do sleep 0.1; done',
    ].join('; ');
    await rn!.createPod({ containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', script] }], terminationGracePeriodSeconds: 10 }, { name: 'printer', labels: { app: 'printer', 'app.kubernetes.io/part-of': 'logging-test' } });
    await rn!.podIn('printer', 'Running');
    await waitFor('the printer\'s lines shipped', async () => (await logs('{pod="printer"} |= "done"', '-o', 'raw')) === 'done\n', 30_000);
    await rn!.client.delete({ ...PODS_DEFAULT, name: 'printer' });
    await waitFor('the pod gone', async () => rn!.getPod('printer').then(() => false, (e) => e.code === 404), 60_000);
    const raw = await waitFor('the line printed on SIGTERM', async () => {
      const out = await logs('{namespace="default", app_kubernetes_io_part_of="logging-test", stream="stdout"}', '-o', 'raw');
      return out.includes('goodbye') && out;
    }, 30_000);
    // stdout in order (stderr is read by the runtime apart: its order against stdout is not kept)
    const short = (l: string) => (l.length > 100 ? `${l[0]} × ${l.length}` : l);
    assert.deepEqual(raw.split('\n').map(short), ['line one', 'bad \\xff\\xfe bytes', 'x × 40000', 'done', 'goodbye from printer', '']);
    assert.equal(await logs('{app="printer", stream="stderr"}', '-o', 'raw'), 'err line\n');
    const jsonl = (await logs('{app="printer"} |~ "^x+$"', '-o', 'jsonl')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(jsonl.map((e) => [e.line.length, !!e.partial]), [[16384, true], [16384, true], [7232, false]]);
    assert.equal(jsonl[0].labels.node, rn!.nodeName);
    assert.equal(jsonl[0].labels.container, 'app');
  });
});
