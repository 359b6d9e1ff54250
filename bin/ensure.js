#!/usr/bin/env node
/**
 * Makes a fresh clone runnable, then (optionally) runs the tests:
 *   node bin/ensure.js          dependencies, build, nats-server
 *   node bin/ensure.js test ... the same, then mocha over dist/ (extra args go to mocha)
 *   node bin/ensure.js wasm     dependencies and the WebAssembly core only (npm run build)
 *
 * Whatever is missing is installed or built: node_modules (`npm ci`), the WebAssembly
 * scheduling core (`asc`, both builds), the TypeScript build (`tsc`), nats-server (`apt-get install -y nats-server` when running as root), the
 * real node's Debian packages (bin/node-packages.js: containerd, runc, CNI plugins, ...) and
 * the monitoring addons' (prometheus), and for tests Chromium (the dashboard's tests drive it);
 * otherwise it stops with the one command to run. Plain JavaScript: it runs before
 * anything is compiled.
 */
import { spawnSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAddonPackages, ensureNodePackages, ensureTestPackages } from './node-packages.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_MARKER = path.join(ROOT, 'dist', 'cli', 'main.js');
const SOURCE_DIRS = ['lib', 'services', 'cli', 'bench', 'test', 'assembly'];
const WASM_SOURCE_DIR = path.join(ROOT, 'assembly');
const WASM_TARGETS = { scalar: path.join(ROOT, 'dist', 'assembly', 'core.wasm'), simd: path.join(ROOT, 'dist', 'assembly', 'core-simd.wasm') };

function say(line) {
  process.stderr.write(`ensure: ${line}\n`);
}

function fail(line) {
  process.stderr.write(`\n${line}\n\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts }).status ?? 1;
}

export function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`Node.js ${process.versions.node} is too old: flotilla needs Node.js 20 or newer.`);
}

/** node_modules as package-lock.json pins it. */
export function ensureDependencies() {
  if (existsSync(path.join(ROOT, 'node_modules', '.package-lock.json')) && existsSync(path.join(ROOT, 'node_modules', 'typescript'))) return;
  say('node_modules is missing: running npm ci');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) fail('npm ci failed; fix the error above and run: npm ci');
}

function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/ is missing or older than a source file or tsconfig.json. */
export function buildIsStale() {
  if (!existsSync(BUILD_MARKER)) return true;
  const built = statSync(BUILD_MARKER).mtimeMs;
  const sources = Math.max(statSync(path.join(ROOT, 'tsconfig.json')).mtimeMs, ...SOURCE_DIRS.map((d) => newestSource(path.join(ROOT, d))));
  return sources > built;
}

/**
 * Compiles with tsc. tsc writes its output even when it reports type errors; `strict`
 * makes those errors fatal (for the tests), otherwise a usable build is enough.
 */
export function ensureBuild({ onlyIfStale = false, strict = false } = {}) {
  if (onlyIfStale && !buildIsStale()) return;
  say('building (tsc -p .)');
  const code = run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT]);
  if (code === 0) return;
  if (strict) fail('tsc reported type errors (above); fix them and run the command again.');
  if (!existsSync(BUILD_MARKER)) fail('the build failed (above); fix the errors and run the command again.');
  say('tsc reported type errors (above); continuing with what it emitted');
}

/** Targets of asconfig.json whose .wasm is missing or older than assembly/*.ts or asconfig.json. */
export function staleWasmTargets() {
  const sources = Math.max(statSync(path.join(ROOT, 'asconfig.json')).mtimeMs, newestSource(WASM_SOURCE_DIR));
  return Object.entries(WASM_TARGETS)
    .filter(([, file]) => !existsSync(file) || statSync(file).mtimeMs < sources)
    .map(([target]) => target);
}

/** Compiles the scheduling core (scalar and SIMD builds) with AssemblyScript when stale. */
export function ensureWasm() {
  for (const target of staleWasmTargets()) {
    say(`building the WebAssembly core (asc --target ${target})`);
    const asc = path.join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
    if (run(process.execPath, [asc, '--config', 'asconfig.json', '--target', target]) !== 0) {
      fail(`asc failed to build the ${target} core (above); fix assembly/ and run: npm run build:wasm`);
    }
  }
}

function findNatsServer() {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  // Debian installs nats-server into /usr/sbin, which is not on a normal user's PATH.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const p = path.join(d, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next folder */
    }
  }
  return undefined;
}

/** The nats-server binary; installs Debian's package when running as root. */
export function ensureNatsServer() {
  const found = findNatsServer();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    fail('nats-server is not installed. Install it with:\n\n  sudo apt-get install -y nats-server');
  }
  say('nats-server is missing: running apt-get install -y nats-server');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['install', '-y', 'nats-server'], { env }) !== 0) {
    // A fresh machine may have no package lists yet.
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', 'nats-server'], { env });
  }
  return findNatsServer() ?? fail('installing nats-server failed (above). Install it with:\n\n  sudo apt-get install -y nats-server');
}

function runTests(natsServer, args) {
  const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const spec = args.some((a) => !a.startsWith('-')) ? [] : ['dist/**/*.test.js'];
  const child = spawn(process.execPath, [mocha, ...spec, ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NATS_SERVER_BIN: natsServer },
  });
  // Ctrl-C reaches mocha directly (same terminal process group): wait for it to finish.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function main(argv) {
  const [mode = 'setup', ...rest] = argv;
  if (mode !== 'setup' && mode !== 'test' && mode !== 'wasm') fail(`usage: node bin/ensure.js [test [mocha args...] | wasm]`);
  checkNode();
  ensureDependencies();
  ensureWasm();
  if (mode === 'wasm') return;
  ensureBuild({ strict: mode === 'test' });
  const natsServer = ensureNatsServer();
  // A real node (containerd, runc, CNI plugins, local images) needs these; without them
  // only hollow nodes run, and the tests that need them fail saying this same command.
  const node = ensureNodePackages({ say });
  if (node.missing.length) say(`a real node needs Debian packages that are missing; install them with:\n\n  ${node.command}\n`);
  const addons = ensureAddonPackages({ say });
  if (addons.missing.length) say(`flotilla up runs Prometheus when it is installed; install it with:\n\n  ${addons.command}\n`);
  if (mode === 'test') {
    const browser = ensureTestPackages({ say });
    if (browser.missing.length) say(`the dashboard's tests drive Debian's Chromium; install it with:\n\n  ${browser.command}\n`);
    runTests(natsServer, rest);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
