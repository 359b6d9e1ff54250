/**
 * The kubelet as a client of the container runtime's streaming server: CRI Exec, Attach
 * and PortForward answer with a one-time URL on containerd's server (127.0.0.1, see
 * containerd/config.ts), and the kubelet connects there as upstream's kubelet and
 * kubectl do: an HTTP upgrade to SPDY/3.1 naming the stream protocol. SPDY rather than
 * WebSocket because containerd 1.6 speaks only the v4 WebSocket protocol, which cannot
 * close stdin (`echo hi | kubectl exec -i POD -- cat` would never end).
 */
import { dialSpdy, type SpdySession } from '../../../lib/spdy/mod.js';

/** Upgrades a POST to `url` to SPDY/3.1 offering `protocols` (lib/spdy's dial; a failure is its SpdyDialError). */
export function dialRuntimeStream(url: string, protocols: string[], timeoutMs = 10_000): Promise<{ session: SpdySession; protocol: string }> {
  return dialSpdy(url, protocols, { peer: "the runtime's streaming server", timeoutMs });
}
