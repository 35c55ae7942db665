// The dashboard's error reports, from the package's real errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callsUsageFromJson } from 'weave-usage';
import { errorReport, excerpt } from '../../www/errors.js';

const thrown = (body, request = { project_id: 'p', call_ids: [] }) => {
  try {
    callsUsageFromJson(body, request);
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
};

test('bad JSON: line, column, reason and the line with a caret', () => {
  const text = '{"id":"a","trace_id":"t"}\n\n{"id":"b", bad}\n';
  const report = errorReport(thrown(text), { bytes: new TextEncoder().encode(text), name: 'x.jsonl' });
  assert.equal(report.status, 400);
  assert.equal(report.title, 'x.jsonl is not valid JSON (400)');
  assert.equal(report.message, 'Line 3, column 12: expected a string key.');
  assert.deepEqual(report.excerpt, { text: '{"id":"b", bad}', caret: 11 });
});

test('a malformed call: its index and line in the detail list', () => {
  const text = '{"id":"a","trace_id":"t"}\n\n{"id":"b"}\n';
  const report = errorReport(thrown(text), { bytes: new TextEncoder().encode(text), format: 'jsonl' });
  // A JSON array's calls have no line of their own.
  assert.equal(errorReport(thrown(text), { bytes: new TextEncoder().encode(text), format: 'array' }).items[0].where, 'call 2 › trace_id');
  assert.equal(report.status, 422);
  assert.equal(report.title, 'Weave would refuse calls in this file (422)');
  assert.deepEqual(report.items, [{ where: 'call 2 (line 3) › trace_id', msg: 'Field required' }]);
});

test('an invalid request: the body locations', () => {
  const report = errorReport(thrown('', { project_id: 'p', call_ids: [], limit: 0 }));
  assert.equal(report.title, 'The request was refused (422)');
  assert.deepEqual(report.items.map((i) => i.where), ['body › limit']);
});

test('anything else: its message', () => {
  assert.deepEqual(errorReport(new Error('disk on fire'), { name: 'a.json' }), { status: null, title: 'Could not read a.json', message: 'disk on fire', items: [] });
});

test('excerpts of long lines are clipped around the error', () => {
  const line = 'x'.repeat(500) + '!' + 'y'.repeat(500);
  const bytes = new TextEncoder().encode(`first\n${line}\nlast`);
  const { text, caret } = excerpt(bytes, 6 + 500);
  assert.equal(text[caret], '!');
  assert.ok(text.startsWith('…x') && text.endsWith('y…') && text.length < 110);
  assert.deepEqual(excerpt(bytes, 0), { text: 'first', caret: 0 });
});

test('the limit rule of Weave 0.53.12 (options.limit "per-batch"): 413 and 400 explained', () => {
  const calls = [{ id: 'a', trace_id: 't' }, { id: 'b', trace_id: 't', parent_id: 'a' }];
  const refused = (limit) => {
    try {
      callsUsageFromJson(JSON.stringify(calls), { project_id: 'p', call_ids: ['a'], limit }, { limit: 'per-batch' });
    } catch (e) {
      return errorReport(e, { name: 'x.jsonl' });
    }
    assert.fail('expected an error');
  };
  const big = refused(1);
  assert.equal(big.status, 413);
  assert.equal(big.title, 'A selected trace has more calls than the limit (413)');
  assert.match(big.message, /^Cannot compute complete usage: a single trace exceeds the 1-call aggregation limit\. Increase limit and retry\. /);
  const zero = refused(0);
  assert.equal(zero.status, 400);
  assert.equal(zero.title, 'The limit must be at least 1 (400)');
  assert.match(zero.message, /^Usage aggregation limit must be positive/);
});
