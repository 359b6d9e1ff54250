/**
 * Upstream's --controllers semantics, shared by both controller managers: a list of names,
 * `*` for every controller, `-name` to disable one (a disable wins over `*`). Unknown names
 * are an error.
 */
export function enabledControllers(spec: string[] | undefined, all: string[]): string[] {
  const items = spec?.length ? spec : ['*'];
  const known = new Set(all);
  for (const item of items) {
    const name = item.startsWith('-') ? item.slice(1) : item;
    if (name !== '*' && !known.has(name)) throw new Error(`--controllers: unknown controller "${name}" (known: ${all.join(', ')})`);
  }
  const star = items.includes('*');
  return all.filter((name) => !items.includes(`-${name}`) && (star || items.includes(name)));
}
