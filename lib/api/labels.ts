/**
 * Label selectors as k8s.io/apimachinery/pkg/labels: the string syntax (`a=b,c!=d,e in
 * (f,g),!h,i>3`), metav1.LabelSelector (matchLabels + matchExpressions), matching and
 * the canonical string. A selector is compiled once into closures so the watch cache can
 * match it against many objects cheaply.
 */
import { BadRequestError } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './names.js';

/** Upstream selection.Operator values. */
export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** sorted and de-duplicated for parsed selectors; as given for LabelSelectors */
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>>;

export interface Selector {
  /** sorted by key, as upstream */
  readonly requirements: readonly Requirement[];
  /** true for the selector that matches nothing (a null metav1.LabelSelector) */
  readonly matchesNothing: boolean;
  matches(labels: Labels | undefined | null): boolean;
  /** no requirements: matches everything */
  empty(): boolean;
  /** the value a key must have when the selector pins it to exactly one (for indexed lookups) */
  requiresExactMatch(key: string): string | undefined;
  toString(): string;
}

/** metav1.LabelSelector */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: readonly LabelSelectorRequirement[] | null;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: readonly string[] | null;
}

type Matcher = (labels: Labels) => boolean;

/** Go strconv.ParseInt(s, 10, 64) */
export function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  return v;
}

/** A label's value, or undefined; inherited properties such as "constructor" are not labels. */
function lookup(labels: Labels, key: string): string | undefined {
  const v = labels[key];
  return typeof v === 'string' ? v : undefined;
}

function compile(r: Requirement): Matcher {
  const { key, values } = r;
  switch (r.operator) {
    case '=':
    case '==':
    case 'in': {
      if (values.length === 1) {
        const want = values[0];
        return (l) => lookup(l, key) === want;
      }
      const set = new Set(values);
      return (l) => {
        const v = lookup(l, key);
        return v !== undefined && set.has(v);
      };
    }
    case '!=':
    case 'notin': {
      if (values.length === 1) {
        const want = values[0];
        return (l) => lookup(l, key) !== want;
      }
      const set = new Set(values);
      return (l) => {
        const v = lookup(l, key);
        return v === undefined || !set.has(v);
      };
    }
    case 'exists':
      return (l) => lookup(l, key) !== undefined;
    case '!':
      return (l) => lookup(l, key) === undefined;
    case 'gt':
    case 'lt': {
      const bound = values.length === 1 ? parseInt64(values[0]) : undefined;
      if (bound === undefined) return () => false;
      const gt = r.operator === 'gt';
      return (l) => {
        const v = lookup(l, key);
        if (v === undefined) return false;
        const n = parseInt64(v);
        if (n === undefined) return false;
        return gt ? n > bound : n < bound;
      };
    }
  }
}

function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? '!' + r.key : r.key;
  switch (r.operator) {
    case 'exists':
    case '!':
      return s;
    case '=':
    case '==':
    case '!=':
      s += r.operator;
      break;
    case 'in':
      s += ' in ';
      break;
    case 'notin':
      s += ' notin ';
      break;
    case 'gt':
      s += '>';
      break;
    case 'lt':
      s += '<';
      break;
  }
  const vals = r.values.length === 1 ? r.values[0] : [...r.values].sort(compareStrings).join(',');
  return r.operator === 'in' || r.operator === 'notin' ? `${s}(${vals})` : s + vals;
}

/** Go sorts strings by bytes; for the ASCII of valid labels this is code-unit order. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class CompiledSelector implements Selector {
  readonly requirements: readonly Requirement[];
  readonly matchesNothing = false;
  private readonly matchers: Matcher[];
  private str: string | undefined;

  constructor(requirements: Requirement[]) {
    // a stable sort by key (upstream sorts by key; stability keeps the order readable)
    this.requirements = requirements.slice().sort((a, b) => compareStrings(a.key, b.key));
    this.matchers = this.requirements.map(compile);
  }

  matches(labels: Labels | undefined | null): boolean {
    const l = labels ?? EMPTY_LABELS;
    const m = this.matchers;
    for (let i = 0; i < m.length; i++) if (!m[i](l)) return false;
    return true;
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
      return undefined;
    }
    return undefined;
  }

  toString(): string {
    if (this.str === undefined) this.str = this.requirements.map(requirementString).join(',');
    return this.str;
  }
}

const EMPTY_LABELS: Labels = Object.freeze({});

const NOTHING: Selector = Object.freeze({
  requirements: [],
  matchesNothing: true,
  matches: () => false,
  empty: () => false,
  requiresExactMatch: () => undefined,
  toString: () => '',
});

const EVERYTHING: Selector = new CompiledSelector([]);

/** The selector that matches every object (an empty selector string). */
export function everything(): Selector {
  return EVERYTHING;
}

/** The selector that matches no object (a null metav1.LabelSelector). */
export function nothing(): Selector {
  return NOTHING;
}

export function selectorToString(sel: Selector): string {
  return sel.toString();
}

