import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The environment variable a supervising launcher names itself in: a child that reads its
 * parent only once running would take init for its parent when the launcher was killed
 * while the child was still loading (an orphan of CI's killed-launcher test ran on).
 */
export const SUPERVISOR_PID_ENV = 'FLOTILLA_SUPERVISOR_PID';

/** The supervising launcher's pid, taken out of the environment so this process's own children do not inherit it. */
function supervisorPid(): number | undefined {
  const v = process.env[SUPERVISOR_PID_ENV];
  delete process.env[SUPERVISOR_PID_ENV];
  const pid = Number(v);
  return v && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** How long a component's stop may take before the process exits anyway. */
export const STOP_TIMEOUT_MS = 10_000;

/**
 * How a component process ends: SIGINT or SIGTERM stop it cleanly, and so does losing its
 * parent (a launcher killed outright cannot stop its children; they notice being
 * re-parented). Every service's main ends with this.
 */
export async function runUntilStopped(component: string, stop: () => Promise<void>, opts: { stopTimeoutMs?: number } = {}): Promise<number> {
  const stopTimeoutMs = opts.stopTimeoutMs ?? STOP_TIMEOUT_MS;
  let stopping = false;
  const end = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${component}: stopping (${why})`);
    // a stop that waits on what is gone (a NATS drain with the server killed) must not
    // keep the process alive: an orphan of a killed launcher once ran on for half an hour
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.log(`${component}: stop did not finish within ${stopTimeoutMs / 1000} s; exiting`);
        resolve();
      }, stopTimeoutMs);
    });
    await Promise.race([stop().catch(() => undefined), late]);
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('SIGINT', () => void end('SIGINT'));
  process.on('SIGTERM', () => void end('SIGTERM'));
  const parent = supervisorPid() ?? process.ppid;
  if (process.ppid !== parent) void end(`parent process ${parent} is gone`);
  setInterval(() => {
    if (process.ppid !== parent) void end(`parent process ${parent} is gone`);
  }, 1000).unref();
  return await new Promise<number>(() => undefined);
}

/**
 * Starts a service with the ending of runUntilStopped already in place, so a signal or a
 * gone parent ends the process even while `start` still waits (for NATS, say); a launcher
 * killed during start-up leaves no orphan behind. `started` announces the running service.
 */
export async function startAndRunUntilStopped<T extends { stop(): Promise<void> }>(
  component: string,
  start: () => Promise<T>,
  started: (running: T) => void,
): Promise<number> {
  let running: T | undefined;
  const stopped = runUntilStopped(component, async () => await running?.stop());
  running = await start();
  started(running);
  return await stopped;
}

/**
 * Runs a service's main when its file is the process's entry point
 * (`node dist/services/apiserver/main.js --nats URL`), so each service runs as its own
 * process without the `flotilla` dispatcher; imported by the dispatcher, it does nothing.
 */
export function runIfEntryPoint(moduleUrl: string, component: string, run: (argv: string[]) => Promise<number>): void {
  const entry = process.argv[1];
  if (!entry) return;
  let isEntry = false;
  try {
    isEntry = realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return;
  }
  if (!isEntry) return;
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`${component}: ${e.message}`);
      process.exit(1);
    },
  );
}
