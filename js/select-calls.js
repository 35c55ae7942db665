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
//
// A call the fast check passed is written compact, as an array of its
// fields (`compact`; the core reads that form only from here), naming an
// earlier call instead of repeating a trace, parent or project id (`once`);
// any other as an object reduced to the fields read (`loose`), so that the
// core reports its errors as for a body.
//
// Where the time goes (Chromium 156, 100k calls, 100 roots whose traces
// hold 6,240 calls, a settled heap as the benchmark runs it; medians in ms
// on the 2-core AMD EPYC VM of the README's table, where the plain-JS
// rollup takes ~100 on the same calls): the first pass checks every call
// and sketches its ids (27–33: each call and seven of its values read from
// memory; alone, a loop that checks the seven fields' types takes 8, the
// ids' enumerability 3, and sketching both ids 15); passes two and three
// pick the traces' calls and later copies of their ids through the
// sketches (6.5); the picked are made compact (12–13) and stringified (6,
// 0.91 MB); wasm encodes (3), reads and rolls them up and answers (12–13),
// and the answer is parsed (1). The rollup checks nothing, and the check
// alone is a third of its time. What was slower and was replaced, each
// exactly: reading fields through `own` (a runtime call per field) where
// for-in or plain reads will do, `propertyIsEnumerable` for the ids
// (`idsEnumerable`), a Set lookup per id (`sketch`; Set lookups in passes
// two and three instead, which read each call again, were 54–61 against
// 48–50 for the whole pick), `usv` on every string, objects with keys for
// the picked calls (`compact`: 40% less text, and 42% less again by `once`
// and by sending a string `ended_at` as ""), a lookup table by field name
// for entries (`usageList`), prototype-less model maps (`byModel`), and a
// JS copy of the text (`encodeSlice`). A byte writer in JS instead of
// JSON.stringify was twice as slow; fewer characters per sketch saved
// nothing (the pass waits on memory, not on arithmetic).

const ObjectProto = Object.prototype;
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

/**
 * An entry as a compact call sends it: the list of its USAGE_FIELDS (or
 * COST_FIELDS) in order, null for an absent one. The fields of an ordinary
 * object are found by one for-in (its own enumerable keys, as the
 * prototype is clean: see `directReads`), each key told by a switch: for-in
 * gives internalized strings, so each case is a pointer comparison. (A
 * lookup table keyed by field name was a hash lookup per key: with the 22
 * keys of a Weave cost entry, the cost maps of the benchmark's 2,644 picked
 * LLM calls took 9.5 ms in Node against 7.1 now.) Other objects go through
 * `own`, a runtime call per field.
 */
function usageList(e) {
  if (Object.getPrototypeOf(e) !== ObjectProto) return USAGE_FIELDS.map((f) => scalar(own(e, f)));
  let requests = null, prompt = null, input = null, completion = null, output = null, total = null, cacheRead = null, cacheCreation = null;
  for (const k in e) {
    switch (k) {
      case 'requests': requests = e.requests; break;
      case 'prompt_tokens': prompt = e.prompt_tokens; break;
      case 'input_tokens': input = e.input_tokens; break;
      case 'completion_tokens': completion = e.completion_tokens; break;
      case 'output_tokens': output = e.output_tokens; break;
      case 'total_tokens': total = e.total_tokens; break;
      case 'cache_read_input_tokens': cacheRead = e.cache_read_input_tokens; break;
      case 'cache_creation_input_tokens': cacheCreation = e.cache_creation_input_tokens; break;
    }
  }
  return [scalar(requests), scalar(prompt), scalar(input), scalar(completion), scalar(output), scalar(total), scalar(cacheRead), scalar(cacheCreation)];
}

/** `usageList` for a cost entry. */
function costList(e) {
  if (Object.getPrototypeOf(e) !== ObjectProto) return COST_FIELDS.map((f) => scalar(own(e, f)));
  let prompt = null, completion = null, cacheRead = null, cacheCreation = null;
  for (const k in e) {
    switch (k) {
      case 'prompt_tokens_total_cost': prompt = e.prompt_tokens_total_cost; break;
      case 'completion_tokens_total_cost': completion = e.completion_tokens_total_cost; break;
      case 'cache_read_input_tokens_total_cost': cacheRead = e.cache_read_input_tokens_total_cost; break;
      case 'cache_creation_input_tokens_total_cost': cacheCreation = e.cache_creation_input_tokens_total_cost; break;
    }
  }
  return [scalar(prompt), scalar(completion), scalar(cacheRead), scalar(cacheCreation)];
}

