// The objects path's JavaScript half (imported by the wasm glue, see
// src/wasm/mod.rs): picks the calls that can matter to a request and writes
// just the fields the rollup reads as JSON text, so that the calls cross
// into wasm in one piece instead of one property at a time. (Copying that
// text, or a body, into wasm memory is js/boundary.js's job.)
//
// The rule: `callsUsage(calls, req)` answers exactly as
// `callsUsageFromJson(JSON.stringify(calls), req)`, whatever JavaScript
// values the calls hold. So every call is looked at as JSON.stringify would
// send it, and the text holds, for each call picked, what JSON.stringify
// would have sent of the fields read.
//
// The pick is a superset of what the rollup uses, so the answer is the one
// the whole list gives: the requested calls; every call of their traces;
// every later copy of a picked id (a later duplicate replaces an earlier
// one); and every call that fails validation, so its error is reported.
// Liveness (deleted, other project), scope, limit and everything else are
// decided in Rust, exactly as for bytes.
//
// Most calls are plain objects off JSON.parse, sent as they are held; for
// those a fast check (`wellFormed`: plain property reads) proves it, and
// their ids and trace ids take part in the pick as read. Any other call
// is `reduce`d once to what JSON.stringify would send of the fields read,
// following its rules at every level read: toJSON called with the call's
// index or the member's name, boxed primitives unwrapped, getters called
// once, functions, symbols and undefined left out, own enumerable string
// keys only; the engine itself unwraps boxes and refuses BigInts. That
// JSON data is both what the pick reads the call's id and trace id from
// and what is sent, so a getter cannot make the two disagree, and a call
// whose JSON is valid takes part in the pick exactly as a checked one.
//
// A checked call is written compact, as an array of its fields (`compact`;
// the core reads that form only from here), naming an earlier call instead
// of repeating a trace, parent or project id (`once`), unless something in
// its summary is not plain data (a toJSON, a boxed value: in an array it
// would be serialised under another key), when it is reduced too. A
// reduced call that is valid goes compact as well; one that is not goes as
// an object of its fields, so that the core reports its errors as for a
// body.
//
// Speed (measurements: docs/performance.md): checking every call with
// plain reads and for-in over the engine's cached key lists, sketches of
// the ids instead of a Set lookup per call, and a compact text are what
// keep the objects path ahead of the plain-JS rollup. `reduce` reads only
// the fields read, never the rest of a call (JSON.stringify with a replacer
// would visit every member: several times slower on Weave's calls).

const ObjectProto = Object.prototype;
const isText = (v) => v === undefined || v === null || typeof v === 'string';
const enumerable = Object.prototype.propertyIsEnumerable;
/** `o[k]` as JSON.stringify sees it: own enumerable properties only (not
 * inherited ones, e.g. from a polluted Object.prototype or `{__proto__: …}`). */
const own = (o, k) => (enumerable.call(o, k) ? o[k] : undefined);
/** An id as the core will read it: a lone surrogate (not Unicode) becomes
 * U+FFFD on the way into UTF-8, so the pick must match ids that way too. */
const usv = (s) => (typeof s !== 'string' || s.isWellFormed === undefined || s.isWellFormed() ? s : s.toWellFormed());

// BEGIN wire: generated from src/calls/wire.rs (`UPDATE_WIRE=1 cargo test
// --test wire`); a test fails if this block differs from what it makes.
/** The keys of a call that are read. */
const CALL_FIELDS = ['id', 'trace_id', 'parent_id', 'project_id', 'started_at', 'ended_at', 'deleted_at', 'summary'];
/** The keys of a call read for stats only, in compact order. */
const STATS_FIELDS = ['op_name', 'wb_user_id', 'thread_id', 'exception'];
/** The counters of a usage entry that are read, in compact order. */
const USAGE_FIELDS = ['requests', 'prompt_tokens', 'input_tokens', 'completion_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];
/** The costs of a cost entry that are read, in compact order. */
const COST_FIELDS = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];
// END wire

