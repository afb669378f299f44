import { total, Item } from '../cart';

describe('cart', () => {
  const items: Item[] = [{ price: 2, qty: 2 }];

  it('sums items', () => {
    expect(total(items)).toBe(4);
  });

  it('applies the discount', () => {
    const discounted: number = total([{ price: 5 }]);
    expect(discounted).toBe(4);
  });
});
