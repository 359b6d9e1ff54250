/**
 * How a component process ends: SIGINT or SIGTERM stop it cleanly, and so does losing its
 * parent (a launcher killed outright cannot stop its children; they notice being
 * re-parented). Every service's main ends with this.
 */
export async function runUntilStopped(component: string, stop: () => Promise<void>): Promise<number> {
  let stopping = false;
  const end = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${component}: stopping (${why})`);
    await stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void end('SIGINT'));
  process.on('SIGTERM', () => void end('SIGTERM'));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void end(`parent process ${parent} is gone`);
  }, 1000).unref();
  return await new Promise<number>(() => undefined);
}
