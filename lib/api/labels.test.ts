import assert from 'node:assert/strict';
import { BadRequestError } from './errors.js';
import {
  labelsEqual,
  everything,
  labelSelectorToString,
  nothing,
  parseSelector,
  selectorFromLabelSelector,
  selectorFromSet,
  selectorToString,
  type Labels,
} from './labels.js';

function rejects(selector: string, message: string): void {
  assert.throws(
    () => parseSelector(selector),
    (e: unknown) => {
      assert.ok(e instanceof BadRequestError, `${selector}: not a BadRequestError: ${e}`);
      assert.equal(e.message, message, selector);
      assert.equal(e.code, 400);
      return true;
    },
  );
}

const matches = (sel: string, labels: Labels | undefined): boolean => parseSelector(sel).matches(labels);

describe('parseSelector', () => {
  it('accepts upstream good strings and prints them back without spaces', () => {
    for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5']) {
      assert.equal(parseSelector(s).toString(), s.replace(/ /g, ''), s);
    }
  });

  it('sorts requirements by key so equal selectors print the same', () => {
    assert.equal(parseSelector('x=a,a=x').toString(), parseSelector('a=x,x=a').toString());
    assert.equal(parseSelector('z in (c,a,b),a').toString(), 'a,z in (a,b,c)');
  });

  it('keeps the operator as written: = and == are different strings', () => {
    assert.equal(parseSelector('a==b').toString(), 'a==b');
    assert.deepEqual(parseSelector('a==b').requirements[0], { key: 'a', operator: '==', values: ['b'] });
    assert.equal(parseSelector('a notin (x)').requirements[0].operator, 'notin');
  });

  it('handles spaces, tabs and newlines between tokens', () => {
    const sel = parseSelector('  env  in  ( prod , staging ) ,\ttier\n!= frontend , ! legacy ');
    assert.equal(sel.toString(), 'env in (prod,staging),!legacy,tier!=frontend');
  });

  it('treats in and notin as plain values inside value lists and after =', () => {
    assert.equal(parseSelector('a in (in,notin)').toString(), 'a in (in,notin)');
    assert.equal(parseSelector('a=in').toString(), 'a=in');
  });

  it('accepts empty values in lists as upstream ("(,a)", "()", "(a,,b)")', () => {
    assert.deepEqual(parseSelector('a in ()').requirements[0].values, ['']);
    assert.deepEqual(parseSelector('a in (,x)').requirements[0].values, ['', 'x']);
    assert.deepEqual(parseSelector('a in (x,,y)').requirements[0].values, ['', 'x', 'y']);
    assert.deepEqual(parseSelector('a in (x,x)').requirements[0].values, ['x']);
  });

  it('rejects malformed selectors with upstream messages', () => {
    // '|' is an identifier character, so the value "a||y" fails label-value syntax first
    assert.throws(
      () => parseSelector('x=a||y=b'),
      (e: unknown) => e instanceof BadRequestError && e.message.startsWith('unable to parse requirement: values[0][x]: Invalid value: "a||y": a valid label'),
    );
    rejects('x==a==b', "found '==', expected: ',' or 'end of string'");
    rejects('!x=a', "found '=', expected: ',' or 'end of string'");
    rejects('x=a b', "found 'b', expected: ',' or 'end of string'");
    rejects('a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    rejects('x=a,', "found '', expected: identifier after ','");
    rejects(',x', "found ',', expected: !, identifier, or 'end of string'");
    rejects('x in a', "unable to parse requirement: found 'a' expected: '('");
    rejects('x in (a', "unable to parse requirement: found '', expected: ',' or ')'");
    rejects('x (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt");
    rejects('x=(', "unable to parse requirement: found '(', expected: identifier");
    rejects('!', "unable to parse requirement: found '', expected: identifier");
  });

  it('rejects invalid keys and values with field-path messages', () => {
    rejects(
      'a/b/c=d',
      "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    rejects(
      'x=a$b',
      "unable to parse requirement: values[0][x]: Invalid value: \"a$b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
    rejects('x<a', 'unable to parse requirement: values[0]: Invalid value: "a": for \'Gt\', \'Lt\' operators, the value must be an integer');
    // two bad values aggregate into one bracketed message
    assert.throws(
      () => parseSelector('x in (-a,-b)'),
      (e: unknown) => e instanceof BadRequestError && /^unable to parse requirement: \[values\[0\]\[x\]: .*, values\[1\]\[x\]: .*\]$/.test(e.message),
    );
    assert.throws(() => parseSelector('é=1'), BadRequestError);
    assert.throws(() => parseSelector('x=' + 'a'.repeat(64)), /must be no more than 63 characters/);
  });
});

describe('Selector matching', () => {
  const labels = { app: 'web', tier: 'frontend', version: '10' };

  it('matches every operator as upstream', () => {
    assert.equal(matches('', labels), true);
    assert.equal(matches('app=web', labels), true);
    assert.equal(matches('app==web', labels), true);
    assert.equal(matches('app=db', labels), false);
    assert.equal(matches('app!=db', labels), true);
    assert.equal(matches('missing!=x', labels), true, '!= matches when the key is absent');
    assert.equal(matches('app in (db,web)', labels), true);
    assert.equal(matches('app in (db)', labels), false);
    assert.equal(matches('missing in (x)', labels), false);
    assert.equal(matches('app notin (db)', labels), true);
    assert.equal(matches('app notin (web)', labels), false);
    assert.equal(matches('missing notin (x)', labels), true);
    assert.equal(matches('app', labels), true);
    assert.equal(matches('missing', labels), false);
    assert.equal(matches('!missing', labels), true);
    assert.equal(matches('!app', labels), false);
    assert.equal(matches('version>9', labels), true);
    assert.equal(matches('version>10', labels), false);
    assert.equal(matches('version<11', labels), true);
    assert.equal(matches('app>1', labels), false, 'non-integer label values never satisfy gt');
    assert.equal(matches('missing<5', labels), false);
    assert.equal(matches('app=web,tier=frontend', labels), true);
    assert.equal(matches('app=web,tier=backend', labels), false);
  });

  it('compares gt/lt as 64-bit integers, not strings or floats', () => {
    assert.equal(matches('n>9007199254740992', { n: '9007199254740993' }), true);
    assert.equal(matches('n<1', { n: '0' }), true);
    assert.equal(matches('n>5', { n: '06' }), true);
    assert.equal(matches('n<5', { n: '-2' }), true, 'label values are parsed with their sign');
    assert.equal(matches('n>5', { n: '99999999999999999999' }), false, 'out of int64 range');
  });

  it('treats absent labels as an empty set and ignores inherited properties', () => {
    assert.equal(matches('a', undefined), false);
    assert.equal(matches('!a', undefined), true);
    assert.equal(matches('constructor', {}), false);
    assert.equal(matches('!toString', {}), true);
    assert.equal(matches('constructor=x', { constructor: 'x' } as Labels), true);
  });

  it('matches large label sets with large value lists', () => {
    const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
    const sel = parseSelector(`k in (${values.join(',')}),other notin (${values.join(',')})`);
    assert.equal(sel.matches({ k: 'v49', other: 'zzz' }), true);
    assert.equal(sel.matches({ k: 'v50' }), false);
    assert.equal(sel.matches({ k: 'v1', other: 'v2' }), false);
  });

  it('reports exact-match requirements for indexed lookups', () => {
    assert.equal(parseSelector('a=b,c in (d)').requiresExactMatch('a'), 'b');
    assert.equal(parseSelector('a=b,c in (d)').requiresExactMatch('c'), 'd');
    assert.equal(parseSelector('c in (d,e)').requiresExactMatch('c'), undefined);
    assert.equal(parseSelector('a!=b').requiresExactMatch('a'), undefined);
  });
});

describe('selectorFromLabelSelector', () => {
  it('null matches nothing, empty matches everything', () => {
    assert.equal(selectorFromLabelSelector(null).matches({ a: 'b' }), false);
    assert.equal(selectorFromLabelSelector(null), nothing());
    assert.equal(selectorFromLabelSelector({}).matches({ a: 'b' }), true);
    assert.equal(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] }), everything());
  });

  it('combines matchLabels and matchExpressions', () => {
    const sel = selectorFromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend', 'edge'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'env', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['b'] },
      ],
    });
    assert.equal(sel.toString(), 'app=web,!canary,env,tier in (edge,frontend),zone notin (b)');
    assert.equal(sel.matches({ app: 'web', tier: 'edge', env: 'prod' }), true);
    assert.equal(sel.matches({ app: 'web', tier: 'edge', env: 'prod', canary: 'y' }), false);
    assert.equal(sel.matches({ app: 'web', tier: 'edge', env: 'prod', zone: 'b' }), false);
    assert.equal(sel.matches({ app: 'web', tier: 'back', env: 'prod' }), false);
    assert.equal(selectorToString(sel), sel.toString());
  });

  it('prints the same string a parsed selector does', () => {
    const ls = { matchLabels: { b: '2', a: '1' } };
    assert.equal(labelSelectorToString(ls), 'a=1,b=2');
    assert.equal(parseSelector(labelSelectorToString(ls)).toString(), 'a=1,b=2');
    assert.equal(selectorFromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
  });

  it('rejects bad operators, keys and value counts with upstream messages', () => {
    assert.throws(
      () => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }),
      (e: unknown) => e instanceof BadRequestError && e.message === '"Gt" is not a valid label selector operator',
    );
    assert.throws(
      () => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      (e: unknown) => e instanceof BadRequestError && e.message === "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
    assert.throws(
      () => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      (e: unknown) => e instanceof BadRequestError && e.message === 'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    );
    assert.throws(
      () => selectorFromLabelSelector({ matchLabels: { 'bad key': 'v' } }),
      (e: unknown) => e instanceof BadRequestError && e.message.startsWith('key: Invalid value: "bad key": name part must consist of'),
    );
  });
});

describe('labelsEqual', () => {
  it('compares keys and values in any order, absent as empty', () => {
    assert.ok(labelsEqual({ a: '1', b: '2' }, { b: '2', a: '1' }));
    assert.ok(labelsEqual(undefined, {}));
    assert.ok(!labelsEqual({ a: '1' }, { a: '2' }));
    assert.ok(!labelsEqual({ a: '1' }, { b: '1' }));
    assert.ok(!labelsEqual({ a: '1' }, { a: '1', b: '' }));
    assert.ok(!labelsEqual({ a: '' }, undefined));
  });
});
