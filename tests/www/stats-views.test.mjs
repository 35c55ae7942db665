// The dashboard's stats views, their pure parts: the timeline's columns and
// labels, the breakdown's order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketLabel, timelineColumns } from '../../www/timeline.js';
import { sortBreakdown } from '../../www/breakdown.js';

test('timeline columns: one per bucket, empty ones kept, models largest first', () => {
  const buckets = ['2025-03-01T00:00:00.000Z', '2025-03-02T00:00:00.000Z', '2025-03-03T00:00:00.000Z'];
  const stacks = new Map([['small', [1, 0, 0]], ['big', [0, 0, 5]]]);
  const cols = timelineColumns(buckets, stacks);
  assert.deepEqual(cols.map((c) => [c.bucket, c.total, c.segments.map((s) => s.model)]), [
    [buckets[0], 1, ['small']],
    [buckets[1], 0, []],
    [buckets[2], 5, ['big']],
  ]);
});

test('bucket labels are written in the buckets’ time zone', () => {
  // Midnight in New York is 04:00 or 05:00 UTC.
  assert.equal(bucketLabel('2025-03-10T04:00:00.000Z', 'day', 'America/New_York'), 'Mar 10');
  assert.equal(bucketLabel('2025-03-10T04:00:00.000Z', 'day', 'UTC'), 'Mar 10');
  assert.equal(bucketLabel('2025-03-09T23:00:00.000Z', 'day', 'UTC'), 'Mar 9');
  assert.equal(bucketLabel('2025-03-09T23:00:00.000Z', 'day', 'Asia/Tokyo'), 'Mar 10');
  assert.equal(bucketLabel('2025-03-09T23:00:00.000Z', 'hour', 'Asia/Kathmandu'), 'Mar 10, 04:45');
  assert.equal(bucketLabel('2025-03-01T00:00:00.000Z', 'month', 'UTC'), 'Mar 2025');
  assert.equal(bucketLabel('2025-03-03T00:00:00.000Z', 'week', 'UTC'), 'week of Mar 3');
  assert.equal(bucketLabel('2025-03-03T00:00:00.000Z', 'day', 'Not/AZone'), 'Mar 3', 'an unknown zone falls back to UTC');
});

test('breakdown order: by cost (else tokens) by default, any column on demand, "other" last', () => {
  const rows = [
    { key: 'a', other: false, calls: 5, total_tokens: 10, cost: 1 },
    { key: null, other: true, calls: 50, total_tokens: 1000, cost: 100 },
    { key: 'b', other: false, calls: 1, total_tokens: 20, cost: 3 },
    { key: null, other: false, calls: 2, total_tokens: 30, cost: 2 },
  ];
  const keys = (rs) => rs.map((r) => (r.other ? 'other' : r.key));
  assert.deepEqual(keys(sortBreakdown(rows, { key: null, dir: 1 }, true)), ['b', null, 'a', 'other']);
  assert.deepEqual(keys(sortBreakdown(rows, { key: null, dir: 1 }, false)), [null, 'b', 'a', 'other']);
  assert.deepEqual(keys(sortBreakdown(rows, { key: 'calls', dir: 1 }, true)), ['b', null, 'a', 'other']);
  assert.deepEqual(keys(sortBreakdown(rows, { key: 'key', dir: 1 }, true)), [null, 'a', 'b', 'other']);
  assert.deepEqual(keys(sortBreakdown(rows, { key: 'key', dir: -1 }, true)), ['b', 'a', null, 'other']);
});
