/**
 * exec, attach, cp and port-forward with the real kubectl binaries against a real node:
 * kubectl ↔ apiserver (SPDY/3.1 for kubectl 1.27, WebSocket v5 and the port-forward
 * tunnel for 1.33) ↔ NATS (lib/stream) ↔ kubelet ↔ containerd's streaming server (SPDY).
 * Needs root and the node's packages, like every real-node suite.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeKubeconfig } from '../../../cli/kubeconfig.js';
import { kubectlBinary, kubectlDir } from '../../../test/kubectl.js';
import { httpGet } from '../../../test/node.js';
import { startRealNode, type RealNode } from '../../../test/realnode.js';

const VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];

/** `stock` is the kubectl on PATH, else kubectl.<version> beside it */
const binary = (version: string): string => (version === 'stock' ? path.join(kubectlDir(), 'kubectl') : kubectlBinary(version));
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Run {
  code: number | null;
  raw: Buffer;
  stdout: string;
  stderr: string;
}

describe('kubectl exec, attach, cp and port-forward on a real node (needs root)', function () {
  this.timeout(300_000);
  let rn: RealNode | undefined;
  let dir = '';
  let kubeconfig = '';
  const children = new Set<ChildProcess>();

  /** runs kubectl `version`; `input` is written to its stdin, which is then closed */
  const kubectl = (version: string, args: string[], input?: string | Buffer, timeoutMs = 30_000): Promise<Run> =>
    new Promise((resolve, reject) => {
      const p = spawn(binary(version), ['--kubeconfig', kubeconfig, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      p.stdout.on('data', (c) => out.push(c));
      p.stderr.on('data', (c) => err.push(c));
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`kubectl ${args.join(' ')} did not end within ${timeoutMs} ms; stdout ${Buffer.concat(out)}; stderr ${Buffer.concat(err)}`));
      }, timeoutMs);
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, raw: Buffer.concat(out), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
      p.stdin.end(input);
    });

  /** a long-running kubectl; resolves with it once `ready` matched its stdout */
  const background = (version: string, args: string[], ready: RegExp, timeoutMs = 30_000): Promise<{ p: ChildProcess; match: RegExpMatchArray; output: () => string }> =>
    new Promise((resolve, reject) => {
      const p = spawn(kubectlBinary(version), ['--kubeconfig', kubeconfig, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(p);
      let text = '';
      let done = false;
      const timer = setTimeout(() => reject(new Error(`kubectl ${args.join(' ')}: no ${ready} within ${timeoutMs} ms; output: ${text}`)), timeoutMs);
      const look = (c: Buffer) => {
        text += c.toString();
        const m = text.match(ready);
        if (m && !done) {
          done = true;
          clearTimeout(timer);
          resolve({ p, match: m, output: () => text });
        }
      };
      p.stdout!.on('data', look);
      p.stderr!.on('data', look);
      p.on('close', (code) => !done && reject(new Error(`kubectl ${args.join(' ')} exited ${code}: ${text}`)));
    });

  /** kubectl under a pseudo-terminal (util-linux script): `shell` runs in it; `feed` writes lines once `prompt` showed */
  const inTerminal = (shell: string, feed: string[] = [], prompt?: RegExp, timeoutMs = 60_000, until?: RegExp, onceSeen?: { pattern: RegExp; then: () => void }): Promise<string> =>
    new Promise((resolve, reject) => {
      const p = spawn('script', ['-qfec', shell, '/dev/null'], { cwd: dir, env: { ...process.env, KUBECONFIG: kubeconfig, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(p);
      let text = '';
      let fed = false;
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`${shell}: did not end within ${timeoutMs} ms; output: ${JSON.stringify(text)}`));
      }, timeoutMs);
      const look = (c: Buffer) => {
        text += c.toString();
        if (!fed && prompt && prompt.test(text)) {
          fed = true;
          for (const l of feed) p.stdin.write(l);
        }
        if (onceSeen?.pattern.test(text)) {
          onceSeen.then();
          onceSeen = undefined;
        }
        // a session that does not end by itself (attach) is left once it showed what was wanted
        if (until?.test(text)) p.kill('SIGTERM');
      };
      p.stdout.on('data', look);
      p.stderr.on('data', look);
      p.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });

  before(async () => {
    rn = await startRealNode('exec', { prefix: 'ex' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-exec-'));
    kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), rn.api.httpUrl);
    const web = "mkdir -p /www && echo pong > /www/index.html && exec httpd -f -p 8080 -h /www";
    await Promise.all([
      rn.createPod({ containers: [{ name: 'box', image: 'busybox', command: ['sh', '-c', web] }] }, { name: 'box' }),
      rn.createPod({ containers: [{ name: 'ticker', image: 'busybox', command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'] }] }, { name: 'ticker' }),
      rn.createPod({ containers: [{ name: 'shell', image: 'busybox', command: ['sh'], stdin: true, tty: true }] }, { name: 'shell' }),
      rn.createPod({ restartPolicy: 'Never', containers: [{ name: 'once', image: 'busybox', command: ['true'] }] }, { name: 'done' }),
    ]);
    await Promise.all([rn.podIn('box', 'Running'), rn.podIn('ticker', 'Running'), rn.podIn('shell', 'Running'), rn.podIn('done', 'Succeeded')]);
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await rn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exec -- sh -c "exit 3" exits 3 with every kubectl 1.27…1.33; exit 0 exits 0', async () => {
    const runs = await Promise.all(VERSIONS.map((v) => kubectl(v, ['exec', 'box', '--', 'sh', '-c', 'exit 3'])));
    assert.deepEqual(runs.map((r) => r.code), VERSIONS.map(() => 3), runs.map((r) => r.stderr).join('\n'));
    const ok = await Promise.all(VERSIONS.map((v) => kubectl(v, ['exec', 'box', '--', 'true'])));
    assert.deepEqual(ok.map((r) => r.code), VERSIONS.map(() => 0), ok.map((r) => r.stderr).join('\n'));
  });

  // Output that ends at once used to lose its tail: our WINDOW_UPDATEs, unread when
  // containerd closed its socket, made its kernel reset the connection (docs/kubelet.md).
  it('cp: 4 MiB of random bytes into a pod and back out, and exec output of several MiB, every byte (stock kubectl, 1.27, 1.33)', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    writeFileSync(path.join(dir, 'random.bin'), data);
    // seq's lines, known here, as a check that needs no file in the pod
    let lines = '';
    for (let i = 1; i <= 200_000; i++) lines += `${i}\n`;
    // one version after the other: three 4 MiB transfers at once on these 2 cores make a
    // rarer loss at containerd's close likelier (docs/kubelet.md, left)
    for (const v of ['stock', '1.27', '1.33']) {
      const up = await kubectl(v, ['cp', 'random.bin', `box:/tmp/random-${v}.bin`], undefined, 120_000);
      assert.equal(up.code, 0, `${v}: ${up.stderr}`);
      const cat = await kubectl(v, ['exec', 'box', '--', 'cat', `/tmp/random-${v}.bin`], undefined, 120_000);
      assert.equal(cat.code, 0, `${v}: ${cat.stderr}`);
      assert.equal(cat.raw.length, data.length, `${v}: exec cat delivered ${cat.raw.length} of ${data.length} bytes`);
      assert.equal(sha256(cat.raw), sha256(data), `${v}: exec cat`);
      const down = await kubectl(v, ['cp', `box:/tmp/random-${v}.bin`, `random-back-${v}.bin`], undefined, 120_000);
      assert.equal(down.code, 0, `${v}: ${down.stderr}`);
      assert.equal(sha256(readFileSync(path.join(dir, `random-back-${v}.bin`))), sha256(data), `${v}: cp from the pod`);
      const seq = await kubectl(v, ['exec', 'box', '--', 'seq', '1', '200000'], undefined, 120_000);
      assert.equal(seq.code, 0, `${v}: ${seq.stderr}`);
      assert.equal(seq.raw.length, lines.length, `${v}: exec seq delivered ${seq.raw.length} of ${lines.length} bytes`);
      assert.ok(seq.stdout === lines, `${v}: exec seq output differs`);
    }
  });

  for (const v of ['1.27', '1.33']) {
    describe(`kubectl ${v} (${v === '1.27' ? 'SPDY/3.1' : 'WebSocket'})`, () => {
      it('exec: stdout and stderr apart; stdin to the end (echo hi | kubectl exec -i POD -- cat)', async () => {
        const r = await kubectl(v, ['exec', 'box', '-c', 'box', '--', 'sh', '-c', 'echo out; echo err >&2']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'out\n');
        assert.equal(r.stderr, 'err\n');
        const cat = await kubectl(v, ['exec', '-i', 'box', '--', 'cat'], 'hi\n');
        assert.equal(cat.code, 0, cat.stderr);
        assert.equal(cat.stdout, 'hi\n');
        // 1 MiB through stdin and back: many SPDY windows each way
        const big = Buffer.alloc(1024 * 1024, 'abcdefghijklmnopqrstuvwxyz\n');
        const echo = await kubectl(v, ['exec', '-i', 'box', '--', 'cat'], big);
        assert.equal(echo.code, 0, echo.stderr);
        assert.equal(echo.stdout.length, big.length);
        assert.ok(Buffer.from(echo.stdout).equals(big));
      });

      it('exec -it: a shell prompt through a pseudo-terminal, and the terminal size follows a resize', async () => {
        const k = kubectlBinary(v);
        const shell = await inTerminal(`${k} exec -it box -- sh`, ['echo $((6*7))\n', 'exit 5\n'], /\/ # /);
        assert.match(shell, /\/ # /);
        assert.match(shell, /\r?\n42\r?\n/);
        // The size kubectl reads from its terminal arrives first; the terminal is resized
        // (SIGWINCH) only once the pod printed it, and the pod prints again when it sees the
        // new size: no step depends on how fast kubectl starts.
        const resize = path.join(dir, `resize-${v}`);
        const sizes = await inTerminal(
          `stty rows 30 cols 100; (until [ -e ${resize} ]; do sleep 0.1; done; stty -F /dev/tty rows 40 cols 120) & ${k} exec -it box -- sh -c 'sleep 1; stty size; while [ "$(stty size)" = "30 100" ]; do sleep 0.2; done; stty size'`,
          [], undefined, 60_000, undefined, { pattern: /30 100/, then: () => writeFileSync(resize, '') });
        assert.match(sizes, /30 100\r?\n[^]*40 120/);
      });

      it('cp: a file into the pod and back, byte for byte (tar over exec)', async () => {
        const src = path.join(dir, `src-${v}.bin`);
        const data = Buffer.alloc(300 * 1024);
        for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
        writeFileSync(src, data);
        const up = await kubectl(v, ['cp', `src-${v}.bin`, `box:/tmp/f-${v}`]);
        assert.equal(up.code, 0, up.stderr);
        // what arrived, and 300 KiB of output at once (tar cf's burst) back through exec
        const cat = await kubectl(v, ['exec', 'box', '--', 'cat', `/tmp/f-${v}`]);
        assert.equal(cat.code, 0, cat.stderr);
        assert.equal(cat.raw.length, data.length);
        assert.ok(cat.raw.equals(data));
        const down = await kubectl(v, ['cp', `box:/tmp/f-${v}`, `back-${v}.bin`]);
        assert.equal(down.code, 0, down.stderr);
        assert.ok(readFileSync(path.join(dir, `back-${v}.bin`)).equals(data));
      });

      it('attach: the output of a running container; -i -t to a container with stdin and a TTY', async () => {
        const a = await background(v, ['attach', 'ticker'], /tick \d+\r?\n/);
        a.p.kill('SIGTERM');
        const shell = await inTerminal(`${kubectlBinary(v)} attach -it shell`, ['echo attached-$((40+2))\n'], /If you don't see a command prompt/, 30_000, /attached-42/);
        assert.match(shell, /attached-42/);
      });

      it('port-forward: curl through it, several connections', async () => {
        const pf = await background(v, ['port-forward', 'pod/box', ':8080'], /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
        try {
          const port = pf.match[1];
          for (let i = 0; i < 3; i++) {
            const r = await httpGet(`http://127.0.0.1:${port}/`);
            assert.equal(r.status, 200);
            assert.equal(r.body.trim(), 'pong');
          }
        } finally {
          pf.p.kill('SIGTERM');
        }
      });

      it('run --rm -i: the output of a command that ends at once, every time (attach after the exit falls back to the log)', async () => {
        for (let i = 0; i < 3; i++) {
          const name = `once-${v.replace('.', '-')}-${i}`;
          const overrides = JSON.stringify({ spec: { nodeName: rn!.nodeName } });
          const r = await kubectl(v, ['run', name, '--image=busybox', '--rm', '-i', '--restart=Never', `--overrides=${overrides}`, '--', 'echo', `said-${name}`], undefined, 90_000);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, new RegExp(`^said-${name}$`, 'm'), `${name}: stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
        }
      });

      it('refusals arrive as Statuses: a finished pod, an unknown container', async () => {
        const done = await kubectl(v, ['exec', 'done', '--', 'true']);
        assert.notEqual(done.code, 0);
        assert.match(done.stderr, /completed pod; current phase is Succeeded/);
        const bad = await kubectl(v, ['exec', 'box', '-c', 'nope', '--', 'true']);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /container nope is not valid for pod box/);
      });
    });
  }
});
