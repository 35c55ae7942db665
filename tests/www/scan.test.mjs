// The dashboard's scan of an export for its roots, projects and trace sizes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CallScanner, opName } from '../../www/scan.js';

/** Feeds `text` in chunks of `size` bytes (splitting lines and characters anywhere). */
function scan(text, size = 7) {
  const bytes = new TextEncoder().encode(text);
  const s = new CallScanner();
  for (let i = 0; i < bytes.length; i += size) s.push(bytes.subarray(i, i + size));
  return s.finish();
}

const CALLS = [
  { id: 'r1', trace_id: 't1', project_id: 'p', op_name: 'weave:///e/p/op/agent.run:abc', started_at: '2025-03-01T10:00:00Z', ended_at: '2025-03-01T10:01:00Z' },
  { id: 'c1', trace_id: 't1', project_id: 'p', parent_id: 'r1' },
  { id: 'r0', trace_id: 't0', project_id: 'p', display_name: 'first ☃', started_at: '2025-03-01T09:00:00Z' },
  { id: 'rd', trace_id: 't2', project_id: 'p', deleted_at: '2025-03-02T00:00:00Z' },
  { id: 'rx', trace_id: 't3', project_id: 'other' },
];

test('JSON Lines in any chunking: roots by start time, deleted ones left out', () => {
  const text = CALLS.map((c) => JSON.stringify(c)).join('\r\n') + '\n';
  for (const size of [1, 3, 7, 1 << 16]) {
    const found = scan(text, size);
    assert.equal(found.format, 'jsonl');
    assert.equal(found.calls, 4);
    assert.deepEqual(found.roots.map((r) => [r.id, r.name, r.ended]), [['r0', 'first ☃', false], ['r1', 'agent.run', true], ['rx', 'call', false]]);
    assert.deepEqual(found.projects, [{ id: 'p', calls: 3 }, { id: 'other', calls: 1 }]);
    assert.deepEqual(found.traceSizes, { t1: 2, t0: 1, t3: 1 });
    assert.deepEqual(found.lineOfCall, [1, 2, 3, 4, 5]);
  }
});

test('a JSON array, pretty-printed', () => {
  const found = scan('  ' + JSON.stringify(CALLS, null, 2));
  assert.equal(found.format, 'array');
  assert.deepEqual(found.roots.map((r) => r.id), ['r0', 'r1', 'rx']);
  assert.equal(found.lineOfCall, null);
});

test('blank and broken lines: skipped, line numbers kept for the calls', () => {
  const found = scan(`${JSON.stringify(CALLS[0])}\n\n{broken\n${JSON.stringify(CALLS[2])}`);
  assert.deepEqual(found.roots.map((r) => r.id), ['r0', 'r1']);
  assert.deepEqual(found.lineOfCall, [1, 3, 4]);
});

test('calls without a project belong to any, not to a project of their own', () => {
  const found = scan([{ id: 'n', trace_id: 't' }, CALLS[0]].map((c) => JSON.stringify(c)).join('\n'));
  assert.deepEqual(found.projects, [{ id: 'p', calls: 1 }]);
  assert.deepEqual(found.roots.map((r) => [r.id, r.project_id]), [['r1', 'p'], ['n', null]]);
});

test('the last of several calls with one id counts', () => {
  const found = scan([CALLS[0], { ...CALLS[0], parent_id: 'elsewhere' }].map((c) => JSON.stringify(c)).join('\n'));
  assert.deepEqual(found.roots, []);
});

test('the bundled sample: six roots in one project', () => {
  const found = scan(readFileSync(new URL('../../www/sample/traces.jsonl', import.meta.url), 'utf8'), 4096);
  assert.equal(found.calls, 56);
  assert.equal(found.roots.length, 6);
  assert.deepEqual(found.projects, [{ id: 'acme/agents', calls: 56 }]);
});

test('op names', () => {
  assert.equal(opName('weave:///acme/agents/op/openai.chat.completions.create:Xy12'), 'openai.chat.completions.create');
  assert.equal(opName('my_op'), 'my_op');
  assert.equal(opName(null), '');
});

