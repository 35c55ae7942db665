// The plain-JavaScript peer of `usageStatsFromJson` for the benchmark: the
// same stats (docs/stats.md) as a dashboard author who cares about speed
// would write them, for the requests the benchmark makes (UTC or a fixed
// offset; hour or day buckets; group_by any of model and op_name; no
// limit, filters or prices).
//
// Design: JSON.parse per line (bench/baseline.mjs's parseJsonl, the
// fastest way to objects in JavaScript), reading only the fields the stats
// need; then, over the live calls (not deleted, of the project or none, the
// last of several with one id):
// - each call's own usage as bench/baseline.mjs reads it (ownUsage);
// - the dedupe rule: a call whose own usage covers the sum of its children's
//   own usage (every model of the sum its own, each token counter at least
//   as large; some child with usage) counts its own usage less that sum;
//   any other call its own usage (the generated traces have no cycles, so
//   every child is rolled up into its parent);
// - a bucket by integer division of the started_at instant (ms) shifted by
//   the offset; a group key string (bucket, op NAME, model) into a Map of
//   sums (tokens as numbers: the generated counts are far below 2^53).
// Its answer is compared with the module's (`canonical` below) by the
// benchmark, as bench/scanner-check.mjs compares the byte scanner's.
import { parseJsonl, ownUsage } from './baseline.mjs';

const UNIT = { hour: 3_600_000, day: 86_400_000 };
const OP = /^weave:\/\/\/[^/]*\/[^/]*\/op\/(.*):[^:]*$/;

/** `NAME` of `weave:///entity/project/op/NAME:digest`. */
const opName = (op) => (typeof op === 'string' ? (OP.exec(op)?.[1] ?? op) : null);

/** Minutes east of UTC of "UTC" or "+05:30". */
function offset(tz) {
  if (tz === 'UTC') return 0;
  const m = /^([+-])(\d\d):(\d\d)$/.exec(tz);
  if (!m) throw new Error(`the JS peer takes UTC or a fixed offset, not ${tz}`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** JSON Lines bytes → the stats as `canonical` lists them. */
export function statsFromBytes(bytes, request) {
  return stats(parseJsonl(bytes), request);
}

/** The stats of parsed calls, as `canonical` lists them: usage and call
 * rows keyed by bucket start (ms), op NAME and model (null when not
 * grouped), without empty rows. */
export function stats(calls, { project_id, granularity = 'day', timezone = 'UTC', group_by = [], include_costs = false }) {
  const unit = UNIT[granularity];
  const shift = offset(timezone) * 60_000;
  const byModel = group_by.includes('model');
  const byOp = group_by.includes('op_name');
  const live = new Map();
  for (const c of calls) {
    if (c.deleted_at != null || (c.project_id != null && c.project_id !== project_id)) continue;
    live.delete(c.id);
    live.set(c.id, c);
  }
  const own = new Map();
  const children = new Map();
  for (const c of live.values()) {
    own.set(c.id, ownUsage(c, include_costs));
    if (c.parent_id && live.has(c.parent_id) && c.parent_id !== c.id) {
      const list = children.get(c.parent_id);
      if (list) list.push(c.id);
      else children.set(c.parent_id, [c.id]);
    }
  }
  const usageRows = new Map();
  const callRows = new Map();
  for (const c of live.values()) {
    const t = typeof c.started_at === 'string' ? Date.parse(c.started_at) : NaN;
    if (Number.isNaN(t)) continue;
    const bucket = Math.floor((t + shift) / unit) * unit - shift;
    const op = byOp ? opName(c.op_name) : null;
    const mine = exclusive(own.get(c.id), children.get(c.id), own);
    const callKey = `${bucket}\u0000${op}`;
    let row = callRows.get(callKey);
    if (!row) callRows.set(callKey, (row = { bucket, op, calls: 0, errors: 0, unfinished: 0, requests: 0 }));
    row.calls++;
    if (c.exception != null) row.errors++;
    if (c.ended_at == null) row.unfinished++;
    for (const [model, u] of mine) {
      row.requests += u.t[0];
      const m = byModel ? model : null;
      const key = `${callKey}\u0000${m}`;
      let r = usageRows.get(key);
      if (!r) usageRows.set(key, (r = { bucket, op, model: m, t: [0, 0, 0, 0, 0, 0], c: [0, 0, 0, 0] }));
      for (let k = 0; k < 6; k++) r.t[k] += u.t[k];
      for (let k = 0; k < 4; k++) r.c[k] += u.c[k];
    }
  }
  return canonicalRows([...usageRows.values()], [...callRows.values()]);
}

/** A call's own usage less its children's when it covers them. */
function exclusive(mine, kids, own) {
  if (!kids || mine.size === 0) return mine;
  const sum = new Map();
  for (const k of kids) {
    for (const [model, u] of own.get(k)) {
      if (!mine.has(model)) return mine;
      const s = sum.get(model);
      if (!s) sum.set(model, { t: [...u.t], c: [...u.c] });
      else {
        for (let i = 0; i < 6; i++) s.t[i] += u.t[i];
        for (let i = 0; i < 4; i++) s.c[i] += u.c[i];
      }
    }
  }
  if (sum.size === 0) return mine;
  for (const [model, s] of sum) if (mine.get(model).t.some((v, i) => v < s.t[i])) return mine;
  const out = new Map();
  for (const [model, u] of mine) {
    const s = sum.get(model);
    out.set(model, s ? { t: u.t.map((v, i) => v - s.t[i]), c: u.c.map((v, i) => v - s.c[i]) } : u);
  }
  return out;
}

/** Rows in one order, without empty ones: for comparing answers. */
function canonicalRows(usage, calls) {
  const key = (r) => `${r.bucket}\u0000${r.op}\u0000${r.model ?? ''}`;
  return {
    usage: usage.filter((r) => r.t.some((v) => v !== 0)).sort((a, b) => (key(a) < key(b) ? -1 : 1)),
    calls: calls.filter((r) => r.calls > 0).sort((a, b) => (key(a) < key(b) ? -1 : 1)),
  };
}

/** The module's answer (a UsageStatsRes) listed as `stats` lists its own. */
export function canonical(res) {
  const usage = res.usage_buckets.map((r) => ({
    bucket: Date.parse(r.timestamp),
    op: r.op_name ?? null,
    model: r.model ?? null,
    t: ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'].map((k) => r[k]),
    c: ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'].map((k) => r[k] ?? 0),
  }));
  const calls = res.call_buckets.map((r) => ({ bucket: Date.parse(r.timestamp), op: r.op_name ?? null, calls: r.call_count, errors: r.error_count, unfinished: r.unfinished_count, requests: r.requests }));
  return canonicalRows(usage, calls);
}
