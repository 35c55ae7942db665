// What the dashboard lists of an open file, asked of the accumulator that
// read it (www/calls.js over weave-usage/stats), and the line of a call in
// a JSON Lines file for error reports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { UsageAccumulator } from 'weave-usage/stats';
import { callName, firstProject, formatOf, lineOfCall, opName, projectsOf, rootsOf, traceCallsOf } from '../../www/calls.js';

/** An accumulator made for stats fed `text` in chunks of `size` bytes. */
function read(text, size = 7) {
  const bytes = new TextEncoder().encode(text);
  const acc = new UsageAccumulator({ stats: true });
  for (let i = 0; i < bytes.length; i += size) acc.push(bytes.subarray(i, i + size));
  return acc;
}

const CALLS = [
  { id: 'r1', trace_id: 't1', project_id: 'p', op_name: 'weave:///e/p/op/agent.run:abc', started_at: '2025-03-01T10:00:00Z', ended_at: '2025-03-01T10:01:00Z' },
  { id: 'c1', trace_id: 't1', project_id: 'p', parent_id: 'r1' },
  { id: 'r0', trace_id: 't0', project_id: 'p', display_name: 'first ☃', started_at: '2025-03-01T09:00:00Z' },
  { id: 'rd', trace_id: 't2', project_id: 'p', deleted_at: '2025-03-02T00:00:00Z' },
  { id: 'rx', trace_id: 't3', project_id: 'other' },
  { id: 'n', trace_id: 't4', started_at: '2025-03-01T11:00:00Z' },
];

test('JSON Lines and a JSON array, in any chunking: projects, roots by start time with their traces, deleted ones left out', () => {
  const texts = [CALLS.map((c) => JSON.stringify(c)).join('\r\n') + '\n', '  ' + JSON.stringify(CALLS, null, 2)];
  for (const text of texts) {
    for (const size of [1, 7, 1 << 16]) {
      const acc = read(text, size);
      const projects = projectsOf(acc);
      // Calls of no project count for every project but name none.
      assert.deepEqual(projects, [{ id: 'p', calls: 3 }, { id: 'other', calls: 1 }]);
      assert.equal(firstProject(projects, 'other'), 'other');
      assert.equal(firstProject(projects, 'gone'), 'p');
      assert.equal(firstProject([], 'gone'), 'default');
      assert.deepEqual(
        rootsOf(acc, 'p').map((r) => [r.id, r.name, r.ended, r.calls, r.project_id]),
        [['r0', 'first ☃', false, 1, 'p'], ['r1', 'agent.run', true, 2, 'p'], ['n', 'call', false, 1, null]],
      );
      assert.deepEqual(rootsOf(acc, 'other').map((r) => r.id), ['n', 'rx']);
      assert.deepEqual(traceCallsOf(acc, 'p', 't1'), [
        { id: 'r1', parent_id: null, name: 'agent.run' },
        { id: 'c1', parent_id: 'r1', name: 'call' },
      ]);
      assert.deepEqual(traceCallsOf(acc, 'p', 'none'), []);
      acc.free();
    }
  }
});

test('the last of several calls with one id counts', () => {
  const acc = read([CALLS[0], { ...CALLS[0], parent_id: 'elsewhere' }].map((c) => JSON.stringify(c)).join('\n'));
  assert.deepEqual(rootsOf(acc, 'p'), []);
  acc.free();
});

test('the bundled sample: six roots in one project', () => {
  const acc = read(readFileSync(new URL('../../www/sample/traces.jsonl', import.meta.url), 'utf8'), 4096);
  assert.equal(acc.calls, 56);
  assert.equal(rootsOf(acc, 'acme/agents').length, 6);
  assert.deepEqual(projectsOf(acc), [{ id: 'acme/agents', calls: 56 }]);
  acc.free();
});

test('names: the display name, else the op name, else "call"', () => {
  assert.equal(opName('weave:///acme/agents/op/openai.chat.completions.create:Xy12'), 'openai.chat.completions.create');
  assert.equal(opName('my_op'), 'my_op');
  assert.equal(opName(null), '');
  assert.equal(callName({ display_name: 'Mine', op_name: 'weave:///e/p/op/f:1' }), 'Mine');
  assert.equal(callName({ display_name: null, op_name: 'weave:///e/p/op/f:1' }), 'f');
  assert.equal(callName({ display_name: null, op_name: null }), 'call');
});

test('the format from the first byte that is not white space; a call’s line counts blank lines, not as calls', () => {
  const enc = (s) => new TextEncoder().encode(s);
  assert.equal(formatOf(enc(' \n [{}]')), 'array');
  assert.equal(formatOf(enc('\n{"id":1}')), 'jsonl');
  assert.equal(formatOf(enc('  ')), 'jsonl');
  const text = enc(`\n  \n${JSON.stringify(CALLS[0])}\n\n${JSON.stringify(CALLS[2])}\n`);
  assert.deepEqual([0, 1, 2].map((i) => lineOfCall(text, i)), [3, 5, null]);
  // As the library counts them: its 422 names the call the line holds.
  const bad = enc(`\n${JSON.stringify(CALLS[0])}\n \t\n{"id":"x"}\n`);
  const acc = new UsageAccumulator({ stats: true });
  assert.throws(() => acc.push(bad), (e) => e.status === 422 && lineOfCall(bad, e.detail[0].loc[1]) === 4);
  acc.free();
});
