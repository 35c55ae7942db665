// The dashboard's settings in its URL: what is written, what is read back,
// and that nothing unreadable gets in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTINGS, fromFragment, toFragment } from '../../www/settings.js';

const defaults = Object.fromEntries(SETTINGS.map((s) => [s.field, s.fallback]));

test('defaults write nothing; changed settings round-trip', () => {
  assert.equal(toFragment(defaults), '');
  const changed = { ...defaults, project: 'acme/agents x', includeCosts: false, limit: 500, limitRule: 'per-batch', rollup: 'dedupe', diagnostics: false, reprice: true, defaultPrices: true };
  const fragment = toFragment(changed);
  assert.equal(fragment, 'project=acme%2Fagents+x&costs=0&limit=500&limit-rule=per-batch&rollup=dedupe&diagnostics=0&reprice=1&default-prices=1');
  assert.deepEqual({ ...defaults, ...fromFragment(`#${fragment}`) }, changed);
});

test('unreadable values are ignored, the rest kept', () => {
  assert.deepEqual(fromFragment('#limit=0&rollup=fancy&costs=yes&reprice=1&limit=-3&project=&limit-rule=batches'), { reprice: true });
  assert.deepEqual(fromFragment('limit=1e3&default-prices=0&unknown=1'), { defaultPrices: false });
  assert.deepEqual(fromFragment(''), {});
});
