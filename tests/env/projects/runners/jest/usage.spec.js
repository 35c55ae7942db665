// Jest (CommonJS, as it runs tests by default): require picks the
// package's CommonJS build.
const w = require('weave-usage');
const { probe } = require('../probe.cjs');
const expected = require('../expected.json');

test('weave-usage', () => {
  expect(probe(w)).toEqual(expected);
});

test('weave-usage/init', async () => {
  const i = require('weave-usage/init');
  await i.init();
  expect(probe(i)).toEqual(expected);
});
