/**
 * The nat tables iptables-nft makes for the CNI portmap plugin (in the pod network's
 * conflist). A hostPort pod makes portmap create `table ip nat` (and `ip6 nat`) with its
 * top-level chains (CNI-HOSTPORT-DNAT, -SETMARK, -MASQ and the jumps to them from the
 * built-in chains), which it never removes, and its teardown runs `iptables -t nat` on
 * every sandbox removal, which leaves empty tables. A node that found no such table when it
 * started removes the ones left when it stops, so `nft list ruleset` shows nothing of it,
 * but only when they hold nothing else: no chain or rule that is not portmap's, and no
 * live port mapping (a rule in CNI-HOSTPORT-DNAT: another runtime's hostPort pod). A table
 * that existed before is never touched.
 */
import { spawnSync } from 'node:child_process';

export const NAT_TABLES = ['ip nat', 'ip6 nat'] as const;

function nft(args: string[], netns?: string): { status: number | null; stdout: string } {
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, 'nft', ...args]] : ['nft', args];
  return spawnSync(cmd, argv, { encoding: 'utf8' });
}

/** The nat tables that exist now ('ip nat', 'ip6 nat'), in this network namespace or netns. */
export function existingNatTables(netns?: string): Set<string> {
  return new Set(NAT_TABLES.filter((t) => nft(['list', 'table', ...t.split(' ')], netns).status === 0));
}

const PORTMAP_CHAIN = /^CNI-HOSTPORT-(DNAT|SETMARK|MASQ)$/;

type NftObject = Record<string, { name?: string; chain?: string; hook?: string; policy?: string; expr?: Array<Record<string, { target?: string } | undefined>> } | undefined>;

/**
 * True when `nft -j list table` output holds only base chains with an accept policy and
 * the portmap plugin's idle top-level chains: rules only inside those (none in
 * CNI-HOSTPORT-DNAT, where live mappings hang) or jumping to them.
 */
export function natTableIsLeftover(listing: string): boolean {
  let objects: NftObject[];
  try {
    objects = (JSON.parse(listing) as { nftables?: NftObject[] }).nftables ?? [];
  } catch {
    return false;
  }
  return objects.every((o) => {
    if ('metainfo' in o || 'table' in o) return true;
    if (o.chain) return PORTMAP_CHAIN.test(o.chain.name ?? '') || (o.chain.hook !== undefined && (o.chain.policy ?? 'accept') === 'accept');
    if (o.rule) {
      const chain = o.rule.chain ?? '';
      if (PORTMAP_CHAIN.test(chain)) return chain !== 'CNI-HOSTPORT-DNAT';
      return (o.rule.expr ?? []).some((e) => PORTMAP_CHAIN.test(e.jump?.target ?? ''));
    }
    return false;
  });
}

/** Deletes the nat tables that are not in `before` and hold nothing but portmap's idle chains; returns the ones it deleted. */
export function removeLeftoverNatTables(before: Set<string>, netns?: string): string[] {
  const removed: string[] = [];
  for (const t of NAT_TABLES) {
    if (before.has(t)) continue;
    const listing = nft(['-j', 'list', 'table', ...t.split(' ')], netns);
    if (listing.status !== 0 || !natTableIsLeftover(listing.stdout)) continue;
    if (nft(['delete', 'table', ...t.split(' ')], netns).status === 0) removed.push(t);
  }
  return removed;
}
