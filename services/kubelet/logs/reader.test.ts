import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CriLogParser, readLogs, type LogEntry, type LogReadOptions } from './reader.js';

const T0 = Date.parse('2026-12-03T07:00:00Z');
/** a CRI log line at T0 + s seconds */
const line = (s: number, text: string, stream = 'stdout', tag = 'F') => `${new Date(T0 + s * 1000).toISOString().replace('Z', '123456Z')} ${stream} ${tag} ${text}\n`;

describe('kubelet logs/reader: CRI log files', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-logreader-'));
    mkdirSync(path.join(dir, 'app'));
    log = path.join(dir, 'app', '0.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = async (o: LogReadOptions, ctl = {}) => {
    const parts: Buffer[] = [];
    await readLogs(log, o, (b) => void parts.push(b), ctl);
    return Buffer.concat(parts).toString();
  };

  it('parses CRI lines, joins partial lines, keeps both streams in order', () => {
    const p = new CriLogParser();
    const got: LogEntry[] = [];
    p.push(Buffer.from(line(0, 'one') + line(1, 'tw', 'stderr', 'P') + line(2, 'o', 'stderr', 'F') + line(3, '', 'stdout', 'F').trimEnd() + '\n' + line(4, 'half').slice(0, 10)), (e) => got.push(e));
    assert.deepEqual(
      got.map((e) => [e.stream, e.text.toString(), e.time - T0]),
      [
        ['stdout', 'one\n', 0],
        ['stderr', 'two\n', 1000],
        ['stdout', '\n', 3000],
      ],
    );
    assert.equal(got[0].timestamp, '2026-12-03T07:00:00.000123456Z');
  });

  it('tailLines, since, timestamps and limitBytes; rotated files first, oldest first', async () => {
    writeFileSync(`${log}.20261203-070001`, line(0, 'a') + line(1, 'b'));
    writeFileSync(`${log}.20261203-070003`, line(2, 'c') + line(3, 'd'));
    writeFileSync(log, line(4, 'e') + line(5, 'f', 'stderr'));
    writeFileSync(`${log}.tmp`, line(9, 'never'));
    assert.equal(await read({}), 'a\nb\nc\nd\ne\nf\n');
    assert.equal(await read({ tailLines: 3 }), 'd\ne\nf\n');
    assert.equal(await read({ tailLines: 0 }), '');
    assert.equal(await read({ sinceMs: T0 + 3000 }), 'd\ne\nf\n');
    assert.equal(await read({ tailLines: 2, timestamps: true }), '2026-12-03T07:00:04.000123456Z e\n2026-12-03T07:00:05.000123456Z f\n');
    assert.equal(await read({ limitBytes: 5 }), 'a\nb\nc');
    assert.equal(await read({ limitBytes: 3, tailLines: 1, timestamps: true }), '202');
  });

  it('a missing file is an empty log (not a wait) unless following', async () => {
    const t = Date.now();
    assert.equal(await read({}), '');
    assert.ok(Date.now() - t < 1000);
  });

  it('follow: sees new lines as they come, across a rotation, and ends when the container exits', async () => {
    writeFileSync(log, line(0, 'first') + line(1, 'sec', 'stdout', 'P'));
    let running = true;
    const parts: string[] = [];
    const done = readLogs(log, { follow: true, tailLines: 1 }, (b) => void parts.push(b.toString()), { running: () => running, pollMs: 20 });
    await sleep(100);
    assert.equal(parts.join(''), 'first\n', 'the tail; the open partial line waits for its end');
    appendFileSync(log, line(2, 'ond'));
    await sleep(100);
    assert.equal(parts.join(''), 'first\nsecond\n');
    // rotation: renamed, a last line lands in the old file, then the runtime reopens the path
    renameSync(log, `${log}.20261203-070003`);
    appendFileSync(`${log}.20261203-070003`, line(3, 'late in the old file'));
    await sleep(60);
    writeFileSync(log, line(4, 'new file'));
    await sleep(100);
    assert.equal(parts.join(''), 'first\nsecond\nlate in the old file\nnew file\n');
    appendFileSync(log, line(5, 'last words'));
    running = false;
    await done;
    assert.equal(parts.join(''), 'first\nsecond\nlate in the old file\nnew file\nlast words\n');
  });

  it('follow stops when its signal aborts', async () => {
    writeFileSync(log, line(0, 'x'));
    const ac = new AbortController();
    const done = readLogs(log, { follow: true }, () => undefined, { running: () => true, signal: ac.signal, pollMs: 20 });
    await sleep(50);
    ac.abort();
    await done;
  });
});
