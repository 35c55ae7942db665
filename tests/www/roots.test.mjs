// The roots panel's search: which roots a query keeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchRoots } from '../../www/roots.js';

const roots = [
  { id: '0191a-aaaa', trace_id: 't-1', name: 'agent.run' },
  { id: '0191b-bbbb', trace_id: 't-2', name: 'Evaluation.evaluate' },
  { id: '0191c-cccc', trace_id: 'T-3', name: null },
];

test('op name, id or trace id; case and surrounding spaces ignored; empty keeps all', () => {
  const ids = (q) => matchRoots(roots, q).map((r) => r.id);
  assert.deepEqual(ids(''), ['0191a-aaaa', '0191b-bbbb', '0191c-cccc']);
  assert.deepEqual(ids('   '), ['0191a-aaaa', '0191b-bbbb', '0191c-cccc']);
  assert.deepEqual(ids(' EVAL '), ['0191b-bbbb']);
  assert.deepEqual(ids('cccc'), ['0191c-cccc']);
  assert.deepEqual(ids('t-3'), ['0191c-cccc']);
  assert.deepEqual(ids('0191'), ['0191a-aaaa', '0191b-bbbb', '0191c-cccc']);
  assert.deepEqual(ids('nothing'), []);
});
