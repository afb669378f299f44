import { test } from 'node:test';
import assert from 'node:assert/strict';

import { handler, greeting } from '../src/greet.mjs';

test('greets by name', async () => {
  process.env.STAGE = 'dev';
  const res = await handler({ name: 'Ada' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(JSON.parse(res.body), { message: 'Hello, Ada! (stage dev)' });
});

test('defaults to world', () => {
  assert.equal(greeting('world', 'prod'), 'Hello, world! (stage prod)');
});
