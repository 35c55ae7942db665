// The package's API, as both entries export it: the generated bindings
// (weave_usage.js) behind a guard that keeps the README's promises whatever
// the caller does. Every thrown value is an Error with `status` and
// `detail`; no call traps, or leaves the module or an accumulator in a state
// that breaks a later call. docs/hostile-inputs.md ("The boundary") says
// which guarantee rests on what.
//
// - The generated UsageAccumulator keeps its wasm pointer in an own
//   property, which any copy takes along (a freed pointer, or the
//   original's). Here each accumulator's state is kept where no copy can
//   reach it; a freed, busy or copied accumulator is refused before
//   anything reaches wasm (410, 409, 422).
// - An exception thrown through wasm frames skips the code that restores
//   the shadow stack pointer and releases borrows. Nothing the module does
//   in JavaScript throws through them (src/wasm/mod.rs imports everything with
//   `catch`), and the module is entered only with enough stack left for all
//   of it (`enter`), else the call is refused (500 `stack_exhausted`)
//   before it starts.
// - Should anything unwind through wasm all the same, the stack pointer is
//   put back and the error becomes a 500 `internal_error`.
import * as glue from './weave_usage.js';

// Stack a call may need, checked by calling a function with that many bytes
// of arguments, which the engine refuses to do without room for them all.
// HEADROOM is twice what the module's deepest path takes with its code
// compiled, in the engine that needs most (SpiderMonkey, the one with
// InternalError, has larger frames); it is written to at every call, so it
// is no larger than that: a larger one slows streams pushed in small
// chunks. (A caller's own code that the module runs, a toJSON, may need
// more; if it runs out, that is a 422 with the engine's message, as for any
// error it throws.) Compiling takes more: V8 refuses to compile a function
// with little stack left, and compiles each the first time it is called. So
// the first call is let in only with COLD_HEADROOM, and first runs every
// path of the module once (`warm`). The figures behind each size:
// docs/performance.md ("the JavaScript boundary's guard").
const HEADROOM = typeof InternalError === 'function' ? 32 << 10 : 8 << 10;
const COLD_HEADROOM = 64 << 10;
const PAD = new Array(HEADROOM / 8).fill(0);
const COLD_PAD = new Array(COLD_HEADROOM / 8).fill(0);
const NOOP = () => {};
// Frames of the module's stack probe (src/wasm/mod.rs, `stack_probe`)
// entered before each call, in SpiderMonkey only (the engine with
// InternalError), where wasm and the engine's own C++ run on a native stack
// the argument check below does not measure; V8 keeps one stack, which that
// check measures. docs/performance.md says how many frames are enough.
const PROBE_FRAMES = typeof InternalError === 'function' ? 4096 : 0;
// Builtins as they are when the package loads: a page that replaces them
// later runs no code in here.
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const isArray = Array.isArray;
const ErrorCtor = Error;
const { parse } = JSON;
const Encoder = TextEncoder;

/** [status, loc (its one key), type, msg] of the errors thrown here. */
const STACK = [500, 'stack', 'stack_exhausted', 'Too little of the JavaScript stack is left to run this call; nothing was run'];
const BUSY = [409, 'accumulator', 'accumulator_busy', 'This UsageAccumulator is in the middle of another call on it (this one was made from inside that one)'];
const FREED = [410, 'accumulator', 'accumulator_freed', 'This UsageAccumulator has been freed'];
const NOT_ONE = [422, 'accumulator', 'accumulator_type', 'Input should be a UsageAccumulator made by `new UsageAccumulator()` (a copy of one holds no stream)'];
const NOT_READY = [500, 'module', 'not_initialized', 'The module is not initialised: await init() from weave-usage/init before calling'];

const own = (value) => ({ value, writable: true, enumerable: true, configurable: true });

/** The Error for [status, loc, type, msg], as the module makes them. */
function make([status, loc, type, msg], cause) {
  const e = new ErrorCtor(`${status}: ${loc}: ${msg}`, cause === undefined ? undefined : { cause });
  defineProperty(e, 'status', own(status));
  defineProperty(e, 'detail', own([{ loc: [loc], msg, type }]));
  return e;
}

/** Thrown when even making an error fails for want of stack: one shared,
 * frozen instance, since throwing it calls nothing. */
const STACK_ERROR = make(STACK);
Object.freeze(STACK_ERROR.detail[0].loc);
Object.freeze(STACK_ERROR.detail[0]);
Object.freeze(STACK_ERROR.detail);
Object.freeze(STACK_ERROR);

