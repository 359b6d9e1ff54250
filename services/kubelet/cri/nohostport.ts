/**
 * Pods without hostPorts get a CNI chain without portmap when the containerd has the
 * runtime handler Flotilla's config gives it for that (containerd/config.ts
 * NO_HOSTPORT_RUNTIME_HANDLER, with a conflist folder of its own). A containerd the
 * kubelet did not configure (`--container-runtime-endpoint`) lacks it, and every pod
 * keeps the one chain. The kubelet reads which handlers exist from containerd's own
 * config, which CRI Status returns when asked verbosely.
 */
import { NO_HOSTPORT_RUNTIME_HANDLER } from '../containerd/config.js';
import type { CriClient } from './client.js';

export interface NoHostPortHandler {
  handler: string;
  /** the folder the handler's conflist goes to (containerd watches it) */
  cniConfDir: string;
}

/** The runtime's handler for pods without hostPorts and its conflist folder, or undefined. */
export async function findNoHostPortHandler(client: CriClient): Promise<NoHostPortHandler | undefined> {
  const { info } = await client.status(true);
  let config: { containerd?: { runtimes?: Record<string, { cniConfDir?: string }> } };
  try {
    config = JSON.parse(info.config ?? '{}');
  } catch {
    return undefined;
  }
  const cniConfDir = config.containerd?.runtimes?.[NO_HOSTPORT_RUNTIME_HANDLER]?.cniConfDir;
  return cniConfDir ? { handler: NO_HOSTPORT_RUNTIME_HANDLER, cniConfDir } : undefined;
}

/**
 * Waits until containerd loaded the handler's conflist (its Status says NetworkReady for
 * the default network only); false when it did not within timeoutMs.
 */
export async function waitForHandlerNetwork(client: CriClient, handler: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { info } = await client.status(true);
    if (info[`lastCNILoadStatus.${handler}`] === 'OK') return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
