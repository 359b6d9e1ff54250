/**
 * Command-line flag values for every `flotilla` verb: each parser takes the raw string
 * (undefined when the flag was not given, so callers keep their defaults) and throws an
 * Error naming the flag and the value it refused.
 */
import { parseDuration } from '../api/duration.js';

/** Where every service finds NATS when neither --nats nor $NATS_URL says otherwise. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** The --nats line of every service's usage text, its description starting at `column`. */
export function natsFlagUsage(column = 21): string {
  return `${'--nats URL'.padEnd(column)}NATS server(s), comma-separated (default $NATS_URL or ${DEFAULT_NATS_URL})`;
}

/** --nats URL: the flag, else $NATS_URL, else DEFAULT_NATS_URL. */
export function natsUrlFlag(v: string | undefined): string {
  return v ?? process.env.NATS_URL ?? DEFAULT_NATS_URL;
}

/** --flag, --flag=true, --flag=false (as upstream's Go booleans). */
export function boolFlag(v: string | undefined, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  throw new Error(`${flag}: expected true or false, got "${v}"`);
}

/** An integer from min to max. */
export function intFlag(v: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: expected an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

/** A number `ok` accepts; `what` describes it in the error. */
export function numberFlag(v: string | undefined, flag: string, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new Error(`${flag}: expected ${what}, got "${v}"`);
  return n;
}

/** A value `check` accepts (it throws saying why not: the error then names the flag), passed on as given. */
export function checkedFlag(v: string | undefined, flag: string, check: (v: string) => unknown): string | undefined {
  if (v === undefined) return undefined;
  try {
    check(v);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
  return v;
}

/** A TCP port, 0 meaning any free one. */
export function portFlag(v: string | undefined, flag = '--port'): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag}: not a port number: ${v}`);
  return n;
}

/** A positive Go duration (40s, 1m30s), in milliseconds. */
export function durationFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
  if (ms <= 0) throw new Error(`${flag}: must be positive, got "${v}"`);
  return ms;
}

/**
 * Starts a service serving HTTP on `port`; when that is the default port (not given on
 * the command line) and taken, say so and serve on a free one instead: a second cluster
 * on one machine then still starts.
 */
export async function startOnPort<T>(name: string, port: number, portGiven: boolean, start: (port: number) => Promise<T>): Promise<T> {
  try {
    return await start(port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || portGiven) throw e;
    console.log(`${name}: port ${port} is busy; serving metrics on a free port`);
    return start(0);
  }
}
