/**
 * The three kinds of check a probe or a lifecycle hook runs, as upstream's kubelet runs
 * them (pkg/probe/{exec,http,tcp}, pkg/kubelet/lifecycle): a command in the container
 * through CRI ExecSync; an HTTP GET from the kubelet to the pod's IP (the node's IP for
 * hostNetwork pods, which is then the pod IP), success for 200 ≤ code < 400; a TCP
 * connect. Each answers success or failure with upstream's output text, within the
 * timeout.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, ExecAction, HTTPGetAction, TCPSocketAction } from 'kubernetes-types/core/v1.js';

export type ProbeResult = 'success' | 'failure';

export interface CheckOutcome {
  result: ProbeResult;
  /** what a failure reports (the Unhealthy event's text after "<kind> probe failed: ") */
  output: string;
}

/** Runs a command in a running container (CRI ExecSync). */
export type ExecRunner = (containerId: string, cmd: string[], timeoutSeconds: number) => Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }>;

/** Where a check runs: the container and its pod's address. */
export interface CheckTarget {
  containerId: string;
  container: Container;
  podIP: string;
  exec?: ExecRunner;
}

/** upstream's probe User-Agent: kube-probe/<major>.<minor> */
export const PROBE_USER_AGENT = 'kube-probe/1.33';

/** A port given by number or by the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, c: Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined || port === '') throw new Error('no port given');
  if (/^\d+$/.test(port)) return Number(port);
  const found = c.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`couldn't find port: ${port} in container ${c.name}`);
  return found.containerPort;
}

export async function checkExec(action: ExecAction, t: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  const cmd = action.command ?? [];
  if (!t.exec) return { result: 'failure', output: 'exec is not supported by this runtime' };
  let timer: NodeJS.Timeout | undefined;
  // CRI enforces the timeout; this is the backstop should the runtime not answer
  const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000 + 2000)));
  try {
    const r = await Promise.race([t.exec(t.containerId, cmd, timeoutSeconds), late]);
    if (r === 'timeout') return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    if (r.exitCode === 0) return { result: 'success', output: Buffer.concat([r.stdout, r.stderr]).toString() };
    return { result: 'failure', output: Buffer.concat([r.stdout, r.stderr]).toString() };
  } catch (e) {
    const msg = (e as Error).message;
    if (/deadline|timeout/i.test(msg)) return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    return { result: 'failure', output: msg };
  } finally {
    clearTimeout(timer);
  }
}

/** The URL an httpGet action asks, as upstream builds it (host defaults to the pod IP). */
export function httpGetUrl(action: HTTPGetAction, t: CheckTarget): URL {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || t.podIP;
  const port = resolvePort(action.port, t.container);
  let p = action.path ?? '/';
  if (!p.startsWith('/')) p = `/${p}`;
  return new URL(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${p}`);
}

export function checkHttpGet(action: HTTPGetAction, t: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  let url: URL;
  try {
    url = httpGetUrl(action, t);
  } catch (e) {
    return Promise.resolve({ result: 'failure', output: (e as Error).message });
  }
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  // a Host header given sets the request's host, as upstream
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  const get = url.protocol === 'https:' ? https.get : http.get;
  const display = url.toString();
  return new Promise((resolve) => {
    const req = get(url, { headers, timeout: timeoutSeconds * 1000, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        // upstream reads at most 10 KiB of the body for the message
        if (body.length < 10_240) body += d;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 400) resolve({ result: 'success', output: body });
        else resolve({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (e) => resolve({ result: 'failure', output: `Get "${display}": ${e.message}` }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ result: 'failure', output: `Get "${display}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ result: 'failure', output: `Get "${display}": ${dialError(e, url.hostname, url.port)}` }));
  });
}

/** A connection error in Go's words: dial tcp 10.0.0.5:8080: connect: connection refused. */
function dialError(e: NodeJS.ErrnoException, host: string, port: string | number): string {
  if (e.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  if (e.code === 'EHOSTUNREACH') return `dial tcp ${host}:${port}: connect: no route to host`;
  return e.message;
}

export function checkTcpSocket(action: TCPSocketAction, t: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  let port: number;
  try {
    port = resolvePort(action.port, t.container);
  } catch (e) {
    return Promise.resolve({ result: 'failure', output: (e as Error).message });
  }
  const host = action.host || t.podIP;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: timeoutSeconds * 1000 });
    sock.once('connect', () => {
      sock.destroy();
      resolve({ result: 'success', output: '' });
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve({ result: 'failure', output: `dial tcp ${host}:${port}: i/o timeout` });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve({ result: 'failure', output: dialError(e, host, port) }));
  });
}

/** A probe's or hook's handler: whichever of exec, httpGet and tcpSocket it sets. */
export interface Handler {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
}

export function runHandler(h: Handler, t: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  if (h.exec) return checkExec(h.exec, t, timeoutSeconds);
  if (h.httpGet) return checkHttpGet(h.httpGet, t, timeoutSeconds);
  if (h.tcpSocket) return checkTcpSocket(h.tcpSocket, t, timeoutSeconds);
  return Promise.resolve({ result: 'failure', output: 'missing probe handler' });
}
