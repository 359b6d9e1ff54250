/**
 * Container lifecycle hooks (postStart, preStop) as upstream's kubelet runs them
 * (pkg/kubelet/lifecycle/handlers.go): `exec` runs the command in the container through
 * CRI ExecSync and fails on a non-zero exit; `httpGet` asks the pod from the kubelet and
 * fails only when the request does (any status answers); `sleep` waits in the kubelet.
 * `tcpSocket` is accepted by the API but is no hook handler: it fails.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';
import { type CheckTarget, httpGetUrl, PROBE_USER_AGENT } from './prober/handlers.js';

/** A hook that did not succeed: the message is logged, never put in an event (it may hold secrets, as upstream says). */
export class HookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookError';
  }
}

function httpHook(h: NonNullable<LifecycleHandler['httpGet']>, t: CheckTarget, timeoutSeconds: number): Promise<void> {
  const url = httpGetUrl(h, t);
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  for (const x of h.httpHeaders ?? []) headers[x.name] = x.value;
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, timeout: timeoutSeconds * 1000, rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', (e) => reject(new HookError(`Get "${url}": ${e.message}`)));
  });
}

/**
 * Runs the hook for container `t`, giving it at most timeoutSeconds (0: no limit, as for
 * postStart exec). Throws HookError when it fails.
 */
export async function runLifecycleHandler(h: LifecycleHandler, t: CheckTarget, timeoutSeconds: number): Promise<void> {
  if (h.exec) {
    const cmd = h.exec.command ?? [];
    if (!t.exec) throw new HookError('exec hooks need a runtime that runs containers');
    let r;
    try {
      r = await t.exec(t.containerId, cmd, timeoutSeconds);
    } catch (e) {
      throw new HookError(`Exec lifecycle hook (${JSON.stringify(cmd)}) for Container "${t.container.name}" failed - error: ${(e as Error).message}`);
    }
    if (r.exitCode !== 0) {
      const out = Buffer.concat([r.stdout, r.stderr]).toString();
      throw new HookError(`Exec lifecycle hook (${JSON.stringify(cmd)}) for Container "${t.container.name}" failed - error: command '${cmd.join(' ')}' exited with ${r.exitCode}: ${out}`);
    }
    return;
  }
  if (h.httpGet) return httpHook(h.httpGet, t, timeoutSeconds || 3600);
  if (h.sleep) {
    const seconds = timeoutSeconds > 0 ? Math.min(h.sleep.seconds, timeoutSeconds) : h.sleep.seconds;
    await sleep(seconds * 1000);
    return;
  }
  throw new HookError(`invalid handler for Container "${t.container.name}": only exec, httpGet and sleep run as hooks`);
}