/** Whether `e` is an error as the module throws them: an Error with a
 * numeric `status` and a `detail` list. Exported as the public type guard
 * (a shape, not a class: a page can load the package twice, as ESM and as
 * CommonJS, and each copy's errors pass). */
export function isUsageError(e) {
  try {
    return e instanceof ErrorCtor && typeof e.status === 'number' && isArray(e.detail);
  } catch {
    return false;
  }
}

/** The 500 for something that unwound through wasm, or an error the module
 * failed to make. */
function internal(e) {
  let what;
  try {
    what = e instanceof ErrorCtor ? `${e.name}: ${e.message}` : String(e);
  } catch {
    what = 'an unreadable value';
  }
  return make([500, 'internal', 'internal_error', `Internal error: ${what}`], e);
}

/** What a public function throws for `e`, caught at its top: the module's
 * errors as they are; anything else was thrown by this file's own code
 * before the module was entered, which only running out of stack does. */
function outward(e) {
  if (isUsageError(e)) return e;
  return e instanceof RangeError || (typeof InternalError === 'function' && e instanceof InternalError) ? make(STACK) : internal(e);
}

let stackPointer = null;
let memory = null;

/** Called by the entries with the instance's exports (each entry's init
 * returns them; weave-usage/init calls it once the module is loaded). */
export function attach(exports) {
  stackPointer = exports.__stack_pointer instanceof WebAssembly.Global ? exports.__stack_pointer : null;
  memory = exports.memory;
  warmSoon();
}

/**
 * Whether `warm` has run: it runs every path of the module on small inputs,
 * answers and errors alike, so that the JavaScript the module calls (the
 * glue in weave_usage.js, the snippets, this file) is compiled before a call
 * needs it. An idle moment after loading runs it once (`warmSoon`, on a
 * fresh stack), or the first call, if it comes sooner, with COLD_HEADROOM
 * checked; then WARM_ROUNDS more rounds run in a task of their own: V8 drops the bytecode
 * of a function unused through several major collections, to compile it
 * again when called, but never the code of one it has baseline-compiled
 * (`--flush-baseline-code` is off in Node 20 and Chromium 156), which it
 * does after a few calls. Only the first round passes the objects path a
 * call: calls of another size between its own make V8 drop its optimized
 * code for js/pick.js (measured: docs/performance.md), whose functions run
 * inside `catch` anyway.
 * tests/js/boundary.test.mjs checks that every import of the module has run
 * after one call.
 */
let warmed = false;
const WARM_ROUNDS = 16;
// Calls of the requested traces in a tier-up task (`tierUpBody`; as many
// others are passed over), and tasks: the engine counts what a function
// has executed over all of them, and no one task is long.
const TIER_UP_CALLS = 400;
const TIER_UP_TASKS = 5;
const TIER_UP_TRACES = 8;
/** The id of call `k` of trace `trace` in `tierUpBody` (its root: k = 0). */
const tierUpId = (trace, k) => `a${trace}-${k}`;
// A call of every kind of value the bytes path reads or skips. A cost of
// NaN takes the answer's one extra step (restore_non_finite_costs).
const WARM_TEXT =
  '{"id":"a","trace_id":"t","ended_at":"x","inputs":{"messages":[{"role":"user","content":"hi"}],"n":1.5e0,"stream":false,"stop":null},"output":{"choices":[{"index":0}]},"summary":{"usage":{"m":{"prompt_tokens":1}},"weave":{"costs":{"m":{"prompt_tokens_total_cost":"nan"}}}}}\n';
const WARM_REQUEST = { project_id: 'p', call_ids: ['a'], include_costs: true };
// A call of a trace WARM_REQUEST does not reach: `callsUsageFromJson`
// checks it and passes it over (src/calls/wanted.rs), code that a body of
// requested calls alone never runs.
const WARM_OTHER =
  '{"id":"b","trace_id":"u","parent_id":null,"ended_at":"x","inputs":{"messages":[{"role":"user","content":"hi"}]},"summary":{"usage":{"m":{"prompt_tokens":1}}}}\n';