const entryObject = (fields) => (e) => {
  const out = {};
  for (const f of fields) out[f] = scalar(own(e, f));
  return out;
};
const usageObject = entryObject(USAGE_FIELDS);
const costObject = entryObject(COST_FIELDS);

// Everything but the fields that are read is cut away before
// JSON.stringify, which throws on deep nesting (V8: past a few thousand
// levels) and would copy junk for nothing. Each cut keeps the meaning: the
// reader treats a replacement exactly as what it replaces.

/** An object JSON.stringify writes as its own keys: not an array, no
 * toJSON, not a boxed primitive (those are written as what they hold). */
const plain = (v) =>
  typeof v === 'object' &&
  v !== null &&
  typeof v.toJSON !== 'function' &&
  // Most are ordinary objects: then neither an array nor a boxed primitive.
  (Object.getPrototypeOf(v) === ObjectProto || !(Array.isArray(v) || v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt));

/** A counter or cost: an array or object reads as 0 but is recorded as
 * unreadable (`options.diagnostics`), so it becomes an empty one of the
 * same JSON type, not null (which is readable). */
const scalar = (v) => (Array.isArray(v) ? [] : plain(v) ? {} : v);

/** A call's field: a string or null is read; anything else is refused by
 * its JSON type alone, so an empty stand-in of that type will do. */
const field = (v) => (Array.isArray(v) ? [] : plain(v) ? {} : v);

/** `summary.usage` or `summary.weave.costs`: model → entry reduced to the
 * fields read. An entry that is not an object is skipped (usage) or costs
 * nothing (costs), as null is; so is a map that is not an object. For a
 * compact call, NOT_COMPACT if the map or an entry is `opaque`: `entry`
 * makes a list, which such an object must not become. */
function byModel(map, entry, compact = false) {
  if (!plain(map)) return Array.isArray(map) ? null : compact && opaque(map) ? NOT_COMPACT : map;
  // An ordinary object (JSON.stringify writes one made by Object.create(null)
  // twice as slowly), where a model named "__proto__" is defined, not set,
  // so that it stays an ordinary key.
  const out = {};
  for (const model of Object.keys(map)) {
    const e = map[model];
    let value;
    if (plain(e)) {
      value = entry(e);
    } else if (compact && opaque(e)) {
      return NOT_COMPACT;
    } else {
      value = Array.isArray(e) ? null : e;
    }
    if (model === '__proto__') Object.defineProperty(out, model, { value, enumerable: true, writable: true, configurable: true });
    else out[model] = value;
  }
  return out;
}

/** Whether JSON.stringify may write `v` as an object. */
const mapLike = (v) => typeof v === 'object' && v !== null;

/** An object JSON.stringify writes otherwise than as its own keys: one with
 * a toJSON, a boxed primitive (not an array). */
const opaque = (v) => mapLike(v) && !Array.isArray(v) && !plain(v);

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
    const usage = byModel(own(s, 'usage'), usageObject);
    // A `weave` with a toJSON is sent as it gives itself.
    const weave = plain(w) ? { costs: byModel(own(w, 'costs'), costObject) } : scalar(w);
    // A summary where nothing can be a usage or costs map (most calls are
    // not LLM calls) reads as no summary: leave it out of the text.
    summary = mapLike(usage) || mapLike(plain(w) ? weave.costs : weave) ? { usage, weave } : undefined;
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

const NOT_COMPACT = Symbol('not compact');