// ---- errors shaped like upstream field.Error / utilerrors.Aggregate ----

/** Go's %q for the strings that appear in selector and validation messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0b) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate has no UTF-8 form
    else out += ch;
  }
  return out + '"';
}

/** Go's %#v of a []string, as field.Invalid prints a slice value. */
function goStringSlice(vals: readonly string[]): string {
  return `[]string{${vals.map(goQuote).join(', ')}}`;
}

function invalid(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${value}: ${detail}`;
}

function aggregate(msgs: string[]): string {
  if (msgs.length === 1) return msgs[0];
  const seen = [...new Set(msgs)];
  return seen.length === 1 ? seen[0] : `[${seen.join(', ')}]`;
}

/**
 * Upstream labels.NewRequirement: checks the key, the operator's value count, Gt/Lt
 * integers and each value's syntax. `path` is the field path prefix ("" for none, which
 * upstream prints as the bare child name).
 */
function newRequirement(key: string, operator: Operator, values: string[], path: string): Requirement {
  const errs: string[] = [];
  const child = (name: string): string => (path ? `${path}.${name}` : name);
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalid(child('key'), goQuote(key), keyErrs.join('; ')));
  const valuePath = child('values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid(valuePath, goStringSlice(values), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid(valuePath, goStringSlice(values), 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid(valuePath, goStringSlice(values), 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid(valuePath, goStringSlice(values), "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalid(`${valuePath}[${i}]`, goQuote(v), "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = isValidLabelValue(v);
    if (vErrs.length) errs.push(invalid(`${valuePath}[${i}][${key}]`, goQuote(v), vErrs.join('; ')));
  });
  if (errs.length) throw new BadRequestError(aggregate(errs));
  return { key, operator, values };
}

// ---- the string syntax: a port of upstream's lexer and parser, for identical errors ----

const enum Tok {
  Error,
  End,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const string2token: Record<string, Tok> = {
  ')': Tok.ClosedPar,
  ',': Tok.Comma,
  '!': Tok.DoesNotExist,
  '==': Tok.DoubleEquals,
  '=': Tok.Equals,
  '>': Tok.GreaterThan,
  in: Tok.In,
  '<': Tok.LessThan,
  '!=': Tok.NotEquals,
  notin: Tok.NotIn,
  '(': Tok.OpenPar,
};

function tokenOf(s: string): Tok | undefined {
  return Object.hasOwn(string2token, s) ? string2token[s] : undefined;
}

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean =>
  ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';

interface Item {
  tok: Tok;
  lit: string;
}

/** Splits a selector into tokens; a NUL ends the input as it does upstream. */
function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  const read = (): string => (pos < s.length ? s[pos++] : '\0');
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    if (ch === '\0') {
      items.push({ tok: Tok.End, lit: '' });
      return items;
    }
    if (isSpecial(ch)) {
      pos--;
      let buf = '';
      let last: Item | undefined;
      for (;;) {
        const c = read();
        if (c === '\0') break;
        if (isSpecial(c)) {
          buf += c;
          const t = tokenOf(buf);
          if (t !== undefined) {
            last = { tok: t, lit: buf };
          } else if (last) {
            pos--;
            break;
          }
        } else {
          pos--;
          break;
        }
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    pos--;
    let buf = '';
    for (;;) {
      const c = read();
      if (c === '\0') break;
      if (isSpecial(c) || isWhitespace(c)) {
        pos--;
        break;
      }
      buf += c;
    }
    items.push({ tok: tokenOf(buf) ?? Tok.Identifier, lit: buf });
  }
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class Parser {
  private readonly items: Item[];
  private position = 0;

  constructor(s: string) {
    this.items = lex(s);
  }

  /** In value position the keywords `in` and `notin` are plain identifiers. */
  private lookahead(values: boolean): Item {
    const it = this.items[this.position];
    return values && (it.tok === Tok.In || it.tok === Tok.NotIn) ? { tok: Tok.Identifier, lit: it.lit } : it;
  }

  private consume(values: boolean): Item {
    const it = this.lookahead(values);
    this.position++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      switch (tok) {
        case Tok.Identifier:
        case Tok.DoesNotExist: {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            throw new BadRequestError(`unable to parse requirement: ${(e as Error).message}`);
          }
          reqs.push(r);
          const t = this.consume(true);
          if (t.tok === Tok.End) return reqs;
          if (t.tok === Tok.Comma) {
            const t2 = this.lookahead(true);
            if (t2.tok !== Tok.Identifier && t2.tok !== Tok.DoesNotExist) {
              throw new BadRequestError(`found '${t2.lit}', expected: identifier after ','`);
            }
            continue;
          }
          throw new BadRequestError(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
        case Tok.End:
          return reqs;
        default:
          throw new BadRequestError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === 'exists' || operator === '!') return newRequirement(key, operator, [], '');
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, [...values].sort(compareStrings), '');
  }

  private parseKeyAndInferOperator(): { key: string; operator: Operator | undefined } {
    let operator: Operator | undefined;
    let it = this.consume(true);
    if (it.tok === Tok.DoesNotExist) {
      operator = '!';
      it = this.consume(true);
    }
    if (it.tok !== Tok.Identifier) throw new Error(`found '${it.lit}', expected: identifier`);
    const keyErrs = isQualifiedName(it.lit);
    if (keyErrs.length) throw new Error(invalid('<nil>', goQuote(it.lit), keyErrs.join('; ')));
    const next = this.lookahead(true).tok;
    if ((next === Tok.End || next === Tok.Comma) && operator !== '!') operator = 'exists';
    return { key: it.lit, operator };
  }

  private parseOperator(): Operator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case Tok.In:
        return 'in';
      case Tok.Equals:
        return '=';
      case Tok.DoubleEquals:
        return '==';
      case Tok.GreaterThan:
        return 'gt';
      case Tok.LessThan:
        return 'lt';
      case Tok.NotIn:
        return 'notin';
      case Tok.NotEquals:
        return '!=';
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS}`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.tok !== Tok.OpenPar) throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead(true);
    switch (tok) {
      case Tok.Identifier:
      case Tok.Comma: {
        const s = this.parseIdentifiersList();
        if (this.consume(true).tok !== Tok.ClosedPar) throw new Error(`found '${lit}', expected: ')'`);
        return s;
      }
      case Tok.ClosedPar:
        this.consume(true);
        return new Set(['']);
      default:
        throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume(true);
      switch (tok) {
        case Tok.Identifier: {
          s.add(lit);
          const t2 = this.lookahead(true);
          if (t2.tok === Tok.Comma) continue;
          if (t2.tok === Tok.ClosedPar) return s;
          throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
        }
        case Tok.Comma: {
          // "(,a)", "(a,)" and "(a,,b)" each carry an empty value
          if (s.size === 0) s.add('');
          const t2 = this.lookahead(true).tok;
          if (t2 === Tok.ClosedPar) {
            s.add('');
            return s;
          }
          if (t2 === Tok.Comma) s.add('');
          continue;
        }
        default:
          throw new Error(`found '${lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const t = this.lookahead(true).tok;
    if (t === Tok.End || t === Tok.Comma) return new Set(['']);
    const { tok, lit } = this.consume(true);
    if (tok === Tok.Identifier) return new Set([lit]);
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

/**
 * Parses a label selector string (the `labelSelector` query parameter, `kubectl -l`).
 * Throws BadRequestError with upstream's message on malformed input.
 */
export function parseSelector(s: string): Selector {
  if (s === '') return EVERYTHING;
  return new CompiledSelector(new Parser(s).parse());
}

/** Same keys with the same values, in any order (upstream labels.Equals); absent counts as empty. */
export function labelsEqual(a: Labels | undefined | null, b: Labels | undefined | null): boolean {
  const ak = a ? Object.keys(a) : [];
  const bk = b ? Object.keys(b) : [];
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (b![k] !== a![k]) return false;
  return true;
}

/** upstream labels.FormatLabels: "k=v,k2=v2" sorted by key, or "<none>". */
export function formatLabels(labels: Readonly<Labels> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** A selector requiring each key to equal its value (upstream SelectorFromSet; not validated). */
export function selectorFromSet(set: Labels | undefined | null): Selector {
  if (!set) return EVERYTHING;
  const keys = Object.keys(set);
  if (keys.length === 0) return EVERYTHING;
  return new CompiledSelector(keys.map((k) => ({ key: k, operator: '=' as Operator, values: [set[k]] })));
}

const labelSelectorOperators: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector: null matches nothing, empty matches everything.
 * Throws BadRequestError with upstream's message on an invalid key, value or operator.
 */
export function selectorFromLabelSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls == null) return NOTHING;
  const matchLabels = ls.matchLabels ?? {};
  const exprs = ls.matchExpressions ?? [];
  const keys = Object.keys(matchLabels);
  if (keys.length + exprs.length === 0) return EVERYTHING;
  const reqs: Requirement[] = [];
  for (const k of keys) reqs.push(newRequirement(k, '=', [String(matchLabels[k])], ''));
  for (const e of exprs) {
    const op = Object.hasOwn(labelSelectorOperators, e.operator) ? labelSelectorOperators[e.operator] : undefined;
    if (!op) throw new BadRequestError(`${goQuote(String(e.operator))} is not a valid label selector operator`);
    reqs.push(newRequirement(e.key, op, [...(e.values ?? [])], ''));
  }
  return new CompiledSelector(reqs);
}

/**
 * The string form of a metav1.LabelSelector, as `kubectl` and `/scale` status show it
 * (upstream FormatLabelSelector prints "<none>" for an empty one; this returns "").
 */
export function labelSelectorToString(ls: LabelSelector | null | undefined): string {
  return selectorFromLabelSelector(ls).toString();
}