/** The call's fields read as text: all but `summary`. */
const TEXT_FIELDS = CALL_FIELDS.filter((k) => k !== 'summary');
/** The stats fields read as text: all but `exception` (only its presence
 * is read). */
const STATS_TEXT = STATS_FIELDS.filter((k) => k !== 'exception');

/** Whether the current pick is for stats (src/calls/wire.rs: STATS_FIELDS
 * are then read and sent too). Set by `selectCalls` for its duration. */
let stats = false;

// ---------------------------------------------------------------- reduce

/**
 * `v`, held at member `key` of its holder, as JSON.stringify sees it when
 * it writes it: after its toJSON (called once, with `key`; for a function
 * or a BigInt too, as the spec has it), with a boxed primitive unwrapped.
 * What remains is a primitive, an array, or an object written as its own
 * enumerable string keys. A BigInt throws JSON.stringify's TypeError.
 */
function json(v, key) {
  const type = typeof v;
  if ((type === 'object' && v !== null) || type === 'function' || type === 'bigint') {
    const toJSON = v.toJSON;
    if (typeof toJSON === 'function') v = toJSON.call(v, key);
  }
  if (typeof v === 'object') {
    if (v !== null && Object.getPrototypeOf(v) !== ObjectProto && !Array.isArray(v) && (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt)) return unbox(v);
  } else if (typeof v === 'bigint') {
    unbox(v);
  }
  return v;
}

/** The primitive a boxed `v` holds, as JSON.stringify unwraps it (no toJSON
 * applied: that was done), or `v` itself if it only looked like a box (then
 * it is written as its own keys). The engine tells, by its internal slots;
 * it also throws its own TypeError for a BigInt, boxed or not. */
function unbox(v) {
  const holder = { v: null };
  // Its members, if it has some, are left out: only its kind matters here.
  const text = JSON.stringify(holder, function (k, x) {
    return x === holder ? x : this === holder ? v : undefined;
  });
  const value = JSON.parse(text).v;
  return typeof value === 'object' && value !== null ? v : value;
}

/** A field, counter or cost as sent: a primitive as JSON writes it (NaN and
 * ±Infinity as null); an array or object as an empty one of its JSON type;
 * undefined for what JSON.stringify leaves out (undefined, a function, a
 * symbol). `v` has been through `json`; `path`: see `enter`. */
function leaf(v, path) {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'object':
      if (v === null) return null;
      if (Array.isArray(v)) return [];
      enter(path, v);
      path.pop();
      return {};
    default:
      return undefined;
  }
}

/** Notes that object `o` (not an array) is being read under the objects of
 * `path` (the call and the maps and entries it is in, a handful at most).
 * One of them again is a cycle, which JSON.stringify would refuse: so is
 * it here, with the engine's own error. (An array's content is never
 * read, so an array is never on a path.) */
function enter(path, o) {
  if (path.includes(o)) {
    JSON.stringify(o);
    throw new TypeError('Converting circular structure to JSON');
  }
  path.push(o);
}

/** Sets `out[k]` to `v` as an own data property (also for "__proto__"),
 * unless `v` is undefined (left out). */