/**
 * A call that passed `wellFormed`, in the compact form the core reads for
 * the objects path (see `compact_calls` in src/table.rs): `[id, trace_id,
 * parent_id, project_id, started_at, ended_at, deleted_at, usage, costs]`,
 * entries as arrays of their fields. No keys: the text is 40% shorter, and
 * arrays are quicker to build, write and read. An absent optional field is
 * null here, which reads the same; a string `ended_at` or `deleted_at` is
 * sent as "" (the core reads only whether a string is there; a tenth of
 * the text less). NOT_COMPACT (see `byModel`) sends the call as `loose`
 * makes it instead.
 *
 * Its fields, and the summary's, are found by for-in, as in `usageList`:
 * `wellFormed` passed, so the call's prototype is clean for every name read.
 */
function compact(c, sent, at) {
  let parent, project, started, ended, deleted, s;
  for (const k in c) {
    switch (k) {
      case 'parent_id':
        parent = c.parent_id;
        break;
      case 'project_id':
        project = c.project_id;
        break;
      case 'started_at':
        started = c.started_at;
        break;
      case 'ended_at':
        ended = c.ended_at;
        break;
      case 'deleted_at':
        deleted = c.deleted_at;
        break;
      case 'summary':
        s = c.summary;
        break;
    }
  }
  let usage = null;
  let costs = null;
  if (plain(s)) {
    const w = member(s, 'weave');
    if (opaque(w)) return NOT_COMPACT;
    usage = byModel(member(s, 'usage'), usageList, true) ?? null;
    if (plain(w)) costs = byModel(member(w, 'costs'), costList, true) ?? null;
    if (usage === NOT_COMPACT || costs === NOT_COMPACT) return NOT_COMPACT;
  }
  const id = c.id;
  const trace = c.trace_id;
  // A number in these places stands for an earlier call: a getter that
  // gives other than text now (`wellFormed` saw text) goes as `loose` sends it.
  if (!isText(trace) || !isText(parent) || !isText(project)) return NOT_COMPACT;
  // Its parent is an earlier call (not itself: a call is its own parent on a cycle).
  const parentAt = sent.ids.get(parent) ?? parent;
  if (!sent.ids.has(id)) sent.ids.set(id, at);
  return [id, once(sent.traces, trace, at), parentAt, once(sent.projects, project, at), started, present(ended), present(deleted), usage, costs];
}

/**
 * Where the compact calls of one text sent their ids, trace ids and project
 * ids (string → index in the text). A trace or project id sent before is
 * sent again as that index, and so is a parent id that is an earlier call's
 * id (the core reads them back: `text_or_earlier` in src/table.rs): each
 * such string crosses once (with `present`, the text 42% shorter).
 */
const newSent = () => ({ ids: new Map(), traces: new Map(), projects: new Map() });

/** `v` for a compact call at index `at`: the index where the same string
 * was sent, or `v` itself (noted, if a string). */
function once(seen, v, at) {
  if (typeof v !== 'string') return v;
  const earlier = seen.get(v);
  if (earlier !== undefined) return earlier;
  seen.set(v, at);
  return v;
}

/** `o[name]` as JSON.stringify sees it, for an object `plain` passed, in a
 * call `wellFormed` passed: by for-in when its prototype is Object.prototype
 * (clean for every name read, or no call is checked), else by `own`. */
function member(o, name) {
  if (Object.getPrototypeOf(o) !== ObjectProto) return own(o, name);
  for (const k in o) if (k === name) return o[name];
  return undefined;
}

/** `ended_at` or `deleted_at` as the compact form sends it: "" for any
 * string; anything else as it is (null, or what the core will refuse). */
const present = (v) => (typeof v === 'string' ? '' : v);

/** A call that is not compact, reduced as `project` reduces it, but never a
 * JSON array: the core would take that for a compact call. Every array (or
 * toJSON giving one) is refused alike as "not a dictionary", so 0 stands in. */
function loose(c) {
  const v = project(c);
  if (Array.isArray(v)) return 0;
  if (!opaque(v)) return v;
  // A call with a toJSON, or a boxed primitive: what JSON.stringify makes of it.
  const text = JSON.stringify(v);
  return text === undefined ? null : text.startsWith('[') ? 0 : JSON.parse(text);
}

/** A picked call as it crosses, at index `at` of the text; `checked`: it
 * passed `wellFormed`. */
