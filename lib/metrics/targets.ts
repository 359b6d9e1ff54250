/**
 * Scrape targets discovered over NATS: every process that serves /metrics answers
 * requests on one subject with where it serves them, so a Prometheus fed from
 * `discoverTargets` finds new components and kubelet processes without being told, and
 * loses the ones that stopped (they no longer answer). Nothing is stored: the answer is
 * the set of processes alive now.
 */
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** What one process serves for Prometheus. */
export interface ScrapeTarget {
  /**
   * the scrape job the kubernetes-mixin dashboards select: apiserver, kube-scheduler,
   * kube-controller-manager, kubelet, kube-state-metrics, kube-proxy, coredns
   */
  job: string;
  /** host:port of its HTTP endpoint */
  address: string;
  /** the metrics paths it serves (default ['/metrics']); a kubelet also /metrics/cadvisor */
  paths?: string[];
  /** target labels Prometheus attaches to every series (e.g. node for a real kubelet) */
  labels?: Record<string, string>;
}

/** Requests on this subject are answered by every process with its targets (a JSON array). */
export const TARGETS_SUBJECT = 'flotilla.metrics.targets';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** host:port of an http://host:port URL, as Prometheus addresses targets. */
export function targetAddress(url: string): string {
  const u = new URL(url);
  // a server bound to every interface is reached on loopback from this machine
  const host = u.hostname === '0.0.0.0' || u.hostname === '[::]' ? '127.0.0.1' : u.hostname;
  return `${host}:${u.port}`;
}

/** Answers every discovery request with `targets` (read at each request) until stopped. */
export function announceTargets(nc: NatsConnection, targets: () => ScrapeTarget[]): { stop(): void } {
  const sub: Subscription = nc.subscribe(TARGETS_SUBJECT, {
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      msg.respond(enc.encode(JSON.stringify(targets())));
    },
  });
  return { stop: () => sub.unsubscribe() };
}

/**
 * Asks every process for its targets and gathers the answers that arrive within waitMs
 * (processes on one NATS answer in well under that). Sorted, so equal sets compare equal.
 */
export async function discoverTargets(nc: NatsConnection, waitMs = 500): Promise<ScrapeTarget[]> {
  const inbox = createInbox();
  const found: ScrapeTarget[] = [];
  const sub = nc.subscribe(inbox, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const got = JSON.parse(dec.decode(msg.data)) as ScrapeTarget[];
        if (Array.isArray(got)) found.push(...got.filter((t) => typeof t?.job === 'string' && typeof t?.address === 'string'));
      } catch {
        /* a malformed answer names no target */
      }
    },
  });
  nc.publish(TARGETS_SUBJECT, enc.encode(''), { reply: inbox });
  await new Promise((r) => setTimeout(r, waitMs));
  sub.unsubscribe();
  return found.sort((a, b) => a.job.localeCompare(b.job) || a.address.localeCompare(b.address));
}
