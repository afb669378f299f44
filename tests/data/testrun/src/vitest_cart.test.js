import { describe, it, expect } from 'vitest';

describe('cart', () => {
  it('sums items', () => {
    expect(1 + 2).toBe(3);
  });
  it('applies the discount', () => {
    expect(5).toBe(4);
  });
  it.skip('ships abroad', () => {});
  it.each([[1, 1], [2, 3]])('doubles %i', (a, b) => {
    expect(a * 2).toBe(b * 2);
  });
});
