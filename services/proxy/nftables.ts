/**
 * Applying a Ruleset with Debian's `nft` (nftables 1.0.6): every change is one
 * `nft -f -` transaction, which the kernel applies atomically or not at all. The first
 * sync (and any after a failure) replaces the whole table: `add table` + `delete table`
 * + the new table in one transaction, so no rule of an earlier run survives and there
 * is no moment without rules. Later syncs send only the difference to the previous
 * ruleset: sets and maps added, chains added, flushed and refilled, or deleted, map
 * elements changed, sets and maps deleted.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BASE_CHAINS, FIXED_MAPS, setKind, type Ruleset } from './rules.js';

export const NFT = '/usr/sbin/nft';
export const NSENTER = '/usr/bin/nsenter';

/** nft's command line: inside a node's network namespace (/run/netns/NAME) through nsenter, the proxy itself staying outside */
function nftCommand(args: string[], netns?: string): [string, string[]] {
  return netns ? [NSENTER, [`--net=/run/netns/${netns}`, NFT, ...args]] : [NFT, args];
}

export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftError';
  }
}

export function nftInstalled(): boolean {
  return existsSync(NFT);
}

/** Runs `nft -f -` with the transaction on stdin; rejects with nft's first error lines. */
export function nftApply(transaction: string, timeoutMs = 120_000, netns?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(...nftCommand(['-f', '-'], netns), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (c: string) => {
      if (stderr.length < 65536) stderr += c;
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new NftError(`running ${NFT}: ${e.message}`, ''));
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const first = stderr.split('\n').filter((l) => l.trim()).slice(0, 6).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l)).join('\n');
        reject(new NftError(`nft -f - failed (${signal ?? `exit ${code}`}): ${first}`, stderr));
      }
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(transaction);
  });
}

/** Runs nft with arguments, its stdout. */
export function nft(args: string[], netns?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(...nftCommand(args, netns), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    p.on('error', (e) => reject(new NftError(`running ${NFT}: ${e.message}`, '')));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new NftError(`nft ${args.join(' ')}: ${err.trim()}`, err))));
  });
}

/** Whether `table ip NAME` exists. */
export async function tableExists(table: string, netns?: string): Promise<boolean> {
  return (await nft(['list', 'tables', 'ip'], netns)).split('\n').some((l) => l.trim() === `table ip ${table}`);
}

/** The transaction that removes the table if it exists (add first: deleting a missing table fails). */
export function deleteTableTransaction(table: string): string {
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}

function elementLines(prefix: string, map: string, entries: Array<[string, string]>): string[] {
  const lines: string[] = [];
  // a few thousand elements a command keeps each line short enough for nft's parser
  for (let i = 0; i < entries.length; i += 2000) {
    const part = entries.slice(i, i + 2000).map(([k, v]) => (v ? `${k} : ${v}` : k));
    lines.push(`${prefix} element ip ${map} { ${part.join(', ')} }`);
  }
  return lines;
}

function setDecl(table: string, name: string, decl: string): string {
  return `add ${setKind(decl)} ip ${table} ${name} { ${decl} }`;
}

/** The transaction that replaces the table with this ruleset. */
export function fullTransaction(table: string, rs: Ruleset): string {
  const out: string[] = [`add table ip ${table}`, `delete table ip ${table}`, `add table ip ${table} { comment "flotilla proxy: rebuilt on every start, removed by flotilla proxy --cleanup"; }`];
  for (const [name, decl] of BASE_CHAINS) out.push(`add chain ip ${table} ${name} { ${decl} }`);
  for (const name of rs.chains.keys()) if (!BASE_CHAINS.has(name)) out.push(`add chain ip ${table} ${name}`);
  for (const [name, decl] of FIXED_MAPS) out.push(setDecl(table, name, decl));
  for (const [name, decl] of rs.sets) out.push(setDecl(table, name, decl));
  for (const [name, rules] of rs.chains) for (const r of rules) out.push(`add rule ip ${table} ${name} ${r}`);
  for (const [map, els] of rs.elements) if (els.size) out.push(...elementLines('add', `${table} ${map}`, [...els]));
  return out.join('\n') + '\n';
}

function sameRules(a: string[] | undefined, b: string[]): boolean {
  // a Service's chains rendered from the cache are the very same arrays
  if (a === b) return true;
  return !!a && a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * The transaction that turns `prev` (what the table holds) into `next`; empty when
 * nothing changed. Order matters inside it: chains are created before rules and
 * elements name them, and deleted only after nothing refers to them any more.
 */
export function diffTransaction(table: string, prev: Ruleset, next: Ruleset): string {
  const out: string[] = [];
  // a set's name determines its declaration (rules.ts): sets come and go, never change
  for (const [name, decl] of next.sets) if (!prev.sets.has(name)) out.push(setDecl(table, name, decl));
  for (const name of next.chains.keys()) if (!prev.chains.has(name)) out.push(`add chain ip ${table} ${name}`);
  for (const [name, rules] of next.chains) {
    const old = prev.chains.get(name);
    if (sameRules(old, rules)) continue;
    if (old) out.push(`flush chain ip ${table} ${name}`);
    for (const r of rules) out.push(`add rule ip ${table} ${name} ${r}`);
  }
  const none = new Map<string, string>();
  for (const map of new Set([...prev.elements.keys(), ...next.elements.keys()])) {
    // a map deleted below goes with its elements
    if (prev.sets.has(map) && !next.sets.has(map)) continue;
    const before = prev.elements.get(map) ?? none;
    const els = next.elements.get(map) ?? none;
    const gone: Array<[string, string]> = [];
    const added: Array<[string, string]> = [];
    for (const [k, v] of before) {
      const now = els.get(k);
      if (now === undefined || now !== v) gone.push([k, '']);
    }
    for (const [k, v] of els) if (before.get(k) !== v) added.push([k, v]);
    out.push(...elementLines('delete', `${table} ${map}`, gone), ...elementLines('add', `${table} ${map}`, added));
  }
  // emptied first: a chain still jumped to by another going one cannot be deleted
  const gone = [...prev.chains.keys()].filter((name) => !next.chains.has(name));
  for (const name of gone) out.push(`flush chain ip ${table} ${name}`);
  // sets once no rule refers to them, and before the chains a verdict map's elements name
  for (const [name, decl] of prev.sets) if (!next.sets.has(name)) out.push(`delete ${setKind(decl)} ip ${table} ${name}`);
  for (const name of gone) out.push(`delete chain ip ${table} ${name}`);
  return out.length ? out.join('\n') + '\n' : '';
}