/**
 * The body of a tier-up task: calls with the members a Weave call has, in
 * the order the server writes them. Half are TIER_UP_TRACES traces, each a
 * tree under a requested call, each call dated, with usage and costs of one
 * of three models; the other half, between them, are of traces not
 * requested, which the reader checks member by member and passes over.
 * Every stage then runs as on a real body: the member-by-member check, the
 * reading, and the answer's (ordering by date, rolling usage up each
 * tree, the totals by model, the answer written out). The engine
 * optimises a function once it has run enough of it, and a body of copies
 * of one short call left the check and the answer's stage to the first
 * real request, unoptimised.
 */
export function tierUpBody() {
  const per = TIER_UP_CALLS / TIER_UP_TRACES;
  const call = (id, trace, parent, at, summary) =>
    `{"id":"${id}","project_id":"p","op_name":"weave:///p/op/step:v1","display_name":null,"trace_id":"${trace}","parent_id":${parent},"thread_id":null,"turn_id":null,` +
    `"started_at":"${at}","ended_at":"${at}","exception":null,"attributes":{"weave":{"client_version":"0.53.0","source":"python-sdk"}},` +
    `"inputs":{"messages":[{"role":"user","content":"hi"}],"n":1.5,"stream":false},"output":{"choices":[{"index":0,"text":"ok"}]},"summary":${summary},` +
    `"wb_user_id":"u","wb_run_id":null,"deleted_at":null,"storage_size_bytes":null,"total_storage_size_bytes":null}\n`;
  let text = '';
  for (let i = 0; i < TIER_UP_CALLS; i++) {
    const k = i % per;
    const trace = (i - k) / per;
    const parent = k === 0 ? 'null' : `"${tierUpId(trace, (k - 1) >> 1)}"`;
    const at = `2025-01-01T${String(trace).padStart(2, '0')}:00:${String(k % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}Z`;
    const model = `m${i % 3}`;
    const usage = `{"usage":{"${model}":{"requests":1,"prompt_tokens":${i},"completion_tokens":7,"total_tokens":${i + 7}}},"weave":{"costs":{"${model}":{"prompt_tokens_total_cost":0.25,"completion_tokens_total_cost":${i}.5}},"status":"success","latency_ms":${i}}}`;
    text += call(tierUpId(trace, k), `t${trace}`, parent, at, usage) + call(`b${i}`, `u${i >> 2}`, 'null', at, usage);
  }
  return new Encoder().encode(text);
}
export const TIER_UP_REQUEST = { project_id: 'p', call_ids: Array.from({ length: TIER_UP_TRACES }, (_, t) => tierUpId(t, 0)), include_costs: true };

/**
 * Warms up once the page (or process) has nothing else to do, unless a
 * call has done it first: a first call after that runs compiled code (the
 * engine compiles the module's functions lazily, on their first calls,
 * and the hottest ones again, optimised, in the background). Not at import
 * time: that would make every import slower, used or not.
 */
function warmSoon() {
  let body = null;
  // Enough calls for the engine to optimise the bytes path's hottest
  // functions (it counts what a function has executed), in tasks of
  // about 640 KB each (docs/performance.md: how long they take).
  const tierUp = (left) => {
    try {
      body ??= tierUpBody();
      callsUsageFromJson(body, TIER_UP_REQUEST);
    } catch {
      // It does not fail; if it did, the module is no worse off.
    }
    if (left > 1) idle(() => tierUp(left - 1));
  };
  const later = () => {
    if (warmed) return;
    warmUp();
    tierUp(TIER_UP_TASKS);
  };
  idle(later);
}

/** Runs `task` when the page (or process) is next idle: an idle callback
 * where there is one (browsers), else a timer that does not keep Node
 * alive; nothing in an engine with no timers, or one that refuses them
 * (Cloudflare Workers throw at global scope while a module loads): then
 * the first call warms up, as it would. */
function idle(task) {
  try {
    if (typeof requestIdleCallback === 'function') {
      requestIdleCallback(task, { timeout: 1000 });
    } else if (typeof setTimeout === 'function') {
      const timer = setTimeout(task, 0);
      if (typeof timer?.hasRef === 'function') timer.unref();
    }
  } catch {
    // Nothing scheduled; nothing lost.
  }
}

function warmUp() {
  warmed = true;
  warm(true);
  const more = () => {
    for (let i = 0; i < WARM_ROUNDS; i++) warm(false);
  };
  if (typeof setTimeout !== 'function') return more();
  let timer;
  try {
    timer = setTimeout(more, 0);
  } catch {
    // A runtime that refuses timers here (Cloudflare Workers at global
    // scope): the rounds run now instead.
    return more();
  }
  // No reason for Node to stay alive: a script that is done exits. (Only a
  // Node timer has hasRef; gjs's has an unref that means something else.)
  if (typeof timer?.hasRef === 'function') timer.unref();
}