function wire(c, checked, sent, at) {
  const v = checked ? compact(c, sent, at) : NOT_COMPACT;
  return v === NOT_COMPACT ? loose(c) : v;
}

const encoder = new TextEncoder();

/**
 * UTF-8 of `text` from UTF-16 index `from`, written by the engine's encoder
 * straight into `into` (a view of wasm memory), as much as fits and never
 * part of a character: `[read, written]`. A string thus crosses a slice at a
 * time with no copy of it in between (wasm-bindgen's own string passing goes
 * character by character, several times slower on long strings); a lone
 * surrogate becomes U+FFFD, as TextEncoder makes it.
 */
export function encodeSlice(text, from, into) {
  const { read, written } = encoder.encodeInto(from === 0 ? text : text.substring(from), into);
  return [read, written];
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
 * holds: a Uint8Array's bytes, an ArrayBuffer's bytes; null for anything
 * else (a string is encoded by `encodeSlice`). Whatever a hostile value
 * throws (a detached buffer, a revoked proxy) is thrown here, where the
 * caller catches it, never inside wasm.
 */
export function bodyBytes(body) {
  if (body instanceof Uint8Array) return new Uint8Array(viewBuffer.call(body), viewOffset.call(body), viewLength.call(body));
  if (isBuffer(body)) return new Uint8Array(body);
  return null;
}

// The fast check. Looking at every call through `own` costs a builtin call
// per field, and the calls of a 100k list are mostly ordinary objects off
// JSON.parse: for those, plain property reads tell the same story.

const DIRECT = ['id', 'trace_id', 'parent_id', 'project_id', 'started_at', 'ended_at', 'deleted_at', 'summary', 'toJSON', 'weave', 'usage', 'costs', ...USAGE_FIELDS, ...COST_FIELDS];

/** Whether a field of an object whose prototype is Object.prototype can be
 * read directly (the call's, its summary's, its entries'): true unless
 * Object.prototype itself holds one of them (a polluted prototype), when
 * every call takes the long way (`suspect`, `loose`). */
const directReads = () => DIRECT.every((k) => !(k in ObjectProto));

/**
 * A call that certainly passes validation, told by direct reads; false
 * means "look closer" (`suspect`), never "malformed". With a clean
 * Object.prototype, a field read on an object made from it is its own
 * property or absent, so a string `id` here is a string `id` to
 * JSON.stringify if it is enumerable (checked, for the two required
 * fields); an optional field that is not enumerable is absent to
 * JSON.stringify, which is just as valid.
 */
function wellFormed(c) {
  if (typeof c !== 'object' || c === null || Object.getPrototypeOf(c) !== ObjectProto) return false;
  const s = c.summary;
  return (
    typeof c.id === 'string' &&
    typeof c.trace_id === 'string' &&
    isText(c.parent_id) &&
    isText(c.project_id) &&
    isText(c.started_at) &&
    isText(c.ended_at) &&
    isText(c.deleted_at) &&
    (s === undefined || s === null || (typeof s === 'object' && Object.getPrototypeOf(s) === ObjectProto && typeof s.toJSON !== 'function')) &&
    typeof c.toJSON !== 'function' &&
    idsEnumerable(c)
  );
}

/**
 * Whether `id` and `trace_id` are enumerable (own ones, with the prototype
 * clean): for-in walks the engine's cached key list of a JSON.parse'd
 * object, where `propertyIsEnumerable` is a call into the runtime per key
 * and took 40% of the check. Both come early in Weave's key order.
 */
function idsEnumerable(c) {
  let seen = 0;
  for (const k in c) {
    if (k === 'id') seen |= 1;
    else if (k === 'trace_id') seen |= 2;
    if (seen === 3) return true;
  }
  return false;
}

/**
 * Hashing a string for a Set lookup was the largest cost of a pick, and
 * most lookups miss; after a garbage collection, each call and string read
 * again is a cache miss. So each call's id and trace id get a 20-bit sketch
 * (their length and last eight characters: the varying end of time-ordered
 * ids) in the first pass, and a set of wanted strings a 1M-bit filter of its
 * members' sketches: later passes look up only the calls whose sketch is in
 * the filter (for the ~6,000 ids of a pick, under 1% of the others), without
 * touching the other calls again.
 *
 * `usv` (see above) changes only a string with a lone surrogate, which then
 * holds U+FFFD; such a string itself is in no set of Unicode strings. So a
 * set none of whose members holds U+FFFD answers `has(usv(s))` as `has(s)`,
 * and can be filtered by sketch. `filter` gives null for the other sets:
 * every call is looked up, through `usv`.
 */
function sketch(s) {
  const n = s.length;
  let h = n;
  // Past the start, charCodeAt is NaN and `| 0` makes it all 0: strings
  // shorter than eight sketch alike, which costs lookups, not exactness.
  for (let k = 1; k <= 8; k++) h = (Math.imul(h, 31) + s.charCodeAt(n - k)) | 0;
  return Math.imul(h, 0x9e3779b1) >>> 12;
}

function filter(set) {
  const bits = new Int32Array(1 << 15);
  for (const s of set) {
    if (s.includes('\uFFFD')) return null;
    const h = sketch(s);
    bits[h >>> 5] |= 1 << (h & 31);
  }
  return bits;
}

/** Whether the call at `i` (its field `key` sketched as `h`) may be in the
 * set of `bits` (null: any may), and then whether it is. The call itself is
 * read only when its sketch is in the filter. */
const has = (set, bits, calls, i, key, h) =>
  bits === null ? set.has(usv(calls[i][key])) : (bits[h >>> 5] & (1 << (h & 31))) !== 0 && set.has(calls[i][key]);

/**
 * `[json, indices]`: the picked calls as the text of a JSON array, and
 * each one's index in `calls` (`null` when every call was picked), for error
 * locations; `null` if `calls` is not an array. `callIds` null picks every
 * call (/trace/usage: every call may be in scope).
 */
export function selectCalls(calls, callIds) {
  if (!Array.isArray(calls)) return null;
  if (callIds === null) {
    const direct = directReads();
    const sent = newSent();
    return [JSON.stringify(calls.map((c, at) => wire(c, direct && wellFormed(c), sent, at))), null];
  }
  const n = calls.length;
  // The request's ids as the core validated them (so already Unicode).
  const wanted = new Set(callIds);
  const wantedBits = filter(wanted);
  const direct = directReads();
  // 1 = picked. Suspects first, with the traces of the requested calls.
  const picked = new Uint8Array(n);
  // 1 = passed `wellFormed` (so may go compact).
  const checked = new Uint8Array(n);
  const idSketch = new Uint32Array(n);
  const traceSketch = new Uint32Array(n);
  const traces = new Set();
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    if (direct && wellFormed(c)) {
      checked[i] = 1;
    } else if (suspect(c)) {
      picked[i] = 1;
      continue;
    }
    const id = c.id;
    const trace = c.trace_id;
    // Both were strings; a getter may answer otherwise when read again.
    if (typeof id !== 'string' || typeof trace !== 'string') {
      picked[i] = 1;
      checked[i] = 0;
      continue;
    }
    const h = (idSketch[i] = sketch(id));
    traceSketch[i] = sketch(trace);
    if (has(wanted, wantedBits, calls, i, 'id', h)) traces.add(usv(trace));
  }
  // Every call of those traces (the requested ones included).
  const ids = new Set();
  const traceBits = filter(traces);
  for (let i = 0; i < n; i++) {
    if (!picked[i] && has(traces, traceBits, calls, i, 'trace_id', traceSketch[i])) {
      picked[i] = 1;
      ids.add(usv(calls[i].id));
    }
  }
  // Other copies of a picked id: a later one replaces it.
  if (ids.size > 0) {
    const idBits = filter(ids);
    for (let i = 0; i < n; i++) if (!picked[i] && has(ids, idBits, calls, i, 'id', idSketch[i])) picked[i] = 1;
  }
  const out = [];
  const indices = [];
  const sent = newSent();
  for (let i = 0; i < n; i++) {
    if (picked[i]) {
      out.push(wire(calls[i], checked[i] === 1, sent, out.length));
      indices.push(i);
    }
  }
  return [JSON.stringify(out), indices.length === n ? null : Uint32Array.from(indices)];
}
