'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');

const { handler, add } = require('../src/counter.js');

function invoke(event) {
  return new Promise((resolve, reject) => {
    handler(event, {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

test('adds to START through the callback', async () => {
  process.env.START = '10';
  assert.deepEqual(await invoke({ by: 5 }), { value: 15 });
  assert.deepEqual(await invoke({}), { value: 11 });
});

test('reports bad input as an error', async () => {
  await assert.rejects(invoke({ by: 'x' }), /must be a number/);
  assert.throws(() => add(1, NaN), TypeError);
});
