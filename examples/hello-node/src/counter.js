// counter: a callback-style handler (CommonJS). Adds event.by (default 1) to START.
'use strict';

function add(start, by) {
  if (!Number.isFinite(by)) {
    throw new TypeError('"by" must be a number');
  }
  return start + by;
}

exports.handler = function (event, context, callback) {
  const start = Number(process.env.START || 0);
  const by = event && event.by !== undefined ? Number(event.by) : 1;
  try {
    const value = add(start, by);
    console.log(`counter ${start} + ${by} = ${value}`);
    callback(null, { value });
  } catch (err) {
    callback(err);
  }
};

exports.add = add;
