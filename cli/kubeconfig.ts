/**
 * The kubeconfig `flotilla up` writes: one cluster, user and context, all named
 * "flotilla". The local apiserver speaks plain HTTP and asks for no credentials.
 *
 * A plain-HTTP cluster carries `insecure-skip-tls-verify: true`: @kubernetes/client-node
 * 1.x refuses an `http://` server without it ("HTTP protocol is not allowed when
 * skipTLSVerify is not set or false"), and kubectl ignores TLS settings on an http URL.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const KUBECONFIG_NAME = 'flotilla';

export function kubeconfigDocument(server: string, name = KUBECONFIG_NAME): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: server.startsWith('http:') ? { server, 'insecure-skip-tls-verify': true } : { server } }],
    users: [{ name, user: {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  };
}

/** Writes the kubeconfig atomically (kubectl may read it at any moment); answers its absolute path. */
export function writeKubeconfig(file: string, server: string, name = KUBECONFIG_NAME): string {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = abs + '.tmp';
  writeFileSync(tmp, YAML.stringify(kubeconfigDocument(server, name)), { mode: 0o600 });
  renameSync(tmp, abs);
  return abs;
}

/** The URL clients should use for an apiserver bound to host:port (a wildcard bind is reached on loopback). */
export function serverUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
