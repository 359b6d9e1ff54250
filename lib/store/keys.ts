/**
 * The store's key layout: `<resource>.<namespace>.<name>`.
 *
 * - resource: the plural for core kinds ("pods"), `<group>/<plural>` otherwise
 *   ("apps/deployments", "coordination_k8s_io/leases": the group's dots become "_",
 *   which no DNS group name contains); "/" is legal in both KV keys and NATS subjects,
 *   so the key doubles as a readable subject for message-bus users.
 * - namespace: the namespace, or "_" for cluster-scoped objects ("_" is never a valid
 *   namespace name).
 * - name: every character outside [-_A-Za-z0-9] is written as "=XX" per UTF-8 byte
 *   ("." -> "=2E"), so the mapping is reversible and no name can add a token.
 */

export const CLUSTER_SCOPE = '_';

const ALL_SAFE = /^[-_A-Za-z0-9]*$/;
const SAFE = /^[-_A-Za-z0-9]$/;
/** "=XX" for each byte value */
const ESCAPED = Array.from({ length: 256 }, (_, b) => '=' + b.toString(16).toUpperCase().padStart(2, '0'));

/** Every write's key is escaped (twice: the store's and its change event's), most with nothing to escape. */
export function escapeToken(s: string): string {
  if (ALL_SAFE.test(s)) return s;
  let out = '';
  for (const ch of s) {
    if (SAFE.test(ch)) out += ch;
    else if (ch.length === 1 && ch.charCodeAt(0) < 0x80) out += ESCAPED[ch.charCodeAt(0)];
    else for (const b of Buffer.from(ch, 'utf8')) out += ESCAPED[b];
  }
  return out;
}

export function unescapeToken(s: string): string {
  if (!s.includes('=')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(s.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The resource token of a kind's storage: "pods", "apps/deployments". */
export function resourceToken(group: string, plural: string): string {
  return group ? `${group.replaceAll('.', '_')}/${plural}` : plural;
}

export function objectKey(resource: string, namespace: string | undefined, name: string): string {
  return `${resource}.${namespace ? namespace : CLUSTER_SCOPE}.${escapeToken(name)}`;
}

export interface ParsedKey {
  resource: string;
  /** "" for cluster-scoped */
  namespace: string;
  name: string;
}

export function parseKey(key: string): ParsedKey | undefined {
  const parts = key.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return undefined;
  return { resource: parts[0], namespace: parts[1] === CLUSTER_SCOPE ? '' : parts[1], name: unescapeToken(parts[2]) };
}
