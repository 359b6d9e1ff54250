/**
 * Field selectors as k8s.io/apimachinery/pkg/fields: `a=b,c==d,e!=f`, ANDed, with `\`
 * escaping `\`, `,` and `=` in values. Which fields a kind supports is the caller's
 * business: `fields` lists what a selector uses so the apiserver can answer
 * 400 `field label not supported: X` for the others.
 */
import { BadRequestError } from './errors.js';

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  readonly value: string;
}

/** Reads one field of an object; undefined counts as "" as upstream's fields.Set does. */
export type FieldGetter = (field: string) => string | undefined;

export interface FieldSelector {
  /** in upstream's order (terms sorted as strings) */
  readonly requirements: readonly FieldRequirement[];
  /** the distinct field names the selector tests */
  readonly fields: readonly string[];
  matches(get: FieldGetter): boolean;
  empty(): boolean;
  /** the value a field must equal, when the selector pins it (for indexed lookups) */
  requiresExactMatch(field: string): string | undefined;
  toString(): string;
}

/** Escapes a value for a selector string (upstream EscapeValue). */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => '\\' + c);
}

/** Undoes escapeFieldValue; throws BadRequestError on a bad escape or a bare ',' or '='. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new BadRequestError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // upstream prints the rune with %v, i.e. as its code point number
    else if (c === ',' || c === '=') throw new BadRequestError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new BadRequestError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not escaped. */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The first operator in the term, trying "!=" then "==" then "=" at each position. */
function splitTerm(term: string): { lhs: string; op: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class CompiledFieldSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly fields: readonly string[];
  private str: string | undefined;

  constructor(reqs: FieldRequirement[]) {
    this.requirements = reqs;
    this.fields = [...new Set(reqs.map((r) => r.field))];
  }

  matches(get: FieldGetter): boolean {
    for (const r of this.requirements) {
      const v = get(r.field) ?? '';
      if (r.operator === '!=' ? v === r.value : v !== r.value) return false;
    }
    return true;
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  requiresExactMatch(field: string): string | undefined {
    for (const r of this.requirements) if (r.field === field && r.operator !== '!=') return r.value;
    return undefined;
  }

  toString(): string {
    if (this.str === undefined) {
      this.str = this.requirements
        .map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`)
        .join(',');
    }
    return this.str;
  }
}

const EVERYTHING = new CompiledFieldSelector([]);

export function everythingFields(): FieldSelector {
  return EVERYTHING;
}

/**
 * Parses a field selector string (the `fieldSelector` query parameter). Throws
 * BadRequestError with upstream's message on malformed input. Field names are taken
 * verbatim (no trimming), as upstream.
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort(compareStrings);
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw new BadRequestError(`invalid selector: '${selector}'; can't understand '${part}'`);
    reqs.push({ field: t.lhs, operator: t.op, value: unescapeFieldValue(t.rhs) });
  }
  return reqs.length === 0 ? EVERYTHING : new CompiledFieldSelector(reqs);
}

/** A selector requiring each field to equal its value (upstream fields.SelectorFromSet). */
export function fieldSelectorFromSet(set: Readonly<Record<string, string>>): FieldSelector {
  const keys = Object.keys(set);
  return keys.length === 0 ? EVERYTHING : new CompiledFieldSelector(keys.map((k) => ({ field: k, operator: '=', value: set[k] })));
}

/**
 * The apiserver's check: every field the selector uses must be one the kind supports.
 * Throws BadRequestError `field label not supported: X` for the first that is not.
 */
export function checkSupportedFields(sel: FieldSelector, supported: (field: string) => boolean): void {
  for (const f of sel.fields) if (!supported(f)) throw new BadRequestError(`field label not supported: ${f}`);
}
