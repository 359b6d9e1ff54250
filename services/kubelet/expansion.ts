/**
 * `$(VAR)` references in env values, command and args, with upstream's rules
 * (third_party/forked/golang/expansion): `$(NAME)` becomes the variable's value; `$$`
 * is an escaped `$`; a reference to an unknown variable, an unclosed `$(` and a `$`
 * before anything else stay as written.
 */

/** Expands `$(NAME)` in input; mapping returns undefined for unknown names. */
export function expand(input: string, mapping: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') out += '$';
    else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) out += '$(';
      else {
        const name = input.slice(cursor + 2, close);
        out += mapping(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else out += `$${next}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A mapping over several contexts, the first that has the name wins (upstream MappingFuncFor). */
export function mappingFor(...contexts: ReadonlyMap<string, string>[]): (name: string) => string | undefined {
  return (name) => {
    for (const c of contexts) if (c.has(name)) return c.get(name);
    return undefined;
  };
}