/** One round of `warmUp`; `full`: with a call for the objects path. */
function warm(full) {
  const enc = new Encoder();
  const text = WARM_TEXT;
  const request = WARM_REQUEST;
  // A range, so that the buckets are made (js/zone.js) with no call dated.
  const day = { project_id: 'p', start: '2025-01-01T00:00:00Z', end: '2025-01-02T00:00:00Z', timezone: 'America/New_York' };
  const refused = {
    toJSON() {
      throw new ErrorCtor('warming');
    },
  };
  const runs = [
    () => callsUsageFromJson(enc.encode(text + WARM_OTHER), request),
    () => callsUsageFromJson(text, request),
    () => callsUsage(full ? [parse(text)] : [], request),
    () => callsUsageFromJson(text + '{', request),
    () => callsUsageFromJson(42, request),
    () => callsUsageFromJson(text, refused),
    () => traceUsage([], 0),
    () => traceUsageFromJson('', 0),
    () => usageStats(full ? [parse(text)] : [], day),
    () => usageStatsFromJson(text, day),
    () => usageStatsFromJson(text, { ...day, timezone: 'Not/A_Zone' }),
    () => {
      const acc = new UsageAccumulator();
      try {
        acc.push(enc.encode(text));
        void (acc.calls + acc.bytesRead);
        acc.finish(request);
        acc.finishTrace(0);
        acc.finishStats({ project_id: 'p' });
      } finally {
        acc.free();
      }
    },
    // finishStats on its own: above, finishTrace(0) throws before it; in
    // the main module (no stats) the stats accumulator below is refused.
    () => {
      const acc = new UsageAccumulator();
      try {
        acc.finishStats({ project_id: 'p' });
      } finally {
        acc.free();
      }
    },
    // The listing of a plain accumulator, each on its own: in the main
    // module both throw (501); in the stats one, finishCalls does (409).
    ...['finishProjects', 'finishCalls'].map((method) => () => {
      const acc = new UsageAccumulator();
      try {
        acc.push(text);
        acc[method]({ project_id: 'p' });
      } finally {
        acc.free();
      }
    }),
    () => {
      const acc = new UsageAccumulator({ stats: true });
      try {
        acc.push(text);
        acc.finishStats({ project_id: 'p' });
        acc.finishCalls({ project_id: 'p', filter: { trace_roots_only: true } });
        acc.finishProjects();
      } finally {
        acc.free();
      }
    },
    () => {
      const acc = new UsageAccumulator();
      try {
        acc.push(text);
        const part = acc.part();
        acc.part({ ids: ['a'] });
        UsageAccumulator.fromParts(part).free();
        callsUsageFromParts([part], request);
        traceUsageFromParts(part, 0);
      } finally {
        acc.free();
      }
    },
    () => {
      const acc = shardReading.accumulator({ ids: request.call_ids });
      try {
        acc.push(text);
        shardReading.readAllOf(acc, { traces: ['a'], ids: request.call_ids });
      } finally {
        acc.free();
      }
    },
  ];
  for (const run of runs) {
    try {
      run();
    } catch {
      // Most of them are meant to fail.
    }
  }
}

/**
 * `f(a, b, c)`, a call into the module, entered only with HEADROOM (the
 * first, COLD_HEADROOM) of stack left. Whatever it throws other than the
 * module's errors (or anything, if the stack pointer moved) unwound through
 * wasm: the stack pointer is put back, and the error becomes a 500. There
 * is room for all of this once the check has passed. (Exported for
 * tests/js/boundary.test.mjs, which makes exceptions unwind through wasm
 * on purpose; the entries do not export it.)
 */
export function enter(f, a, b, c) {
  try {
    apply(NOOP, undefined, warmed ? PAD : COLD_PAD);
  } catch {
    throw make(STACK);
  }
  // weave-usage/init before its init() has resolved: nothing to call yet
  // (and warming up now would mark the module warm without running it).
  if (memory === null) throw make(NOT_READY);
  if (!warmed) warmUp();
  // Room on the native stack too, which wasm frames use: the check above
  // measures the stack arguments take, which in SpiderMonkey's interpreter
  // is another one. The probe's frames change no state of the module.
  if (PROBE_FRAMES > 0) {
    try {
      glue.stackProbe(PROBE_FRAMES);
    } catch {
      throw make(STACK);
    }
  }
  const sp = stackPointer === null ? 0 : stackPointer.value;
  try {
    return f(a, b, c);
  } catch (e) {
    const moved = stackPointer !== null && stackPointer.value !== sp;
    if (moved) stackPointer.value = sp;
    if (!moved && isUsageError(e)) throw e;
    throw internal(e);
  }
}

