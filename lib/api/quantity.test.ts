import assert from 'node:assert/strict';
import {
  canonicalQuantity,
  ERR_FORMAT_WRONG,
  ERR_NUMERIC,
  ERR_SUFFIX,
  isQuantity,
  newMilliQuantity,
  newQuantity,
  parseQuantity,
  Quantity,
  quantityFromJSON,
  QuantityError,
} from './quantity.js';

/** value = unscaled × 10^scale, compared exactly */
function assertValue(q: Quantity, unscaled: bigint, exp: number, label: string): void {
  const want = new Quantity(unscaled, exp, 'DecimalSI');
  assert.equal(q.cmp(want), 0, `${label}: got ${q.unscaled}e${q.scale}, want ${unscaled}e${exp}`);
}

describe('parseQuantity', () => {
  // upstream TestQuantityParse: input, unscaled, exponent, format
  const table: [string, bigint, number, Quantity['format']][] = [
    ['0', 0n, 0, 'DecimalSI'],
    ['0n', 0n, 0, 'DecimalSI'],
    ['0u', 0n, 0, 'DecimalSI'],
    ['0m', 0n, 0, 'DecimalSI'],
    ['0Ki', 0n, 0, 'BinarySI'],
    ['0k', 0n, 0, 'DecimalSI'],
    ['0Mi', 0n, 0, 'BinarySI'],
    ['0Ti', 0n, 0, 'BinarySI'],
    ['1', 1n, 0, 'DecimalSI'],
    ['1Ki', 1024n, 0, 'BinarySI'],
    ['8Ki', 8n * 1024n, 0, 'BinarySI'],
    ['7Mi', 7n * 1024n ** 2n, 0, 'BinarySI'],
    ['6Gi', 6n * 1024n ** 3n, 0, 'BinarySI'],
    ['5Ti', 5n * 1024n ** 4n, 0, 'BinarySI'],
    ['4Pi', 4n * 1024n ** 5n, 0, 'BinarySI'],
    ['3Ei', 3n * 1024n ** 6n, 0, 'BinarySI'],
    ['100Ti', 100n * 1024n ** 4n, 0, 'BinarySI'],
    ['5n', 5n, -9, 'DecimalSI'],
    ['4u', 4n, -6, 'DecimalSI'],
    ['3m', 3n, -3, 'DecimalSI'],
    ['8k', 8n, 3, 'DecimalSI'],
    ['50k', 5n, 4, 'DecimalSI'],
    ['7M', 7n, 6, 'DecimalSI'],
    ['6G', 6n, 9, 'DecimalSI'],
    ['5T', 5n, 12, 'DecimalSI'],
    ['2P', 2n, 15, 'DecimalSI'],
    ['1E', 1n, 18, 'DecimalSI'],
    ['1E-3', 1n, -3, 'DecimalExponent'],
    ['1e3', 1n, 3, 'DecimalExponent'],
    ['1E18', 1n, 18, 'DecimalExponent'],
    ['1e14', 1n, 14, 'DecimalExponent'],
    ['100.035k', 100035n, 0, 'DecimalSI'],
    ['0.001', 1n, -3, 'DecimalSI'],
    ['0.0005k', 5n, -1, 'DecimalSI'],
    ['0.5', 5n, -1, 'DecimalSI'],
    ['0.00050k', 5n, -1, 'DecimalSI'],
    ['0.5e-2', 5n, -3, 'DecimalExponent'],
    ['10.035M', 10035n, 3, 'DecimalSI'],
    ['1.2e3', 12n, 2, 'DecimalExponent'],
    ['1.3E+6', 13n, 5, 'DecimalExponent'],
    ['1.53E12', 153n, 10, 'DecimalExponent'],
    ['1.7E18', 17n, 17, 'DecimalExponent'],
    ['9.01', 901n, -2, 'DecimalSI'],
    ['7.123456M', 7123456n, 0, 'DecimalSI'],
    ['6.987654321G', 6987654321n, 0, 'DecimalSI'],
    ['1.01E', 101n, 16, 'DecimalSI'],
    // things that saturate or round up to one nano-unit
    ['3.001n', 4n, -9, 'DecimalSI'],
    ['1.1E-9', 2n, -9, 'DecimalExponent'],
    ['0.0000000001', 1n, -9, 'DecimalSI'],
    ['0.0000000005', 1n, -9, 'DecimalSI'],
    ['0.5e-9', 1n, -9, 'DecimalExponent'],
    ['0.9n', 1n, -9, 'DecimalSI'],
    ['0.00000012345', 124n, -9, 'DecimalSI'],
    ['0.00000012354', 124n, -9, 'DecimalSI'],
    ['9Ei', (1n << 63n) - 1n, 0, 'BinarySI'],
    ['9223372036854775807Ki', (1n << 63n) - 1n, 0, 'BinarySI'],
    ['12E', 12n, 18, 'DecimalSI'],
    // fractional binary
    ['100.035Ki', 10243584n, -2, 'BinarySI'],
    ['0.5Mi', 524288n, 0, 'BinarySI'],
    ['0.05Gi', 536870912n, -1, 'BinarySI'],
    ['0.025Ti', 274877906944n, -1, 'BinarySI'],
    // things written by trolls
    ['0.000000000001Ki', 2n, -9, 'DecimalSI'],
    ['.001', 1n, -3, 'DecimalSI'],
    ['.0001k', 100n, -3, 'DecimalSI'],
    ['1.', 1n, 0, 'DecimalSI'],
    ['1.G', 1n, 9, 'DecimalSI'],
  ];

  it('parses upstream examples to exact values and formats', () => {
    for (const [input, unscaled, exp, format] of table) {
      const q = parseQuantity(input);
      assertValue(q, unscaled, exp, input);
      assert.equal(q.format, format, input);
    }
  });

  it('parses the negated and explicitly signed form of every example', () => {
    for (const [input, unscaled, exp, format] of table) {
      const neg = parseQuantity('-' + input);
      assertValue(neg, -unscaled, exp, '-' + input);
      assert.equal(neg.format, format, '-' + input);
      const pos = parseQuantity('+' + input);
      assertValue(pos, unscaled, exp, '+' + input);
    }
  });

  it('rejects malformed strings with upstream messages', () => {
    const cases: [string, string][] = [
      ['', ERR_FORMAT_WRONG],
      ['1.1.M', ERR_FORMAT_WRONG],
      ['1+1.0M', ERR_FORMAT_WRONG],
      ['0.1am', ERR_FORMAT_WRONG],
      ['aoeu', ERR_FORMAT_WRONG],
      [' 1', ERR_FORMAT_WRONG],
      ['1 ', ERR_FORMAT_WRONG],
      ['1Gi ', ERR_FORMAT_WRONG],
      ['１', ERR_FORMAT_WRONG],
      ['0.1mi', ERR_SUFFIX],
      ['.5i', ERR_SUFFIX],
      ['1i', ERR_SUFFIX],
      ['-3.01i', ERR_SUFFIX],
      ['-3.01e-', ERR_SUFFIX],
      ['1ki', ERR_SUFFIX],
      ['1KiB', ERR_FORMAT_WRONG],
    ];
    for (const [input, msg] of cases) {
      assert.throws(() => parseQuantity(input), (e: unknown) => e instanceof QuantityError && e.message === msg, JSON.stringify(input));
    }
    assert.equal(
      ERR_FORMAT_WRONG,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });

  it('refuses absurd sizes instead of building giant numbers', () => {
    assert.throws(() => parseQuantity('1e100000'), (e: unknown) => e instanceof QuantityError && e.message === ERR_NUMERIC);
    assert.throws(() => parseQuantity('1'.repeat(5000)), (e: unknown) => e instanceof QuantityError && e.message === ERR_NUMERIC);
    // tiny values still round up to one nano-unit
    assert.equal(parseQuantity('1e-100000').toString(), '1e-9');
    assert.equal(parseQuantity('0.' + '0'.repeat(300) + '1').toString(), '1n');
  });

  it('isQuantity reports without throwing', () => {
    assert.equal(isQuantity('250m'), true);
    assert.equal(isQuantity('250 m'), false);
  });
});

describe('Quantity canonical string', () => {
  it('canonicalizes as upstream (1.5Gi, 0.5, 1000m, 2e3)', () => {
    const cases: [string, string][] = [
      ['1.5Gi', '1536Mi'],
      ['0.5', '500m'],
      ['1000m', '1'],
      ['1.5', '1500m'],
      // DecimalExponent keeps its format: upstream prints "2e3", not "2k"
      ['2e3', '2e3'],
      ['2000e0', '2e3'],
      ['1.3E+6', '1300e3'],
      ['1024Mi', '1Gi'],
      ['1000M', '1G'],
      ['.001Ki', '1024m'],
      ['.000001Ki', '1024u'],
      ['.000000001Ki', '1024n'],
      ['.000000000001Ki', '2n'],
      ['0.1m', '100u'],
      ['0.1n', '1n'],
      ['0.5Mi', '512Ki'],
      ['0.05Gi', '53687091200m'],
      ['1080m', '1080m'],
      ['1.08', '1080m'],
      ['1080000000n', '1080m'],
      ['0.001T', '1G'],
      ['5000m', '5'],
      ['307200Ki', '300Mi'],
      ['1025024Mi', '1001Gi'],
      ['1024Gi', '1Ti'],
      ['1000u', '1m'],
      ['0.001e12', '1e9'],
      ['0.001e0', '1e-3'],
      ['1000e-12', '1e-9'],
      ['00', '0'],
      ['-0', '0'],
      ['0Gi', '0'],
      ['9Ei', '9223372036854775807'],
      ['1000E', '1000E'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, input);
  });

  it('keeps a parsed string that was already canonical, quirks included', () => {
    // upstream returns the caller's text when its fast path finds it canonical
    for (const s of ['1Gi', '300Mi', '6Ki', '1G', '1m', '80m', '1234567M', '3k', '1e9', '80e-3', '1n', '1080u', '100.035k', '+1', '1.']) {
      assert.equal(parseQuantity(s).toString(), s, s);
    }
  });

  it('prints negatives with a leading minus and never "-0"', () => {
    assert.equal(parseQuantity('-1.5Gi').toString(), '-1536Mi');
    assert.equal(parseQuantity('-0.5').toString(), '-500m');
    assert.equal(parseQuantity('-.000000000001Ki').toString(), '-2n');
    assert.equal(parseQuantity('-0.0').toString(), '0');
  });

  it('serializes to JSON as its canonical string', () => {
    assert.equal(JSON.stringify({ cpu: parseQuantity('0.5') }), '{"cpu":"500m"}');
  });
});

describe('Quantity values', () => {
  it('value() and milliValue() are exact bigints rounded away from zero', () => {
    assert.equal(parseQuantity('1.5Gi').value(), 1610612736n);
    assert.equal(parseQuantity('2e3').value(), 2000n);
    assert.equal(parseQuantity('500m').milliValue(), 500n);
    assert.equal(parseQuantity('500m').value(), 1n);
    assert.equal(parseQuantity('1').milliValue(), 1000n);
    assert.equal(parseQuantity('0.1m').milliValue(), 1n);
    assert.equal(parseQuantity('1n').value(), 1n);
    assert.equal(parseQuantity('-1.5').value(), -2n);
    assert.equal(parseQuantity('-100m').value(), -1n);
    assert.equal(parseQuantity('0').value(), 0n);
    // beyond int64 stays exact
    assert.equal(parseQuantity('12E').value(), 12_000_000_000_000_000_000n);
    assert.equal(parseQuantity('100Ti').value(), 109951162777600n);
  });

  it('scaledValue matches upstream TestScaledValue', () => {
    const cases: [number, number, bigint][] = [
      [-9, -9, 1n], [-9, -6, 1n], [-9, -3, 1n], [-9, 0, 1n],
      [-6, -9, 1000n], [-6, -6, 1n], [-6, -3, 1n], [-6, 0, 1n],
      [-3, -9, 1000000n], [-3, -6, 1000n], [-3, -3, 1n], [-3, 0, 1n],
      [0, -9, 1000000000n], [0, -6, 1000000n], [0, -3, 1000n], [0, 0, 1n],
      [2, -2, 10000n],
    ];
    for (const [from, to, want] of cases) assert.equal(new Quantity(1n, from, 'DecimalSI').scaledValue(to), want, `${from}->${to}`);
  });

  it('compares across formats and scales', () => {
    assert.equal(parseQuantity('1Gi').cmp(parseQuantity('1G')), 1);
    assert.equal(parseQuantity('1000m').cmp(parseQuantity('1')), 0);
    assert.equal(parseQuantity('1k').cmp(parseQuantity('1Ki')), -1);
    assert.equal(parseQuantity('-1').cmp(parseQuantity('0')), -1);
    assert.equal(parseQuantity('1e3').equal(parseQuantity('1k')), true);
    assert.equal(parseQuantity('12E').cmp(parseQuantity('9Ei')), 1);
  });

  it('adds and subtracts exactly, a zero taking the other format', () => {
    assert.equal(parseQuantity('1.5Gi').add(parseQuantity('512Mi')).toString(), '2Gi');
    assert.equal(parseQuantity('100m').add(parseQuantity('1')).toString(), '1100m');
    assert.equal(parseQuantity('1').sub(parseQuantity('1500m')).toString(), '-500m');
    assert.equal(parseQuantity('0').add(parseQuantity('1Ki')).format, 'BinarySI');
    assert.equal(parseQuantity('0').sub(parseQuantity('1Ki')).toString(), '-1Ki');
    // repeated sums of a tenth do not drift as floats would
    let sum = parseQuantity('0');
    for (let i = 0; i < 10; i++) sum = sum.add(parseQuantity('0.1'));
    assert.equal(sum.toString(), '1');
    assert.equal(parseQuantity('250m').neg().toString(), '-250m');
  });

  it('roundUp follows upstream TestQuantityRoundUp', () => {
    const cases: [string, number, string, boolean][] = [
      ['9.01', -3, '9010m', true],
      ['9.01', -2, '9010m', true],
      ['9.01', -1, '9100m', false],
      ['9.01', 0, '10', false],
      ['-9.01', -1, '-9100m', false],
      ['-9.01', 0, '-10', false],
    ];
    for (const [input, scale, want, exact] of cases) {
      const r = parseQuantity(input).roundUp(scale);
      assert.equal(r.quantity.toString(), want, `${input}@${scale}`);
      assert.equal(r.exact, exact, `${input}@${scale}`);
    }
  });

  it('builds quantities from integers and milli-units', () => {
    assert.equal(newQuantity(1n << 30n, 'BinarySI').toString(), '1Gi');
    assert.equal(newQuantity(5, 'BinarySI').toString(), '5');
    assert.equal(newMilliQuantity(250).toString(), '250m');
    assert.equal(newMilliQuantity(2000).toString(), '2');
  });

  it('quantityFromJSON accepts strings (trimmed) and JSON numbers', () => {
    assert.equal(quantityFromJSON(' 1Gi ').toString(), '1Gi');
    assert.equal(quantityFromJSON(2).toString(), '2');
    assert.equal(quantityFromJSON(0.5).toString(), '500m');
    assert.equal(quantityFromJSON(1e21).value(), 10n ** 21n);
    assert.throws(() => quantityFromJSON(true), QuantityError);
    assert.throws(() => quantityFromJSON(null), QuantityError);
  });
});
