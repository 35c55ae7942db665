// The objects path's JavaScript half (imported by the wasm glue, see
// src/wasm.rs): picks the calls that can matter to a request and writes just
// the fields the rollup reads as JSON text, so that the calls cross into wasm
// in one piece instead of one property at a time.
//
// The pick is a superset of what the rollup uses, so the answer is the one
// the whole list gives: the requested calls; every call of their traces;
// every later copy of a picked id (a later duplicate replaces an earlier
// one); and every call that might be malformed, so its error is reported.
// Liveness (deleted, other project), scope, limit and everything else are
// decided in Rust, exactly as for bytes.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isText = (v) => v === undefined || v === null || typeof v === 'string';

/** Could this call fail validation? (Then the core must see it.) */
function suspect(c) {
  return (
    !isObject(c) ||
    typeof c.toJSON === 'function' ||
    typeof c.id !== 'string' ||
    typeof c.trace_id !== 'string' ||
    !isText(c.parent_id) ||
    !isText(c.project_id) ||
    !isText(c.started_at) ||
    !isText(c.ended_at) ||
    !isText(c.deleted_at) ||
    !(c.summary === undefined || c.summary === null || isObject(c.summary))
  );
}

/** `summary.weave.costs[model]`, reduced to the four fields that are read. */
function costs(map) {
  if (!isObject(map)) return map;
  // No prototype: a model named "__proto__" must stay an ordinary key.
  const out = Object.create(null);
  for (const model of Object.keys(map)) {
    const e = map[model];
    out[model] = isObject(e)
      ? {
          prompt_tokens_total_cost: e.prompt_tokens_total_cost,
          completion_tokens_total_cost: e.completion_tokens_total_cost,
          cache_read_input_tokens_total_cost: e.cache_read_input_tokens_total_cost,
          cache_creation_input_tokens_total_cost: e.cache_creation_input_tokens_total_cost,
        }
      : e;
  }
  return out;
}

/** A call reduced to what the rollup reads (a suspect one is kept whole). */
function project(c) {
  if (suspect(c)) return c;
  const s = c.summary;
  return {
    id: c.id,
    trace_id: c.trace_id,
    parent_id: c.parent_id,
    project_id: c.project_id,
    started_at: c.started_at,
    ended_at: c.ended_at,
    deleted_at: c.deleted_at,
    summary: isObject(s) ? { usage: s.usage, weave: isObject(s.weave) ? { costs: costs(s.weave.costs) } : s.weave } : s,
  };
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string: the engine's encoder beats wasm-bindgen's
 * character-by-character copy of long strings several times over. */
export function utf8(text) {
  return encoder.encode(text);
}

/**
 * `[json, indices]`: the picked calls as a JSON array in UTF-8 bytes, and
 * each one's index in `calls` (`null` when every call was picked), for error
 * locations. `callIds` null picks every call.
 */
export function selectCalls(calls, callIds) {
  // /trace/usage: every call may be in scope.
  if (callIds === null) return [utf8(JSON.stringify(calls.map(project))), null];
  const n = calls.length;
  const wanted = new Set(callIds);
  // 1 = picked. Suspects first, with the traces of the requested calls.
  const picked = new Uint8Array(n);
  const traces = new Set();
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    if (suspect(c)) picked[i] = 1;
    else if (wanted.has(c.id)) traces.add(c.trace_id);
  }
  // Every call of those traces (the requested ones included).
  const ids = new Set();
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    if (!picked[i] && traces.has(c.trace_id)) {
      picked[i] = 1;
      ids.add(c.id);
    }
  }
  // Other copies of a picked id: a later one replaces it.
  if (ids.size > 0) {
    for (let i = 0; i < n; i++) if (!picked[i] && ids.has(calls[i].id)) picked[i] = 1;
  }
  const out = [];
  const indices = [];
  for (let i = 0; i < n; i++) {
    if (picked[i]) {
      out.push(project(calls[i]));
      indices.push(i);
    }
  }
  return [utf8(JSON.stringify(out)), indices.length === n ? null : Uint32Array.from(indices)];
}