test('where each trace’s calls are: the same calls from JSON Lines and a JSON array, in any chunking', async () => {
  const { traceCalls } = await import('../../www/scan.js');
  const tricky = { id: 'q', trace_id: 't1', parent_id: 'r1', project_id: 'p', display_name: 'a "quoted", [bracketed] {braced} \\ name ☃' };
  const calls = [...CALLS, tricky, { ...CALLS[1], display_name: 'again' }];
  const want = (t) => calls.filter((c) => c.trace_id === t).map((c) => ({ id: c.id, parent_id: c.parent_id ?? null, name: c.display_name || opName(c.op_name) || 'call' }));
  const texts = [calls.map((c) => JSON.stringify(c)).join('\n'), '\n\n' + calls.map((c) => JSON.stringify(c)).join('\r\n') + '\r\n', JSON.stringify(calls), ' ' + JSON.stringify(calls, null, 2) + '\n', '[' + calls.map((c) => JSON.stringify(c)).join(' ,\n') + ' ]'];
  for (const text of texts) {
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 5, 64, bytes.length]) {
      const s = new CallScanner();
      for (let i = 0; i < bytes.length; i += size) s.push(bytes.slice(i, i + size));
      const found = s.finish();
      assert.equal(found.calls, 6, `${JSON.stringify(text.slice(0, 20))} in chunks of ${size}`);
      for (const t of ['t0', 't1', 't2', 't3']) assert.deepEqual(traceCalls(bytes, s.spansOf(t)), want(t), `${t} in chunks of ${size}`);
      assert.deepEqual(s.spansOf('none'), []);
    }
  }
});

test('a broken element of a JSON array: skipped, the others read', () => {
  const text = `[${JSON.stringify(CALLS[0])}, {"id": "x", oops}, ${JSON.stringify(CALLS[2])}]`;
  assert.deepEqual(scan(text, 3).roots.map((r) => r.id), ['r0', 'r1']);
});

test('blank lines before the first call count as lines', () => {
  assert.deepEqual(scan(`\n  \n${JSON.stringify(CALLS[0])}\n\n${JSON.stringify(CALLS[2])}`, 1).lineOfCall, [3, 5]);
  assert.deepEqual(scan(`\n  \n${JSON.stringify(CALLS[0])}\n\n${JSON.stringify(CALLS[2])}`, 100).lineOfCall, [3, 5]);
});

test('the fields read straight from bytes are the ones JSON.parse reads, or it is left to JSON.parse', async () => {
  const { plainFields } = await import('../../www/scan.js');
  const enc = new TextEncoder();
  // As the scanner uses them: the text of id, trace_id, project_id; whether
  // parent_id and ended_at are null and deleted_at is falsy; and, for roots,
  // the text of display_name, op_name and started_at.
  const view = (c) => {
    const root = c.parent_id == null;
    const out = { id: c.id, trace_id: c.trace_id, project_id: c.project_id, parent: c.parent_id == null, deleted: !!c.deleted_at, ended: c.ended_at != null };
    if (root) Object.assign(out, { display_name: c.display_name, op_name: c.op_name, started_at: c.started_at });
    return out;
  };
  const sample = readFileSync(new URL('../../www/sample/traces.jsonl', import.meta.url), 'utf8').split('\n').filter((l) => l.trim());
  const plain = [
    ...sample,
    ...CALLS.map((c) => JSON.stringify(c)),
    ...CALLS.map((c) => JSON.stringify(c, null, 2).replace(/\n/g, '\r\n\t')),
    '{}',
    ' { "id" : "a" , "inputs" : { "x" : [ 1 , -2.5e3 , true , false , null , "]}\\\\" , { } , [ ] ] } , "trace_id" : "t" } ',
    '{"id":"a","output":"\\\\\\"},{\\\\","trace_id":"t","n":12,"m":-0.5,"f":false}',
    '{"id":"a","id":"b","parent_id":"p","parent_id":null,"display_name":"x","display_name":"☃ ünï"}',
    '{"id":"a","deleted_at":"","ended_at":"","started_at":"","parent_id":""}',
    '{"id":"a","deleted_at":"x","project_id":null,"trace_id":null}',
    '{"id":"é\u2028","attributes":{"weird \\" key":{"nested":[[["\\\\"]]]}},"parent_id":null}',
  ];
  for (const text of plain) {
    const got = plainFields(enc.encode(text));
    assert.notEqual(got, null, `read straight: ${text.slice(0, 60)}`);
    assert.deepEqual(view(got), view(JSON.parse(text)), text.slice(0, 80));
  }
  // Anything else is JSON.parse's to decide.
  const leftOver = [
    '[]', '"x"', 'null', '', '{', '{"id":"a"', '{"id":"a"} x', '{"id":"a",}', '{"id":"a" "b":1}',
    '{"i\\u0064":"a"}', '{"id":"\\u0061"}', '{"id":1}', '{"trace_id":{"a":1}}', '{"parent_id":false}', '{"deleted_at":0}',
    '{"id":"a","x":"unterminated}', '{"id":"a","x":[1,2}', '{"id":"a","x":{"y":1}',
  ];
  for (const text of leftOver) assert.equal(plainFields(enc.encode(text)), null, text);
});
