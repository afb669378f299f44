const test = require('node:test');
const assert = require('node:assert');

test('sums items', () => {
  assert.strictEqual(1 + 2, 3);
});

test('applies the discount', () => {
  assert.strictEqual(200, 500);
});

test.describe('refunds', () => {
  test.it('refunds in full', () => {});
  test.it('throws on negative', () => {
    throw new Error('negative amount');
  });
});
