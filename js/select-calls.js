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
const enumerable = Object.prototype.propertyIsEnumerable;
/** `o[k]` as JSON.stringify sees it: own enumerable properties only (not
 * inherited ones, e.g. from a polluted Object.prototype or `{__proto__: …}`). */
const own = (o, k) => (enumerable.call(o, k) ? o[k] : undefined);
/** An id as the core will read it: a lone surrogate (not Unicode) becomes
 * U+FFFD on the way into UTF-8, so the pick must match ids that way too. */
const usv = (s) => (typeof s !== 'string' || s.isWellFormed === undefined || s.isWellFormed() ? s : s.toWellFormed());

/** Could this call fail validation? (Then the core must see it.) */
function suspect(c) {
  return (
    !plain(c) ||
    typeof own(c, 'id') !== 'string' ||
    typeof own(c, 'trace_id') !== 'string' ||
    !isText(own(c, 'parent_id')) ||
    !isText(own(c, 'project_id')) ||
    !isText(own(c, 'started_at')) ||
    !isText(own(c, 'ended_at')) ||
    !isText(own(c, 'deleted_at')) ||
    !(own(c, 'summary') === undefined || own(c, 'summary') === null || plain(own(c, 'summary')))
  );
}

const USAGE_FIELDS = ['requests', 'prompt_tokens', 'input_tokens', 'completion_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];
const COST_FIELDS = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];

// Everything but the fields that are read is cut away before
// JSON.stringify, which throws on deep nesting (V8: past a few thousand
// levels) and would copy junk for nothing. Each cut keeps the meaning: the
// reader treats a replacement exactly as what it replaces.

/** An object JSON.stringify writes as its own keys: not an array, no
 * toJSON, not a boxed primitive (those are written as what they hold). */
const plain = (v) =>
  isObject(v) && typeof v.toJSON !== 'function' && !(v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt);

/** A counter or cost: an array or object reads as 0 but is recorded as
 * unreadable (`options.diagnostics`), so it becomes an empty one of the
 * same JSON type, not null (which is readable). */
const scalar = (v) => (Array.isArray(v) ? [] : plain(v) ? {} : v);

/** A call's field: a string or null is read; anything else is refused by
 * its JSON type alone, so an empty stand-in of that type will do. */
const field = (v) => (Array.isArray(v) ? [] : plain(v) ? {} : v);

/** `summary.usage` or `summary.weave.costs`: model → entry reduced to the
 * fields read. An entry that is not an object is skipped (usage) or costs
 * nothing (costs), as null is; so is a map that is not an object. */
function byModel(map, fields) {
  if (!plain(map)) return Array.isArray(map) ? null : map;
  // No prototype: a model named "__proto__" must stay an ordinary key.
  const out = Object.create(null);
  for (const model of Object.keys(map)) {
    const e = map[model];
    if (plain(e)) {
      const entry = {};
      for (const f of fields) entry[f] = scalar(own(e, f));
      out[model] = entry;
    } else {
      out[model] = Array.isArray(e) ? null : e;
    }
  }
  return out;
}

/** A call reduced to what the rollup reads (JSON.stringify drops the
 * undefined members, as it would have dropped the absent ones). A value
 * that is not a plain object is kept as it is (an array as an empty one):
 * it is refused anyway, or its toJSON decides what is sent. */
function project(c) {
  if (!plain(c)) return Array.isArray(c) ? [] : c;
  const s = own(c, 'summary');
  let summary = field(s);
  if (plain(s)) {
    const w = own(s, 'weave');
    summary = { usage: byModel(own(s, 'usage'), USAGE_FIELDS), weave: plain(w) ? { costs: byModel(own(w, 'costs'), COST_FIELDS) } : scalar(w) };
  }
  return {
    id: field(own(c, 'id')),
    trace_id: field(own(c, 'trace_id')),
    parent_id: field(own(c, 'parent_id')),
    project_id: field(own(c, 'project_id')),
    started_at: field(own(c, 'started_at')),
    ended_at: field(own(c, 'ended_at')),
    deleted_at: field(own(c, 'deleted_at')),
    summary,
  };
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string: the engine's encoder beats wasm-bindgen's
 * character-by-character copy of long strings several times over. */
export function utf8(text) {
  return encoder.encode(text);
}

// The engine's own accessors, which no own property of a caller's object
// can shadow: they answer for genuine typed arrays and buffers only.
const TypedArray = Object.getPrototypeOf(Uint8Array);
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const viewBuffer = getter(TypedArray.prototype, 'buffer');
const viewOffset = getter(TypedArray.prototype, 'byteOffset');
const viewLength = getter(TypedArray.prototype, 'byteLength');
const bufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const isBuffer = (v) => {
  try {
    bufferLength.call(v);
    return true;
  } catch {
    return false;
  }
};

/**
 * A body (or chunk) as a Uint8Array made here, whose length is what it
 * holds: a string as UTF-8, a Uint8Array's bytes, an ArrayBuffer's bytes;
 * null for anything else. Whatever a hostile value throws (a detached
 * buffer, a revoked proxy) is thrown here, where the caller catches it,
 * never inside wasm.
 */
export function bodyBytes(body) {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return new Uint8Array(viewBuffer.call(body), viewOffset.call(body), viewLength.call(body));
  if (isBuffer(body)) return new Uint8Array(body);
  return null;
}

/**
 * `[json, indices]`: the picked calls as a JSON array in UTF-8 bytes, and
 * each one's index in `calls` (`null` when every call was picked), for error
 * locations; `null` if `calls` is not an array. `callIds` null picks every
 * call (/trace/usage: every call may be in scope).
 */
export function selectCalls(calls, callIds) {
  if (!Array.isArray(calls)) return null;
  if (callIds === null) return [utf8(JSON.stringify(calls.map(project))), null];
  const n = calls.length;
  // The request's ids as the core validated them (so already Unicode).
  const wanted = new Set(callIds);
  // 1 = picked. Suspects first, with the traces of the requested calls.
  const picked = new Uint8Array(n);
  const traces = new Set();
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    if (suspect(c)) picked[i] = 1;
    else if (wanted.has(usv(c.id))) traces.add(usv(c.trace_id));
  }
  // Every call of those traces (the requested ones included).
  const ids = new Set();
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    if (!picked[i] && traces.has(usv(c.trace_id))) {
      picked[i] = 1;
      ids.add(usv(c.id));
    }
  }
  // Other copies of a picked id: a later one replaces it.
  if (ids.size > 0) {
    for (let i = 0; i < n; i++) if (!picked[i] && ids.has(usv(calls[i].id))) picked[i] = 1;
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
