// Unit tests of the board's pure modules with Node's built-in test runner (node --test), run by
// ./surplus test through BoardScriptsTest. The board's files are browser ES modules without a
// package.json, so each is loaded from its source as a data: URL (they import nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const BOARD = new URL('../../main/resources/board/', import.meta.url);

async function load(name) {
  const source = readFileSync(new URL(name, BOARD));
  return import(`data:text/javascript;base64,${source.toString('base64')}`);
}

const dec = await load('decimal.js');
const { span } = await load('scale.js');

test('micros reads decimal strings exactly, and nothing else', () => {
  assert.equal(dec.micros('2.45'), 2_450_000n);
  assert.equal(dec.micros('0.000001'), 1n);
  assert.equal(dec.micros('-1.5'), -1_500_000n);
  assert.equal(dec.micros(null), null);
  for (const bad of ['1.0000001', '1e3', '', '.5', '1,000.00', 'NaN', '2.']) {
    assert.throws(() => dec.micros(bad), /not a decimal/, bad);
    assert.equal(dec.isDecimal(bad), false, bad);
  }
});

test('format keeps at least two places, at most six, and groups thousands', () => {
  assert.equal(dec.format(1_500_000n), '1.50');
  assert.equal(dec.format(1_234_500_000n), '1,234.50');
  assert.equal(dec.format(1_234_500_000n, 2, false), '1234.50');
  assert.equal(dec.format(1n), '0.000001');
  assert.equal(dec.format(-2_400_000n), '-2.40');
  assert.equal(dec.show('2.4'), '2.40');
  assert.equal(dec.show(null), '—');
});

test('sums and differences are exact where floats are not', () => {
  // 0.1 + 0.2 is 0.30000000000000004 in floating point
  assert.equal(dec.sum(['0.1', '0.2']), '0.3');
  assert.equal(dec.sum(['1234.5', '0.000001', null]), '1234.500001');
  assert.equal(dec.diff('2.40', '2.10'), '+0.30');
  assert.equal(dec.diff('2.10', '2.40'), '-0.30');
  assert.equal(dec.compare('2.10', '2.1'), 0);
  assert.equal(dec.compare('2.100001', '2.1'), 1);
});

test('round is half up on the decimal digits, away from zero for negatives', () => {
  assert.equal(dec.round('4.266666'), '4.27');
  assert.equal(dec.round('4.265'), '4.27');
  assert.equal(dec.round('4.264999'), '4.26');
  assert.equal(dec.round('-4.265'), '-4.27');
  assert.equal(dec.round('56', 1), '56.0');
});

test('percent is exact to the hundredth, half away from zero', () => {
  assert.equal(dec.percent('2.00', '2.10'), '+5.00%');
  assert.equal(dec.percent('3.00', '2.00'), '-33.33%');
  assert.equal(dec.percent('3.00', '4.00'), '+33.33%');
  assert.equal(dec.percent('2.00', '2.00'), '0.00%');
  assert.equal(dec.percent('0', '1.00'), null);
});

test("cost is the bid's worst case: limit x nodes x GPUs per node x minutes / 60, rounded down", () => {
  // 2.77 x 3 nodes x 8 GPUs x 5 minutes = 5.54
  assert.equal(dec.cost('2.77', 3, 8, 5), '5.54');
  // 0.000001 x 1 x 1 x 1 minute = 1/60 of a micro-dollar: rounds down to nothing
  assert.equal(dec.cost('0.000001', 1, 1, 1), '0.00');
  assert.equal(dec.cost('1000', 1024, 8, 10080), '1,376,256,000.00');
});

test('the depth range stays around the clearing price and names the outliers at its edges', () => {
  const levels = [
    { price: 2.0, nodes: 3 },
    { price: 2.5, nodes: 2 },
    { price: 1.2, nodes: 8 },
    { price: 99, nodes: 1 },
    { price: 0.1, nodes: 4 },
  ];
  const r = span(levels, 2.1);
  assert.ok(r.minX <= 1.2 && r.maxX >= 2.5, JSON.stringify(r));
  assert.ok(r.maxX < 11, JSON.stringify(r));
  assert.deepEqual(r.above, { levels: 1, far: 99 });
  assert.deepEqual(r.below, { levels: 1, far: 0.1 });
});

test('without a clearing price the range centres on the median level, whatever the outlier asks', () => {
  // the $99 bid asks for more nodes than all the rest together: it still cannot move the centre
  const r = span(
    [
      { price: 99, nodes: 64 },
      { price: 3.0, nodes: 2 },
      { price: 2.77, nodes: 3 },
      { price: 0.5, nodes: 1 },
      { price: 1.2, nodes: 0 },
      { price: 1.5, nodes: 0 },
      { price: 1.8, nodes: 0 },
    ],
    null,
  );
  assert.ok(r.minX <= 0.5 && r.maxX >= 3.0 && r.maxX < 11, JSON.stringify(r));
  assert.deepEqual(r.above, { levels: 1, far: 99 });
  assert.equal(r.below.levels, 0);
  // a book without outliers keeps every level inside, with a margin
  const plain = span([{ price: 1.5, nodes: 1 }, { price: 2.5, nodes: 1 }], null);
  assert.ok(plain.minX < 1.5 && plain.maxX > 2.5);
  assert.equal(plain.below.levels + plain.above.levels, 0);
  assert.deepEqual(span([], null).maxX, 1);
});
