const { total } = require('../cart');

describe('cart', () => {
  test('sums items', () => {
    expect(total([{ price: 2, qty: 2 }])).toBe(4);
  });
  test('applies the discount', () => {
    expect(total([{ price: 5 }])).toBe(4);
  });
  test.skip('ships abroad', () => {});
  test.each([[1, 1], [2, 3]])('doubles %i', (a, b) => {
    expect(a * 2).toBe(b * 2);
  });
});
