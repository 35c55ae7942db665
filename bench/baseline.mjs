// The plain-JavaScript rollup the library replaces: what a dashboard author
// would write for the same semantics (JSON.parse per line, Maps, a bottom-up
// queue). The benchmark compares against it and checks both agree.

export const TOKEN_FIELDS = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];
export const COST_FIELDS = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];

const toInt = (v) => (typeof v === 'number' ? (Number.isFinite(v) ? Math.trunc(v) : 0) : typeof v === 'boolean' ? +v : typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v) ? parseInt(v.replace(/_/g, ''), 10) : 0);
const toFloat = (v) => (typeof v === 'number' ? v : typeof v === 'boolean' ? +v : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v.replace(/_/g, ''))) ? Number(v.replace(/_/g, '')) : 0);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** JSON Lines bytes → calls: decoded 16 MB at a time (a whole 1.5 GB body
 * is beyond V8's longest string), one JSON.parse per line. */
export function parseJsonl(bytes) {
  const calls = [];
  const decoder = new TextDecoder();
  let carry = '';
  const step = 16 << 20;
  for (let at = 0; at < bytes.length; at += step) {
    const text = carry + decoder.decode(bytes.subarray(at, at + step), { stream: at + step < bytes.length });
    const lines = text.split('\n');
    carry = lines.pop();
    for (const line of lines) if (line.trim()) calls.push(JSON.parse(line));
  }
  if (carry.trim()) calls.push(JSON.parse(carry));
  return calls;
}

export function ownUsage(call, includeCosts) {
  const out = new Map();
  const usage = call.summary?.usage;
  if (!isObj(usage)) return out;
  const costs = includeCosts && isObj(call.summary.weave) ? call.summary.weave.costs : undefined;
  for (const [model, u] of Object.entries(usage)) {
    if (!isObj(u)) continue;
    const t = [toInt(u.requests), toInt(u.prompt_tokens) + toInt(u.input_tokens), toInt(u.completion_tokens) + toInt(u.output_tokens), toInt(u.total_tokens), toInt(u.cache_read_input_tokens), toInt(u.cache_creation_input_tokens)];
    if (t[3] === 0) t[3] = t[1] + t[2];
    const entry = isObj(costs) && isObj(costs[model]) ? costs[model] : {};
    const c = includeCosts ? COST_FIELDS.map((f) => toFloat(entry[f])) : [0, 0, 0, 0];
    if (t.some((x) => x !== 0) || c.some((x) => x !== 0)) out.set(model, { t, c });
  }
  return out;
}

/** The /calls/usage response for `calls` (objects). */
export function rollup(calls, { project_id, call_ids, include_costs = false, limit = 10000 }) {
  const requested = [...new Set(call_ids)];
  if (requested.length === 0) return { call_usage: {}, unfinished_call_ids: [] };
  const live = new Map();
  for (const c of calls) {
    if (c.deleted_at != null || (c.project_id != null && c.project_id !== project_id)) continue;
    live.delete(c.id); // a later duplicate replaces the earlier one
    live.set(c.id, c);
  }
  const traces = new Set();
  for (const id of requested) if (live.has(id)) traces.add(live.get(id).trace_id);
  if (traces.size === 0) return { call_usage: Object.fromEntries(requested.map((id) => [id, {}])), unfinished_call_ids: [] };

  const instant = new Map();
  const scope = [];
  for (const c of live.values()) {
    if (!traces.has(c.trace_id)) continue;
    const t = typeof c.started_at === 'string' ? Date.parse(c.started_at) : NaN;
    // Date.parse keeps milliseconds; add the microseconds it drops.
    const micros = /\.\d{3}(\d{1,3})/.exec(c.started_at ?? '');
    instant.set(c, Number.isNaN(t) ? Infinity : t * 1000 + (micros ? Number(micros[1].padEnd(3, '0')) : 0));
    scope.push(c);
  }
  scope.sort((a, b) => instant.get(a) - instant.get(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  scope.length = Math.min(scope.length, limit);

  const byId = new Map(scope.map((c) => [c.id, c]));
  const pending = new Map(scope.map((c) => [c.id, 0]));
  for (const c of scope) if (c.parent_id && byId.has(c.parent_id)) pending.set(c.parent_id, pending.get(c.parent_id) + 1);
  const usage = new Map(scope.map((c) => [c.id, ownUsage(c, include_costs)]));
  const queue = scope.filter((c) => pending.get(c.id) === 0).map((c) => c.id);
  for (let i = 0; i < queue.length; i++) {
    const c = byId.get(queue[i]);
    if (!c.parent_id || !byId.has(c.parent_id)) continue;
    const into = usage.get(c.parent_id);
    for (const [model, u] of usage.get(c.id)) {
      const acc = into.get(model);
      if (!acc) into.set(model, { t: [...u.t], c: [...u.c] });
      else {
        for (let k = 0; k < 6; k++) acc.t[k] += u.t[k];
        for (let k = 0; k < 4; k++) acc.c[k] += u.c[k];
      }
    }
    const left = pending.get(c.parent_id) - 1;
    pending.set(c.parent_id, left);
    if (left === 0) queue.push(c.parent_id);
  }

  const call_usage = {};
  for (const id of requested) {
    const models = {};
    for (const [model, u] of usage.get(id) ?? []) {
      const entry = {};
      TOKEN_FIELDS.forEach((f, k) => (entry[f] = u.t[k]));
      COST_FIELDS.forEach((f, k) => (entry[f] = include_costs ? u.c[k] : null));
      Object.defineProperty(models, model, { value: entry, enumerable: true, writable: true, configurable: true });
    }
    Object.defineProperty(call_usage, id, { value: models, enumerable: true, writable: true, configurable: true });
  }
  const unfinished = [...new Set(scope.filter((c) => c.ended_at == null).map((c) => c.id))].sort();
  return { call_usage, unfinished_call_ids: unfinished };
}
