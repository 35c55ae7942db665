// The stats panel's data, pure: the two usageStats requests the page asks
// (a timeline by model, a breakdown by one dimension) and their answers
// turned into what timeline.js and breakdown.js draw.
import { costOf } from './table.js';

/** The dimensions a breakdown can use: the stats key and its label. */
export const DIMENSIONS = [
  { key: 'op_name', label: 'Op' },
  { key: 'root_op_name', label: 'Root op' },
  { key: 'wb_user_id', label: 'User' },
  { key: 'thread_id', label: 'Thread' },
];

/** Groups a breakdown lists before the rest are summed into "other". */
export const TOP = 15;

/** The requests for `project` with the panel's settings. */
export function statsRequests({ project, granularity, timeZone, breakdown, includeCosts }) {
  const common = { project_id: project, timezone: timeZone, include_costs: includeCosts };
  return {
    timeline: { ...common, granularity, group_by: ['model'] },
    // One bucket per month: the breakdown sums them.
    breakdown: { ...common, granularity: 'month', group_by: [breakdown], limit: TOP },
  };
}

/** A usage row's cost (null without costs). */
function rowCost(r, includeCosts) {
  return includeCosts ? costOf(r) : null;
}

/**
 * The timeline answer as the chart's input: the bucket starts, and per
 * model its value (cost, or total tokens) in each bucket.
 */
export function timelineSeries(res, measure) {
  const buckets = [];
  const index = new Map();
  for (const r of [...res.call_buckets, ...res.usage_buckets]) {
    if (!index.has(r.timestamp)) {
      index.set(r.timestamp, buckets.length);
      buckets.push(r.timestamp);
    }
  }
  // Answers list buckets in time order; rows of one bucket may interleave.
  const order = buckets.map((b, i) => [Date.parse(b), i]).sort((a, b) => a[0] - b[0]);
  const sorted = order.map(([, i]) => buckets[i]);
  const at = new Map(sorted.map((b, i) => [b, i]));
  const stacks = new Map();
  for (const r of res.usage_buckets) {
    const model = r.model ?? '(other models)';
    if (!stacks.has(model)) stacks.set(model, new Array(sorted.length).fill(0));
    stacks.get(model)[at.get(r.timestamp)] += measure === 'cost' ? costOf(r) : r.total_tokens;
  }
  return { buckets: sorted, stacks };
}

/** Which measure the timeline shows: cost when costs were asked for and any is non-zero. */
export function timelineMeasure(res, includeCosts) {
  return includeCosts && res.usage_buckets.some((r) => costOf(r) > 0) ? 'cost' : 'tokens';
}

/**
 * The breakdown answer as table rows, summed over its buckets: one per
 * group (`key` null for calls without the field), "other" last.
 */
export function breakdownRows(res, dimension, includeCosts) {
  const groups = new Map();
  const group = (r) => {
    const id = r.other ? '\u0000other' : JSON.stringify(r[dimension] ?? null);
    if (!groups.has(id)) groups.set(id, { key: r.other ? null : r[dimension] ?? null, other: !!r.other, calls: 0, errors: 0, unfinished: 0, requests: 0, total_tokens: 0, cost: includeCosts ? 0 : null });
    return groups.get(id);
  };
  for (const r of res.call_buckets) {
    const g = group(r);
    g.calls += r.call_count;
    g.errors += r.error_count;
    g.unfinished += r.unfinished_count;
    g.requests += r.requests;
  }
  for (const r of res.usage_buckets) {
    const g = group(r);
    g.total_tokens += r.total_tokens;
    if (includeCosts) g.cost += rowCost(r, includeCosts);
  }
  return [...groups.values()];
}
