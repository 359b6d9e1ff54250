/**
 * The top functions of a V8 .cpuprofile (as `FLOTILLA_PROFILE_DIR=DIR` makes the scheduler
 * benchmark write for the apiserver and scheduler), by self time or, with --inclusive, by
 * time spent in them and what they call. Plain JavaScript, so it runs without a build:
 *
 *   node bin/cpuprofile-top.js DIR/CPU.*.cpuprofile [--inclusive] [--top N] [--match REGEX] [--window FILE]
 *
 * --window FILE keeps only the samples inside {"startUs", "endUs"} (the monotonic clock in
 * µs that a profile's own timestamps use): the scheduler benchmark writes its measured op's
 * window to DIR/measured-window.json, so a profile shows that op alone, not the setup.
 */
import { readFileSync } from 'node:fs';

function usage() {
  console.error('usage: node bin/cpuprofile-top.js FILE.cpuprofile [--inclusive] [--top N] [--match REGEX] [--window FILE]');
  process.exit(2);
}

const args = process.argv.slice(2);
let file;
let inclusive = false;
let top = 30;
let match;
let window;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--inclusive') inclusive = true;
  else if (a === '--top') top = Number(args[++i]);
  else if (a === '--match') match = new RegExp(args[++i]);
  else if (a === '--window') window = JSON.parse(readFileSync(args[++i], 'utf8'));
  else if (!a.startsWith('-') && file === undefined) file = a;
  else usage();
}
if (!file || !Number.isInteger(top) || top <= 0) usage();

const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** "name path:line", the path cut to what follows dist/ or node_modules/ */
function label(n) {
  const f = n.callFrame;
  const url = (f.url || '').replace(/.*\/(dist|node_modules)\//, '');
  return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
}

// sample time per node; timeDeltas[i] is the time since the previous sample
const selfByNode = new Map();
let total = 0;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const d = profile.timeDeltas[i] ?? 0;
  at += d;
  if (window && (at < window.startUs || at > window.endUs)) continue;
  total += d;
  selfByNode.set(profile.samples[i], (selfByNode.get(profile.samples[i]) ?? 0) + d);
}

const byLabel = new Map();
let idle = 0;
for (const [id, t] of selfByNode) {
  const n = nodes.get(id);
  if (n.callFrame.functionName === '(idle)') idle += t;
  if (!inclusive) {
    byLabel.set(label(n), (byLabel.get(label(n)) ?? 0) + t);
    continue;
  }
  // a recursive function counts once per sample
  const seen = new Set();
  for (let c = id; c !== undefined; c = parent.get(c)) {
    const l = label(nodes.get(c));
    if (seen.has(l)) continue;
    seen.add(l);
    byLabel.set(l, (byLabel.get(l) ?? 0) + t);
  }
}

const busy = total - idle;
console.log(`${file}${window ? ` (${window.workload ?? 'window'} only)` : ''}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (not idle)`);
const rows = [...byLabel].filter(([l]) => !match || match.test(l)).sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [l, t] of rows) {
  console.log(`${String(Math.round(t / 1e3)).padStart(7)} ms ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${l}`);
}