function put(out, k, v) {
  if (v === undefined) return;
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/** What JSON.stringify sends of a summary object: an object, whose content
 * only `usage` and `costs` of a `Reduced` say. */
const SUMMARY = Symbol('summary object');

/**
 * A call as `reduce` leaves it (a "Reduced"): JSON data, one slot per field
 * read, of one shape for every call, so that the code reading it stays
 * fast. Each field is what JSON.stringify sends (undefined: left out), as
 * `leaf` makes it. `value`: for a call that is not an object, what is sent
 * instead (see `reduce`). `summary`: SUMMARY for an object, else as `leaf`
 * makes it. `usage`, `costs`: `summary.usage` and `summary.weave.costs` as
 * `compact` sends them, model → entry as the list of its fields, or what
 * stands for a map that is not an object.
 *
 * An object literal, not a class instance: in Node 20, V8 threw away the
 * compiled code that made and read instances of a class at each full
 * garbage collection, which made lists with a few such calls slower.
 */
const newReduced = () => ({
  value: undefined,
  id: undefined,
  trace_id: undefined,
  parent_id: undefined,
  project_id: undefined,
  started_at: undefined,
  ended_at: undefined,
  deleted_at: undefined,
  summary: undefined,
  usage: null,
  costs: null,
  op_name: undefined,
  wb_user_id: undefined,
  thread_id: undefined,
  exception: undefined,
});

/**
 * The call `c` at index `i` of the calls as `JSON.stringify(calls)` sends
 * it, cut to the fields read (a `Reduced`): `json` at every level read,
 * each field read once if it is an own enumerable one; members that are
 * not read are never looked at, nor what a field that should be a string
 * or number holds if it is an object. (The fields are read in a fixed
 * order, not in the object's: that differs only in which of two throwing
 * getters is reported.) A call that is an array is sent as 0 (a JSON array
 * would be taken for a compact call; both are "not a dictionary"), one
 * JSON.stringify leaves out (undefined) as null, as it writes it in an
 * array. Throws what JSON.stringify throws on what is read (a BigInt, a
 * throwing getter or toJSON, a cycle).
 */
function reduce(c, i) {
  const r = newReduced();
  const v = json(c, String(i));
  if (typeof v !== 'object' || v === null) {
    r.value = leaf(v, null) ?? null;
    return r;
  }
  if (Array.isArray(v)) {
    r.value = 0;
    return r;
  }
  const path = [v];
  if (enumerable.call(v, 'id')) r.id = leaf(json(v.id, 'id'), path);
  if (enumerable.call(v, 'trace_id')) r.trace_id = leaf(json(v.trace_id, 'trace_id'), path);
  if (enumerable.call(v, 'parent_id')) r.parent_id = leaf(json(v.parent_id, 'parent_id'), path);
  if (enumerable.call(v, 'project_id')) r.project_id = leaf(json(v.project_id, 'project_id'), path);
  if (enumerable.call(v, 'started_at')) r.started_at = leaf(json(v.started_at, 'started_at'), path);
  if (enumerable.call(v, 'ended_at')) r.ended_at = leaf(json(v.ended_at, 'ended_at'), path);
  if (enumerable.call(v, 'deleted_at')) r.deleted_at = leaf(json(v.deleted_at, 'deleted_at'), path);
  if (enumerable.call(v, 'summary')) summary(r, json(v.summary, 'summary'), path);
  if (stats) {
    if (enumerable.call(v, 'op_name')) r.op_name = leaf(json(v.op_name, 'op_name'), path);
    if (enumerable.call(v, 'wb_user_id')) r.wb_user_id = leaf(json(v.wb_user_id, 'wb_user_id'), path);
    if (enumerable.call(v, 'thread_id')) r.thread_id = leaf(json(v.thread_id, 'thread_id'), path);
    if (enumerable.call(v, 'exception')) r.exception = leaf(json(v.exception, 'exception'), path);
  }
  return r;
}

/** `summary` (through `json`) into `r`: only `usage` and `weave.costs`. */
function summary(r, s, path) {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    r.summary = leaf(s, path);
    return;
  }
  r.summary = SUMMARY;
  enter(path, s);
  if (enumerable.call(s, 'usage')) r.usage = entries(json(s.usage, 'usage'), USAGE_FIELDS, path);
  if (enumerable.call(s, 'weave')) {
    // A weave that is not an object has no costs.
    const w = json(s.weave, 'weave');
    if (typeof w === 'object' && w !== null && !Array.isArray(w)) {
      enter(path, w);
      if (enumerable.call(w, 'costs')) r.costs = entries(json(w.costs, 'costs'), COST_FIELDS, path);
      path.pop();
    }
  }
  path.pop();
}

