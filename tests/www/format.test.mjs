// Number formatting of the dashboard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatCompact, formatCost, formatCostTick, formatInt, providerTrueNote } from '../../www/format.js';

test('integers get thousands separators', () => {
  assert.equal(formatInt(0), '0');
  assert.equal(formatInt(1234567), '1,234,567');
  assert.equal(formatInt(2 ** 53), '9,007,199,254,740,992');
});

test('costs: none, zero, tiny, cents of a cent, dollars', () => {
  assert.equal(formatCost(null), '—');
  assert.equal(formatCost(0), '$0.00');
  assert.equal(formatCost(3e-8), '<$0.0001');
  assert.equal(formatCost(0.0000999), '<$0.0001');
  assert.equal(formatCost(0.0001), '$0.0001');
  assert.equal(formatCost(0.00762), '$0.0076');
  assert.equal(formatCost(0.094), '$0.0940');
  assert.equal(formatCost(1), '$1.00');
  assert.equal(formatCost(1234.567), '$1,234.57');
  assert.equal(formatCost(-0.5), '−$0.5000');
  assert.equal(formatCost(NaN), 'NaN');
  assert.equal(formatCost(Infinity), '∞');
});

test('chart labels: compact counts, round costs, byte sizes', () => {
  assert.equal(formatCompact(1234567), '1.2M');
  assert.equal(formatCompact(950), '950');
  assert.equal(formatCostTick(0.05), '$0.05');
  assert.equal(formatCostTick(0), '$0');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(95229), '93 KB');
  assert.equal(formatBytes(25 * 1024 * 1024), '25 MB');
  assert.equal(formatBytes(1.5 * 1024 * 1024), '1.5 MB');
});

test('provider-true note: one sentence, then both totals', () => {
  const note = providerTrueNote({ requests: 14, total_tokens: 8978, cost: 0.0421 }, { requests: 57, total_tokens: 32693, cost: 0.1702 }, true);
  assert.equal(note.sentence.split(/[.;] /).length, 2, 'one sentence');
  assert.match(note.sentence, /^Provider-true totals count each LLM request once/);
  assert.equal(note.provider, 'Provider-true: 14 requests, 8,978 tokens, $0.0421.');
  assert.equal(note.server, 'Weave’s server: 57 requests, 32,693 tokens, $0.1702 (4.07× the requests).');
  const plain = providerTrueNote({ requests: 1, total_tokens: 10, cost: null }, { requests: 1, total_tokens: 10, cost: null }, false);
  assert.deepEqual([plain.provider, plain.server], ['Provider-true: 1 request, 10 tokens.', 'Weave’s server: 1 request, 10 tokens.']);
});