const isInternal = (e) => isUsageError(e) && e.detail[0]?.type === 'internal_error';

// Each public function catches everything at its top: `outward` makes it
// the module's kind of error, and if even that cannot run (no stack left),
// `finally` throws the prebuilt one instead. The pattern is written out in
// each function rather than shared: a call to a shared wrapper is one more
// frame, which can itself run out of stack before its `try`, and that
// RangeError would escape as it is.

export function callsUsage(calls, request, options) {
  try {
    return enter(glue.callsUsage, calls, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

export function callsUsageFromJson(body, request, options) {
  try {
    return enter(glue.callsUsageFromJson, body, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

export function traceUsage(calls, request, options) {
  try {
    return enter(glue.traceUsage, calls, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

export function traceUsageFromJson(body, request, options) {
  try {
    return enter(glue.traceUsageFromJson, body, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

export function usageStats(calls, request, options) {
  try {
    return enter(glue.usageStats, calls, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

/** The answer over parts (`UsageAccumulator.part`) in order, as if their
 * bodies had been read as one: the merge of weave-usage/parallel. */
export function callsUsageFromParts(parts, request, options) {
  try {
    return enter(glue.callsUsageFromParts, parts, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

export function usageStatsFromJson(body, request, options) {
  try {
    return enter(glue.usageStatsFromJson, body, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

/** `/trace/usage` over parts, as `callsUsageFromParts`. */
export function traceUsageFromParts(parts, request, options) {
  try {
    return enter(glue.traceUsageFromParts, parts, request, options);
  } catch (e) {
    let out = STACK_ERROR;
    try {
      out = outward(e);
    } finally {
      throw out;
    }
  }
}

/** The module's memory size: read from the memory itself, not in wasm. */
export function wasmMemoryBytes() {
  if (memory === null) throw make(NOT_READY);
  return memory.buffer.byteLength;
}

const PUSH = (inner, chunk) => inner.push(chunk);
const FINISH = (inner, request, options) => inner.finish(request, options);
const FINISH_TRACE = (inner, request, options) => inner.finishTrace(request, options);
const FINISH_STATS = (inner, request, options) => inner.finishStats(request, options);
const FINISH_CALLS = (inner, request) => inner.finishCalls(request);
const FINISH_PROJECTS = (inner) => inner.finishProjects();
const PART = (inner, select) => inner.part(select);
const CALLS = (inner) => inner.calls;
const BYTES_READ = (inner) => inner.bytesRead;
const FREE = (inner) => inner.free();
const NEW = (options) => new glue.UsageAccumulator(options);
const FROM_PARTS = (parts) => glue.UsageAccumulator.fromParts(parts);
const FOR_SHARD = (select) => glue.UsageAccumulator.forShard(select);
const READ_ALL_OF = (inner, select) => inner.readAllOf(select);

/**
 * Each accumulator's state, where no copy of it can reach: `inner`, the
 * generated accumulator (its FinalizationRegistry frees it when this one is
 * collected unfreed), null once freed; `busy` during a call on it, when a
 * call from inside that one is refused (409); `lost`, the message of an
 * exception that unwound through wasm during a call on it, after which its
 * state is unknown (repeated as a 500 on every later call). A WeakMap, not
 * private fields: their initializer would run before the constructor's
 * `try`, where running out of stack would throw a bare RangeError.
 */
const states = new WeakMap();

/** `op(inner, a, b)` on `acc`'s generated accumulator. */
function run(acc, op, a, b) {
  const state = states.get(acc);
  if (state === undefined) throw make(NOT_ONE);
  if (state.inner === null) throw make(FREED);
  if (state.lost !== null) throw make([500, 'internal', 'internal_error', state.lost]);
  if (state.busy) throw make(BUSY);
  state.busy = true;
  try {
    return enter(op, state.inner, a, b);
  } catch (e) {
    if (isInternal(e)) state.lost = `This UsageAccumulator is unusable after an internal error (${e.detail[0].msg})`;
    throw e;
  } finally {
    state.busy = false;
  }
}

/** An accumulator over the generated one that `op(arg)` makes (not by the
 * constructor: `fromParts`, `shardReading.accumulator`). */
function made(op, arg) {
  const acc = Object.create(UsageAccumulator.prototype);
  states.set(acc, { inner: enter(op, arg), busy: false, lost: null });
  return acc;
}

/**
 * Streams a body in: `push(chunk)` as chunks arrive (split anywhere), then
 * `finish(request, options?)` for the same answer `callsUsageFromJson` gives
 * on the whole body. `finish` may be called again with other requests;
 * `free()` releases the memory (or garbage collection does, when it is
 * never called). `new UsageAccumulator({ stats: true })` also reads the
 * fields `finishStats` needs (only then: `/calls/usage` needs none of them).
 */
export class UsageAccumulator {
  /** `options.stats`: also read what `finishStats` needs. */
  constructor(options) {
    try {
      states.set(this, { inner: enter(NEW, options), busy: false, lost: null });
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** A finished accumulator holding the calls of `parts` (`part()` of
   * others, in order), as if their bodies had been read as one: it answers
   * `finish`, `finishTrace` and, from parts with stats fields in the stats
   * module, `finishStats`; it takes no more input. */
  static fromParts(parts) {
    try {
      return made(FROM_PARTS, parts);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** Reads what `chunk` completes. Throws (400/422) on the first bad line
   * or call, and again on every later call. */
  push(chunk) {
    try {
      run(this, PUSH, chunk);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** The answer for `request` over everything pushed. */
  finish(request, options) {
    try {
      return run(this, FINISH, request, options);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** `/trace/usage` for `request` over everything pushed: like `finish`, it
   * ends the input and may be called again, with any request. */
  finishTrace(request, options) {
    try {
      return run(this, FINISH_TRACE, request, options);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** Stats for `request` over everything pushed (made with `{ stats: true }`,
   * else a 409): like `finish`, it ends the input and may be called again. */
  finishStats(request, options) {
    try {
      return run(this, FINISH_STATS, request, options);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** The calls' listing (a `CallsQueryReq`) over everything pushed (made
   * with `{ stats: true }`, else a 409): like `finish`, it ends the input
   * and may be called again. */
  finishCalls(request) {
    try {
      return run(this, FINISH_CALLS, request);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** The projects the calls name, with how many of the calls each counts
   * name it: like `finish`, it ends the input. */
  finishProjects() {
    try {
      return run(this, FINISH_PROJECTS);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** Ends the input (as `finish` does) and returns the calls `select`
   * names (`{ traces, ids }`; every call when omitted) as a part for
   * `callsUsageFromParts`. */
  part(select) {
    try {
      return run(this, PART, select);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** Calls read so far (for progress). */
  get calls() {
    try {
      return run(this, CALLS);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** Bytes consumed so far (for progress). */
  get bytesRead() {
    try {
      return run(this, BYTES_READ);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }

  /** Releases the memory. Again, or on a copy, it does nothing; during a
   * call on this accumulator it is refused (409). */
  free() {
    try {
      const state = states.get(this);
      if (state === undefined || state.inner === null) return;
      if (state.busy) throw make(BUSY);
      try {
        enter(FREE, state.inner);
      } catch (e) {
        // After an internal error the generated accumulator may refuse to
        // be freed (still borrowed): its memory is lost, nothing else.
        if (!isInternal(e)) throw e;
      }
      state.inner = null;
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  }
}

if (Symbol.dispose) UsageAccumulator.prototype[Symbol.dispose] = UsageAccumulator.prototype.free;

/**
 * How weave-usage/parallel's own shard workers read a shard for one
 * `/calls/usage` request (not exported by the entries: docs/parallel.md).
 * `accumulator(select)`: a UsageAccumulator that reads in full only the
 * calls that can reach `select`'s ids (`{ ids }`) as far as its shard
 * tells, and passes over the others as `callsUsageFromJson` does.
 * `readAllOf(acc, select)`: ends its input and tells whether it read in
 * full every call of `select`'s traces and every call with one of its ids
 * (always true for any other accumulator).
 */
export const shardReading = {
  accumulator(select) {
    try {
      return made(FOR_SHARD, select);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  },
  readAllOf(acc, select) {
    try {
      return run(acc, READ_ALL_OF, select);
    } catch (e) {
      let out = STACK_ERROR;
      try {
        out = outward(e);
      } finally {
        throw out;
      }
    }
  },
};