/** A usage or costs map (through `json`) as `compact` sends it: model →
 * the list of the entry's `fields`; an entry that is not an object as it
 * is (an array as null: it is skipped as null is); a map that is not an
 * object as null or the primitive it is. */
function entries(map, fields, path) {
  if (typeof map !== 'object' || map === null) return leaf(map, path) ?? null;
  if (Array.isArray(map)) return null;
  enter(path, map);
  const out = {};
  for (const model of Object.keys(map)) {
    const e = json(map[model], model);
    if (typeof e === 'object' && e !== null && !Array.isArray(e)) {
      enter(path, e);
      const list = new Array(fields.length);
      for (let k = 0; k < fields.length; k++) {
        const f = fields[k];
        list[k] = enumerable.call(e, f) ? (leaf(json(e[f], f), path) ?? null) : null;
      }
      path.pop();
      put(out, model, list);
    } else {
      put(out, model, Array.isArray(e) ? null : leaf(e, path));
    }
  }
  path.pop();
  return out;
}

/** Whether a reduced call passes validation, as the core reads it. */
const valid = (r) =>
  r.value === undefined &&
  typeof r.id === 'string' &&
  typeof r.trace_id === 'string' &&
  isText(r.parent_id) &&
  isText(r.project_id) &&
  isText(r.started_at) &&
  isText(r.ended_at) &&
  isText(r.deleted_at) &&
  (r.summary === undefined || r.summary === null || r.summary === SUMMARY) &&
  (!stats || (isText(r.op_name) && isText(r.wb_user_id) && isText(r.thread_id)));

/** A valid reduced call in the compact form (see `compact`). */
function compactReduced(r, sent, at) {
  const parentAt = sent.ids.get(r.parent_id) ?? r.parent_id;
  if (!sent.ids.has(r.id)) sent.ids.set(r.id, at);
  const out = [r.id, once(sent.traces, r.trace_id, at), parentAt, once(sent.projects, r.project_id, at), r.started_at, present(r.ended_at), present(r.deleted_at), r.usage, r.costs];
  if (stats) out.push(r.op_name ?? null, r.wb_user_id ?? null, r.thread_id ?? null, r.exception === undefined || r.exception === null ? null : 1);
  return out;
}

/** A reduced call that fails validation, as an object for the core to
 * report (its errors are about its fields and the summary's JSON type, so
 * a summary object is sent empty). */
function invalid(r) {
  if (r.value !== undefined) return r.value;
  const out = {};
  for (const k of TEXT_FIELDS) put(out, k, r[k]);
  put(out, 'summary', r.summary === SUMMARY ? {} : r.summary);
  if (stats) for (const k of STATS_TEXT) put(out, k, r[k]);
  return out;
}

// ---------------------------------------------------------------- compact

/**
 * An entry as a compact call sends it: the list of its USAGE_FIELDS (or
 * COST_FIELDS) in order, null for an absent one. The fields of an ordinary
 * object are found by one for-in (its own enumerable keys, as the
 * prototype is clean: see `directReads`), each key told by a switch: for-in
 * gives internalized strings, so each case is a pointer comparison, where a
 * lookup table keyed by field name costs a hash lookup per key (22 keys in
 * a Weave cost entry). Other objects go through `own`, a runtime call per
 * field.
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

/** Counts the counters and costs `scalar` met that JSON.stringify would
 * write by calling something (a toJSON, a boxed primitive, a BigInt): in
 * a compact call's array one would be written under another key, so a
 * call during whose `compact` this changed is reduced instead. */
let spoilt = 0;

/** A counter or cost: an array or object reads as 0 but is recorded as
 * unreadable (`options.diagnostics`), so it becomes an empty one of the
 * same JSON type, not null (which is readable). */
function scalar(v) {
  if (typeof v !== 'object') {
    if (typeof v === 'bigint') spoilt++;
    return v;
  }
  if (v === null) return null;
  if (Array.isArray(v)) return [];
  if (plain(v)) return {};
  spoilt++;
  return v;
}

