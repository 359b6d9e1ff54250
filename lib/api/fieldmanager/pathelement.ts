/**
 * Path elements as FieldsV1 writes them: "f:<field>" for a struct field or map key,
 * 'k:{"name":"web"}' for an item of a map list (its key fields, sorted by name),
 * 'v:"x"' for an item of a set, "i:3" for an index. Also the order upstream sorts them
 * in (fields, then keys, then values, then indexes) and the path text its conflict
 * messages print (`.spec.containers[name="web"].image`).
 */

/** JSON as Go's encoding/json writes it: `<`, `>`, `&` and the two line separators escaped. */
function goJson(v: unknown): string {
  const s = JSON.stringify(v);
  return /[<>&\u2028\u2029]/.test(s) ? s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
}

export function fieldElement(name: string): string {
  return 'f:' + name;
}

/** The element of a map-list item; `keys` are sorted; missing keys take their defaults. */
export function keyElement(item: Record<string, unknown>, keys: readonly string[], defaults: Readonly<Record<string, unknown>>): string | undefined {
  let s = 'k:{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let v = item[k];
    if (v === undefined || v === null) v = defaults[k];
    if (v === undefined) return undefined;
    if (i > 0) s += ',';
    s += goJson(k) + ':' + goJson(v);
  }
  return s + '}';
}

export function valueElement(v: unknown): string {
  return 'v:' + goJson(v);
}

const TYPE_RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** Upstream's total order of values: numbers, strings, booleans, lists, maps, null. */
function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c) return c;
      }
      return x.length - y.length;
    }
    case 4:
      return compareFieldLists(Object.entries(a as object).sort(byName), Object.entries(b as object).sort(byName));
    default:
      return 0;
  }
}

function byName(x: [string, unknown], y: [string, unknown]): number {
  return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
}

function compareFieldLists(a: [string, unknown][], b: [string, unknown][]): number {
  for (let i = 0; ; i++) {
    if (i >= a.length && i >= b.length) return 0;
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    if (a[i][0] !== b[i][0]) return a[i][0] < b[i][0] ? -1 : 1;
    const c = compareValues(a[i][1], b[i][1]);
    if (c) return c;
  }
}

const parsed = new Map<string, unknown>();

function parsedBody(pe: string): unknown {
  let v = parsed.get(pe);
  if (v === undefined) {
    v = JSON.parse(pe.slice(2));
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(pe, v);
  }
  return v;
}

/** Upstream's PathElement order, on serialized elements. */
export function comparePathElements(a: string, b: string): number {
  if (a === b) return 0;
  const ta = TYPE_RANK[a[0]] ?? 4;
  const tb = TYPE_RANK[b[0]] ?? 4;
  if (ta !== tb) return ta - tb;
  switch (a[0]) {
    case 'f':
      return a < b ? -1 : 1;
    case 'i':
      return Number(a.slice(2)) - Number(b.slice(2));
    case 'k':
      return compareFieldLists(Object.entries(parsedBody(a) as object).sort(byName), Object.entries(parsedBody(b) as object).sort(byName));
    case 'v':
      return compareValues(parsedBody(a), parsedBody(b));
    default:
      return a < b ? -1 : 1;
  }
}

/** Whether a key of a FieldsV1 object is a path element this engine understands. */
export function isPathElement(key: string): boolean {
  return key.length >= 2 && key[1] === ':' && (key[0] === 'f' || key[0] === 'k' || key[0] === 'v' || key[0] === 'i');
}

/** How Go's value.ToString prints a key or set value in a path. */
function valueText(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(valueText).join(',') + ']';
  if (typeof v === 'object') return Object.entries(v as object).map(([k, x]) => `${k}=${valueText(x)}`).join('');
  return String(v);
}

/** One element as upstream's PathElement.String prints it. */
function pathElementText(pe: string): string {
  switch (pe[0]) {
    case 'f':
      return '.' + pe.slice(2);
    case 'k':
      return '[' + Object.entries(parsedBody(pe) as object).map(([k, v]) => `${k}=${valueText(v)}`).join(',') + ']';
    case 'v':
      return '[=' + valueText(parsedBody(pe)) + ']';
    case 'i':
      return '[' + pe.slice(2) + ']';
    default:
      return '{{invalid path element}}';
  }
}

export function pathText(path: readonly string[]): string {
  let s = '';
  for (const pe of path) s += pathElementText(pe);
  return s;
}
