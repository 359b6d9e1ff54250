/**
 * Upstream's repair controllers for cluster IPs and node ports: at start and every few
 * minutes, the allocation records are reconciled with the stored Services. A value a
 * Service holds without a record (a Service stored by an older Flotilla, or restored) gets
 * one; a record no Service holds (an apiserver that died between reserving and writing)
 * is released once it is older than a grace period, so a create in flight elsewhere keeps
 * its reservation. Every apiserver runs it; the store's compare-and-swap keeps concurrent
 * passes from undoing each other's work.
 */
import type { WatchCache } from '../watchcache.js';
import type { RangeAllocator, Owner } from './allocator.js';
import { heldIPs, heldPorts, type ServiceAllocations } from './services.js';

/** upstream repairs every 3 minutes */
export const REPAIR_INTERVAL_MS = 3 * 60_000;
/** a record younger than this may belong to a create still in flight */
export const LEAK_GRACE_MS = 60_000;

export interface RepairReport {
  /** records written for values Services held without one */
  restored: number;
  /** records no Service held, released */
  released: number;
  /** values held by two Services, or outside the configured range (logged; left as they are) */
  problems: string[];
}

export async function repairAllocations(alloc: ServiceAllocations, cache: WatchCache, now = Date.now()): Promise<RepairReport> {
  await cache.waitConsistent();
  const report: RepairReport = { restored: 0, released: 0, problems: [] };
  const ipHolders = new Map<string, Owner>();
  const portHolders = new Map<string, Owner>();
  for (const c of cache.list('services')) {
    const svc = c.obj;
    const owner: Owner = { namespace: c.namespace, name: c.name, uid: svc.metadata?.uid ?? '' };
    const note = (holders: Map<string, Owner>, value: string, what: string) => {
      const other = holders.get(value);
      if (other && other.uid !== owner.uid) {
        report.problems.push(`${what} ${value} is held by both ${other.namespace}/${other.name} and ${owner.namespace}/${owner.name}; recreate one of them`);
        return;
      }
      holders.set(value, owner);
    };
    for (const ip of heldIPs(svc)) note(ipHolders, ip, 'cluster IP');
    for (const p of heldPorts(svc)) note(portHolders, String(p), 'node port');
  }
  // every missing record is restored before any leaked one is released
  const ipLeaks = await restore(alloc.ips, ipHolders, (ip) => alloc.ipRange.offsetOf(ip) !== undefined, 'cluster IP', report, now);
  const portLeaks = await restore(alloc.ports, portHolders, (p) => alloc.portRange.offsetOf(Number(p)) !== undefined, 'node port', report, now);
  for (const [a, leaks] of [[alloc.ips, ipLeaks], [alloc.ports, portLeaks]] as const) {
    for (const [value, uid] of leaks) {
      await a.release(value, uid);
      report.released++;
    }
  }
  return report;
}

/** Restores missing records; answers the leaked ones (value → owner uid). */
async function restore(
  a: RangeAllocator,
  holders: Map<string, Owner>,
  inRange: (value: string) => boolean,
  what: string,
  report: RepairReport,
  now: number,
): Promise<Map<string, string>> {
  const records = new Map<string, { uid: string; created: number }>();
  for (const r of a.records()) records.set(r.name, { uid: r.owner.uid, created: r.created });
  for (const [value, owner] of holders) {
    const rec = records.get(value);
    if (rec) {
      if (rec.uid !== owner.uid && now - rec.created > LEAK_GRACE_MS) {
        report.problems.push(`${what} ${value} of ${owner.namespace}/${owner.name} is recorded for another Service`);
      }
      continue;
    }
    if (!inRange(value)) {
      report.problems.push(`${what} ${value} of ${owner.namespace}/${owner.name} is outside the configured range; recreate the Service`);
      continue;
    }
    if (await a.reserve(value, owner)) report.restored++;
  }
  const leaks = new Map<string, string>();
  for (const [value, rec] of records) {
    if (!holders.has(value) && now - rec.created > LEAK_GRACE_MS) leaks.set(value, rec.uid);
  }
  return leaks;
}

/** Runs the repair pass now and every `intervalMs`, logging what it did; `stop` ends it. */
export function startRepair(alloc: ServiceAllocations, cache: WatchCache, intervalMs = REPAIR_INTERVAL_MS): { stop(): void; done: Promise<void> } {
  let stopped = false;
  const pass = async () => {
    if (stopped) return;
    try {
      const r = await repairAllocations(alloc, cache);
      if (r.restored || r.released) console.log(`apiserver: service allocation repair: ${r.restored} restored, ${r.released} leaked released`);
      for (const p of r.problems) console.error(`apiserver: service allocation repair: ${p}`);
    } catch (e) {
      if (!stopped) console.error(`apiserver: service allocation repair: ${(e as Error).message}`);
    }
  };
  const done = pass();
  const timer = setInterval(pass, intervalMs);
  timer.unref();
  return {
    done,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