/** `summary.usage` or `summary.weave.costs` of a compact call: model →
 * entry as `entry` lists it. An entry that is not an object is skipped
 * (usage) or costs nothing (costs), as null is; so is a map that is not an
 * object. NOT_COMPACT if the map or an entry is `opaque` (or a BigInt): it
 * is for JSON.stringify to say what it is. */
function byModel(map, entry) {
  if (!plain(map)) return Array.isArray(map) ? null : opaque(map) || typeof map === 'bigint' ? NOT_COMPACT : map;
  // An ordinary object (JSON.stringify writes one made by Object.create(null)
  // twice as slowly), where a model named "__proto__" is defined, not set,
  // so that it stays an ordinary key.
  const out = {};
  for (const model of Object.keys(map)) {
    const e = map[model];
    let value;
    if (plain(e)) {
      value = entry(e);
    } else if (opaque(e)) {
      return NOT_COMPACT;
    } else {
      value = Array.isArray(e) ? null : e;
    }
    if (model === '__proto__') Object.defineProperty(out, model, { value, enumerable: true, writable: true, configurable: true });
    else out[model] = value;
  }
  return out;
}

/** An object JSON.stringify writes otherwise than as its own keys: one with
 * a toJSON, a boxed primitive (not an array). */
const opaque = (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !plain(v);

const NOT_COMPACT = Symbol('not compact');

/**
 * A call that passed `wellFormed`, in the compact form the core reads for
 * the objects path (its layout: src/calls/wire.rs): `[id, trace_id,
 * parent_id, project_id, started_at, ended_at, deleted_at, usage, costs]`,
 * entries as arrays of their fields. No keys: the text is much shorter (figures: docs/performance.md), and
 * arrays are quicker to build, write and read. An absent optional field is
 * null here, which reads the same; a string `ended_at` or `deleted_at` is
 * sent as "" (the core reads only whether a string is there; a tenth of
 * the text less). NOT_COMPACT when the call must be reduced instead (see
 * `byModel`, `scalar`, and below).
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
    if (opaque(w) || typeof w === 'bigint') return NOT_COMPACT;
    const before = spoilt;
    usage = byModel(member(s, 'usage'), usageList) ?? null;
    if (plain(w)) costs = byModel(member(w, 'costs'), costList) ?? null;
    if (usage === NOT_COMPACT || costs === NOT_COMPACT || spoilt !== before) return NOT_COMPACT;
  }
  const id = c.id;
  const trace = c.trace_id;
  // A getter that gives other than text now (`wellFormed` saw text) is for
  // `reduce`: in the array, a number in these places stands for an earlier
  // call, and an object would be serialised under another key.
  if (typeof id !== 'string' || typeof trace !== 'string' || !isText(parent) || !isText(project) || !isText(started) || !isText(ended) || !isText(deleted)) return NOT_COMPACT;
  // Its parent is an earlier call (not itself: a call is its own parent on a cycle).
  const parentAt = sent.ids.get(parent) ?? parent;
  if (!sent.ids.has(id)) sent.ids.set(id, at);
  return [id, once(sent.traces, trace, at), parentAt, once(sent.projects, project, at), started, present(ended), present(deleted), usage, costs];
}

/**
 * Where the compact calls of one text sent their ids, trace ids and project
 * ids (string → index in the text). A trace or project id sent before is
 * sent again as that index, and so is a parent id that is an earlier call's
 * id (the core reads them back: `text_or_earlier` in src/calls/compact.rs): each
 * such string crosses once.
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

/**
 * The call `c` at index `i` of the calls as it crosses, at index `at` of
 * the text: compact if it passed the fast check (`checked`) and can be,
 * else reduced (`r`, if `reduce` has made it already), and then compact if
 * it is valid, else as an object (never a JSON array: see `reduce`).
 */
function wire(c, i, checked, r, sent, at) {
  if (checked) {
    // Before `compact`, which notes the call's strings as sent.
    const extra = stats ? statsList(c) : null;
    const v = extra === NOT_COMPACT ? NOT_COMPACT : compact(c, sent, at);
    if (v !== NOT_COMPACT) {
      if (extra !== null) v.push(extra[0], extra[1], extra[2], extra[3]);
      return v;
    }
  }
  if (r === undefined) r = reduce(c, i);
  return valid(r) ? compactReduced(r, sent, at) : invalid(r);
}

/**
 * For stats, a checked call's STATS_FIELDS as its compact form ends with
 * them (`exception` as 1 or null: only its presence is read), by for-in as
 * in `compact`; NOT_COMPACT when one is not plain text or null, or
 * `exception` is something only JSON.stringify can say (a toJSON, a box, a
 * BigInt): then the call is reduced.
 */
function statsList(c) {
  let op = null, user = null, thread = null, exception = null;
  for (const k in c) {
    switch (k) {
      case 'op_name': op = c.op_name; break;
      case 'wb_user_id': user = c.wb_user_id; break;
      case 'thread_id': thread = c.thread_id; break;
      case 'exception': exception = c.exception; break;
    }
  }
  if (!isText(op) || !isText(user) || !isText(thread) || opaque(exception) || typeof exception === 'bigint') return NOT_COMPACT;
  // What JSON.stringify leaves out or writes as null is no exception.
  const absent = exception === undefined || exception === null || typeof exception === 'function' || typeof exception === 'symbol' || (typeof exception === 'number' && !Number.isFinite(exception));
  return [op ?? null, user ?? null, thread ?? null, absent ? null : 1];
}

// The fast check. Looking at every call through `own` costs a builtin call
// per field, and the calls of a 100k list are mostly ordinary objects off
// JSON.parse: for those, plain property reads tell the same story.

const DIRECT = [...CALL_FIELDS, ...STATS_FIELDS, 'toJSON', 'weave', 'usage', 'costs', ...USAGE_FIELDS, ...COST_FIELDS];

/** Whether a field of an object whose prototype is Object.prototype can be
 * read directly (the call's, its summary's, its entries'): true unless
 * Object.prototype itself holds one of them (a polluted prototype), when
 * every call takes the long way (`reduce`). */
const directReads = () => DIRECT.every((k) => !(k in ObjectProto));

/**
 * A call that certainly passes validation, told by direct reads; false
 * means "look closer" (`reduce`), never "malformed". With a clean
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
 * and dominated the check. Both come early in Weave's key order.
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

/** Whether string `s`, sketched as `h`, may be in the set of `bits` (null:
 * any may), and then whether it is. */
const holds = (set, bits, s, h) => (bits === null ? set.has(usv(s)) : (bits[h >>> 5] & (1 << (h & 31))) !== 0 && set.has(s));

/** The call at `i` as the pick reads it: its reduced form, if it has one. */
const asPicked = (calls, reduced, i) => (reduced !== null && reduced.has(i) ? reduced.get(i) : calls[i]);

/** `holds` for field `key` of the call at `i` (sketched as `h`): the call
 * itself is read only when its sketch is in the filter. */
const has = (set, bits, calls, reduced, i, key, h) =>
  bits === null ? set.has(usv(asPicked(calls, reduced, i)[key])) : (bits[h >>> 5] & (1 << (h & 31))) !== 0 && set.has(asPicked(calls, reduced, i)[key]);

/**
 * `[json, indices]`: the picked calls as the text of a JSON array, and
 * each one's index in `calls` (`null` when every call was picked), for error
 * locations; `null` if `calls` is not an array. `callIds` null picks every
 * call (/trace/usage and stats: every call may be in scope). `forStats`:
 * the calls also carry their STATS_FIELDS (a table made for stats reads
 * them). Throws what
 * JSON.stringify would throw on what is read.
 *
 * The calls the fast check refuses are reduced after it, in a loop of
 * their own, which leaves the loop over every call as small as it was.
 */
export function selectCalls(calls, callIds, forStats = false) {
  // Restored after: a getter of a call may start another pick.
  const outer = stats;
  stats = forStats === true;
  try {
    return pick(calls, callIds);
  } finally {
    stats = outer;
  }
}

function pick(calls, callIds) {
  if (!Array.isArray(calls)) return null;
  const n = calls.length;
  const direct = directReads();
  // 1 = passed `wellFormed` (so may go compact).
  const checked = new Uint8Array(n);
  if (callIds === null) {
    const refused = [];
    for (let i = 0; i < n; i++) {
      const c = calls[i];
      if (direct && wellFormed(c)) checked[i] = 1;
      else refused.push(i, c);
    }
    const reduced = reduceAll(refused);
    const sent = newSent();
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = wire(checked[i] === 1 ? calls[i] : undefined, i, checked[i] === 1, reduced?.get(i), sent, i);
    return [JSON.stringify(out), null];
  }
  // The request's ids as the core validated them (so already Unicode).
  const wanted = new Set(callIds);
  const wantedBits = filter(wanted);
  // 1 = picked. Invalid calls first, with the traces of the requested calls.
  const picked = new Uint8Array(n);
  const idSketch = new Uint32Array(n);
  const traceSketch = new Uint32Array(n);
  const traces = new Set();
  // Index and call, for each call the fast check refuses.
  const refused = [];
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    let id, trace;
    // Read again after the check: a getter may answer otherwise.
    if (direct && wellFormed(c) && typeof (id = c.id) === 'string' && typeof (trace = c.trace_id) === 'string') {
      checked[i] = 1;
      const h = (idSketch[i] = sketch(id));
      traceSketch[i] = sketch(trace);
      if (holds(wanted, wantedBits, id, h)) traces.add(usv(trace));
    } else {
      refused.push(i, c);
    }
  }
  // The refused ones as JSON.stringify sends them: the valid ones take part
  // in the pick as the others do; the invalid ones are picked.
  const reduced = reduceAll(refused);
  if (reduced !== null) {
    for (const [i, r] of reduced) {
      if (!valid(r)) {
        picked[i] = 1;
        continue;
      }
      const h = (idSketch[i] = sketch(r.id));
      traceSketch[i] = sketch(r.trace_id);
      if (holds(wanted, wantedBits, r.id, h)) traces.add(usv(r.trace_id));
    }
  }
  // Every call of those traces (the requested ones included).
  const ids = new Set();
  const traceBits = filter(traces);
  for (let i = 0; i < n; i++) {
    if (!picked[i] && has(traces, traceBits, calls, reduced, i, 'trace_id', traceSketch[i])) {
      picked[i] = 1;
      ids.add(usv(asPicked(calls, reduced, i).id));
    }
  }
  // Other copies of a picked id: a later one replaces it.
  if (ids.size > 0) {
    const idBits = filter(ids);
    for (let i = 0; i < n; i++) if (!picked[i] && has(ids, idBits, calls, reduced, i, 'id', idSketch[i])) picked[i] = 1;
  }
  const out = [];
  const indices = [];
  const sent = newSent();
  for (let i = 0; i < n; i++) {
    if (picked[i]) {
      const ok = checked[i] === 1;
      out.push(wire(ok ? calls[i] : undefined, i, ok, ok ? undefined : reduced.get(i), sent, out.length));
      indices.push(i);
    }
  }
  return [JSON.stringify(out), indices.length === n ? null : Uint32Array.from(indices)];
}

/** `refused` (index, call, index, call, …) reduced: index → Reduced, in
 * index order; null if none. */
function reduceAll(refused) {
  if (refused.length === 0) return null;
  const reduced = new Map();
  for (let k = 0; k < refused.length; k += 2) reduced.set(refused[k], reduce(refused[k + 1], refused[k]));
  return reduced;
}
