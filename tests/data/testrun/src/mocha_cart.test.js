const assert = require('assert');

describe('cart', function () {
  it('sums items', function () {
    assert.strictEqual(1 + 2, 3);
  });
  it('applies the discount', function () {
    assert.strictEqual(200, 500);
  });
  it.skip('ships abroad', function () {});
  describe('refunds', function () {
    it('refunds in full', function () {
      assert.ok(true);
    });
    it('throws on negative', function () {
      throw new Error('negative amount');
    });
  });
});
