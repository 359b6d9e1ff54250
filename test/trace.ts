/** `flotilla trace` as a user runs it, for the tracing tests. */
import { spawnFlotilla } from './cluster.js';
import { waitFor } from './wait.js';

/** `flotilla trace ARGS` until it shows every step of the pod's start. */
export async function traceCli(args: string[], timeoutMs = 20_000): Promise<string> {
  let last = '';
  try {
    return await waitFor(`flotilla trace ${args.join(' ')} to show every step`, async () => {
      const run = spawnFlotilla(['trace', ...args]);
      const code = await run.exited;
      last = run.output();
      return code === 0 && !last.includes('no span yet') && last;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; its last output:\n${last}`);
  }
}
