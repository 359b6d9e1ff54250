/**
 * The part of LogQL a log query needs (Loki's grammar, as `logcli query` sends it): a
 * stream selector `{name="v", name!="v", name=~"re", name!~"re"}` and line filters after
 * it, `|= "text"`, `!= "text"`, `|~ "re"`, `!~ "re"`, applied left to right. Strings are
 * Go strings: "double quoted" with backslash escapes, or `raw`. Regular expressions are
 * anchored on both sides for label matchers (as Prometheus and Loki do) and not for line
 * filters. Anything else (pipelines with parsers, metric queries) is a parse error.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';
export type FilterOp = '|=' | '!=' | '|~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
  /** the compiled expression of =~ and !~ */
  re?: RegExp;
}

export interface LineFilter {
  op: FilterOp;
  value: string;
  re?: RegExp;
}

export interface LogQuery {
  matchers: LabelMatcher[];
  filters: LineFilter[];
}

/** A query that does not parse; Loki answers these with 400 and this text. */
export class LogQLParseError extends Error {
  constructor(message: string, col: number) {
    super(`parse error at line 1, col ${col}: ${message}`);
    this.name = 'LogQLParseError';
  }
}

const NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const SPACE = /\s*/y;

export function parseLogQL(q: string): LogQuery {
  let i = 0;
  const fail = (msg: string): never => {
    throw new LogQLParseError(msg, i + 1);
  };
  const skip = () => {
    SPACE.lastIndex = i;
    SPACE.exec(q);
    i = SPACE.lastIndex;
  };
  const string = (): string => {
    skip();
    const quote = q[i];
    if (quote === '`') {
      const end = q.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw string');
      const v = q.slice(i + 1, end);
      i = end + 1;
      return v;
    }
    if (quote !== '"') fail(`syntax error: unexpected ${q[i] === undefined ? 'end of input' : JSON.stringify(q[i])}, expecting STRING`);
    let v = '';
    for (i++; ; i++) {
      const c = q[i];
      if (c === undefined) fail('unterminated string');
      if (c === '"') break;
      if (c !== '\\') {
        v += c;
        continue;
      }
      const e = q[++i];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
      if (e !== undefined && e in simple) v += simple[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = q.slice(i + 1, i + 1 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('invalid escape in string');
        v += String.fromCodePoint(parseInt(hex, 16));
        i += len;
      } else fail(`invalid escape \\${e ?? ''} in string`);
    }
    i++;
    return v;
  };
  const regexp = (src: string, anchored: boolean): RegExp => {
    // RE2's leading flags, (?i) above all, become JavaScript's
    const lead = /^\(\?([ims]+)\)/.exec(src);
    const flags = new Set(['s', 'u', ...(lead ? lead[1]! : '')]);
    if (lead) src = src.slice(lead[0].length);
    try {
      return new RegExp(anchored ? `^(?:${src})$` : src, [...flags].join(''));
    } catch (e) {
      return fail(`invalid regular expression ${JSON.stringify(src)}: ${(e as Error).message}`);
    }
  };

  skip();
  if (q[i] !== '{') fail('syntax error: a log query starts with a stream selector {...}');
  i++;
  const matchers: LabelMatcher[] = [];
  for (;;) {
    skip();
    if (q[i] === '}' && matchers.length) break;
    NAME.lastIndex = i;
    const m = NAME.exec(q);
    if (!m) fail(q[i] === '}' ? 'syntax error: unexpected }, expecting IDENTIFIER' : `syntax error: unexpected ${JSON.stringify(q[i] ?? 'end of input')}, expecting IDENTIFIER`);
    const name = m![0];
    i = NAME.lastIndex;
    skip();
    const op = (['=~', '!~', '!=', '='] as MatchOp[]).find((o) => q.startsWith(o, i));
    if (!op) fail('syntax error: expecting =, !=, =~ or !~');
    i += op!.length;
    const value = string();
    matchers.push({ name, op: op!, value, re: op === '=~' || op === '!~' ? regexp(value, true) : undefined });
    skip();
    if (q[i] === ',') {
      i++;
      continue;
    }
    if (q[i] !== '}') fail('syntax error: expecting , or }');
    break;
  }
  i++;
  if (!matchers.some((m) => !matches(m, ''))) {
    fail('queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will');
  }
  const filters: LineFilter[] = [];
  for (;;) {
    skip();
    if (i >= q.length) break;
    const op = (['|=', '!=', '|~', '!~'] as FilterOp[]).find((o) => q.startsWith(o, i));
    if (!op) fail(`syntax error: unexpected ${JSON.stringify(q.slice(i, i + 10))}: only line filters (|= != |~ !~) may follow the selector`);
    i += op!.length;
    const value = string();
    filters.push({ op: op!, value, re: op === '|~' || op === '!~' ? regexp(value, false) : undefined });
  }
  return { matchers, filters };
}

export function matches(m: LabelMatcher, v: string | undefined): boolean {
  const value = v ?? '';
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return m.re!.test(value);
    case '!~':
      return !m.re!.test(value);
  }
}

/** True when every matcher holds (absent labels are the empty string, as in Loki). */
export function selectorMatches(matchers: LabelMatcher[], labels: Record<string, string>): boolean {
  for (const m of matchers) if (!matches(m, labels[m.name])) return false;
  return true;
}

/** True when the line passes every filter. */
export function lineMatches(filters: LineFilter[], line: string): boolean {
  for (const f of filters) {
    switch (f.op) {
      case '|=':
        if (!line.includes(f.value)) return false;
        break;
      case '!=':
        if (line.includes(f.value)) return false;
        break;
      case '|~':
        if (!f.re!.test(line)) return false;
        break;
      case '!~':
        if (f.re!.test(line)) return false;
        break;
    }
  }
  return true;
}

/** What the selector fixes with `=`: the subject filter narrows to it. */
export function fixedLabel(matchers: LabelMatcher[], name: string): string | undefined {
  return matchers.find((m) => m.name === name && m.op === '=')?.value;
}

/** Loki's label names: what is not [a-zA-Z0-9_] becomes "_" (app.kubernetes.io/name → app_kubernetes_io_name). */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
