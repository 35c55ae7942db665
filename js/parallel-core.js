// weave-usage/parallel's engine, the same for Node (parallel-node.js,
// worker_threads) and browsers (parallel.js, module Workers): split one body
// into shards at call boundaries, have each shard read by its own module
// instance (a worker), ask each for the part of its calls a request needs,
// and compute the answer from those parts, in body order, in one table
// (`callsUsageFromParts`). Why a split is never wrong, and what the merge
// keeps: docs/parallel.md.
//
// Correctness does not rest on the split's guesses: a shard is read with the
// same reader as the whole body, and a split that is not at a call boundary
// makes a shard fail (docs/parallel.md gives the argument). Any failure,
// anywhere, reruns the one-shot `callsUsageFromJson` / `traceUsageFromJson`
// on the whole body, so errors (status, detail, loc) and answers are exactly
// the one-shot's.

const LF = 0x0a;
const OPEN = 0x7b; // {
const COMMA = 0x2c;
const QUOTE = 0x22;
const isWs = (b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A body as bytes (a string is encoded once), or null. */
function toBytes(body) {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && body instanceof SharedArrayBuffer)) return new Uint8Array(body);
  if (typeof body === 'string') return encoder.encode(body);
  return null;
}

/** Where a body's first value starts (past a BOM and white space) and its
 * format, from its first bytes. */
function opening(bytes) {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (at < bytes.length && isWs(bytes[at])) at++;
  return { at, format: at < bytes.length && bytes[at] === 0x5b ? 'array' : 'lines' };
}

/**
 * How to find a cut in a body whose first bytes are `head` (the whole body,
 * or enough of its start to hold its first value's opening): `{ format,
 * at, find }`, `find(bytes, base, from, limit)` the first place in [from,
 * limit) where a shard may start, searched in `bytes`, which hold the
 * body's bytes from offset `base` (all of it, or a window), or -1; `find`
 * is null when the body is not to be cut. JSON Lines are cut after a line
 * break followed by `{`; a JSON array before a `,` followed by an element
 * that opens like the first one.
 */
function cutFinder(head) {
  const { at, format } = opening(head);
  const len = head.length;
  if (at >= len) return { format, at, find: null };
  if (format === 'lines') {
    // After a line break, at a `{`: a line break is never inside a string.
    const find = (bytes, base, from, limit) => {
      for (let i = bytes.indexOf(LF, from - base); i >= 0 && i + base < limit; i = bytes.indexOf(LF, i + 1)) {
        if (bytes[i + 1] === OPEN) return base + i + 1;
      }
      return -1;
    };
    return { format, at, find };
  }
  // The first element's opening, `{` up to its first key's colon (`{"id":`).
  const none = { format, at, find: null };
  let e = at + 1;
  while (e < len && isWs(head[e])) e++;
  if (head[e] !== OPEN) return none;
  let k = e + 1;
  while (k < len && isWs(head[k])) k++;
  if (head[k] !== QUOTE) return none;
  let q = k + 1;
  while (q < len && q - k < 64 && head[q] !== QUOTE && head[q] !== 0x5c) q++;
  if (head[q] !== QUOTE) return none;
  let c = q + 1;
  while (c < len && isWs(head[c])) c++;
  if (head[c] !== 0x3a) return none;
  const key = head.slice(k, q + 1);
  // The comma before such an element.
  const find = (bytes, base, from, limit) => {
    const sameKey = (i) => {
      let j = i + 1;
      while (j < bytes.length && isWs(bytes[j])) j++;
      for (let t = 0; t < key.length; t++) if (bytes[j + t] !== key[t]) return false;
      return true;
    };
    for (let i = bytes.indexOf(OPEN, from - base); i >= 0 && i + base < limit; i = bytes.indexOf(OPEN, i + 1)) {
      if (!sameKey(i)) continue;
      let b = i - 1;
      while (b > 0 && b + base > at && isWs(bytes[b])) b--;
      if (bytes[b] === COMMA && b + base >= from) return base + b;
    }
    return -1;
  };
  return { format, at, find };
}

/** Where to look for the cuts of a body of `len` bytes into `n` shards
 * whose first value starts at `at`: a range [from, limit) from each n-th
 * of the body to the next. (A cut lies before its range's limit, so the
 * ranges need not wait for the cuts before them.) */
function cutRanges(len, n, at) {
  const ranges = [];
  for (let k = 1; k < n; k++) ranges.push([Math.max(at + 1, Math.floor((len * k) / n)), Math.floor((len * (k + 1)) / n)]);
  return ranges;
}

/**
 * Where to cut `bytes` into at most `n` shards: `{ format, shards }`, each
 * shard `{ start, end, prefix, suffix, atLeastOne }`: its bytes are
 * `bytes.subarray(start, end)`, read after `prefix` and before `suffix`.
 * Cut as `cutFinder` says (each later shard of an array is read as `[` +
 * its elements, each earlier one gets `]`). Fewer shards when no such
 * place is found; a guess inside a value only makes a shard fail to read,
 * never a wrong answer.
 */
export function splitBody(body, n) {
  const bytes = toBytes(body);
  if (bytes === null) throw new TypeError('splitBody: the body should be a Uint8Array, an ArrayBuffer or a string');
  n = Math.max(1, Math.floor(Number(n)) || 1);
  const { format, at, find } = cutFinder(bytes);
  if (n === 1 || find === null) return shardsOf(format, bytes.length, []);
  const cuts = cutRanges(bytes.length, n, at).map(([from, limit]) => find(bytes, 0, from, limit));
  return shardsAt(
    bytes,
    cuts.filter((c) => c >= 0),
  );
}

/** Bytes of a Blob body read to plan its cuts: its start (for its format
 * and first key), and a window from each guess. */
const HEAD = 64 << 10;
const WINDOW = 1 << 20;

/** Whether `body` is a Blob (or a File): read in pieces, never whole. */
const isBlob = (body) =>
  typeof body === 'object' && body !== null && !ArrayBuffer.isView(body) && typeof body.arrayBuffer === 'function' && typeof body.slice === 'function' && typeof body.size === 'number';

/** The bytes of `blob` from `start` to `end`; throws if it gives other
 * than that many (a Blob-like that changed while read): the pool counts
 * what it sent by what it asked for. */
const blobBytes = async (blob, start, end) => {
  const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
  if (bytes.length !== Math.min(end, blob.size) - Math.min(start, blob.size)) throw new Error(`the Blob gave ${bytes.length} bytes from ${start} to ${end}: it changed while it was read`);
  return bytes;
};

/** `splitBody` for a Blob, reading only its start and a window at each guess. */
export async function splitBlob(blob, n) {
  const { format, at, find } = cutFinder(await blobBytes(blob, 0, HEAD));
  if (n === 1 || find === null) return shardsOf(format, blob.size, []);
  const window = async (from, limit) => (from < limit ? find(await blobBytes(blob, from, Math.min(limit, from + WINDOW)), from, from, limit) : -1);
  const cuts = await Promise.all(cutRanges(blob.size, n, at).map(([from, limit]) => window(from, limit)));
  return shardsOf(
    format,
    blob.size,
    cuts.filter((c) => c >= 0),
  );
}

/**
 * The shards of `bytes` cut at `cuts` (increasing byte offsets): in JSON
 * Lines each cut is where a shard starts, in a JSON array the `,` between
 * two shards. Null when a cut is not where the rules of docs/parallel.md
 * allow one (JSON Lines: after a line break, at a `{`, past the first
 * value's start; an array: at a `,` past its `[`): a shard then could read
 * otherwise than the whole body does.
 */
export function shardsAt(body, cuts) {
  const bytes = toBytes(body);
  const len = bytes.length;
  const { at, format } = opening(bytes);
  const array = format === 'array';
  let prev = at;
  for (const c of cuts) {
    if (!Number.isInteger(c) || c <= prev || c >= len) return null;
    if (array ? bytes[c] !== COMMA : bytes[c - 1] !== LF || bytes[c] !== OPEN) return null;
    prev = c;
  }
  return shardsOf(format, len, cuts);
}

/** The shards of a body of `len` bytes in `format`, cut at `cuts` (checked). */
function shardsOf(format, len, cuts) {
  if (cuts.length === 0) return { format, shards: [{ start: 0, end: len, prefix: '', suffix: '', atLeastOne: false }] };
  const shards = [];
  const starts = [0, ...cuts];
  for (let s = 0; s < starts.length; s++) {
    const last = s === starts.length - 1;
    const end = last ? len : starts[s + 1];
    if (format === 'lines') shards.push({ start: starts[s], end, prefix: '', suffix: '', atLeastOne: false });
    // The comma itself belongs to no shard: `[` stands in for it.
    else shards.push({ start: s === 0 ? 0 : starts[s] + 1, end, prefix: s === 0 ? '' : '[', suffix: last ? '' : ']', atLeastOne: true });
  }
  return { format, shards };
}

/** Bytes pushed into a shard's accumulator at a time: 1 MB was steadier
 * than 8 MB on a 2-core VM (docs/performance.md). */
const STEP = 1 << 20;

/** Bytes of a shard sent to its worker at a time; a worker tells its
 * progress after each. */
const PIECE = 8 << 20;

/** Copied bytes sent to a worker ahead of what it has read: copies (a page
 * without SharedArrayBuffer) are made only this far ahead, so that the
 * page never holds a second copy of the whole body. */
const AHEAD = 4 * PIECE;

/** Why an aborted `signal` (an AbortSignal) stopped the work: its reason,
 * or an AbortError where it has none. */
const abortReason = (signal) => signal.reason ?? Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

/** Throws the reason if `signal` (an AbortSignal, or undefined) is aborted. */
const checkAbort = (signal) => {
  if (signal?.aborted) throw abortReason(signal);
};

/** A promise that rejects with the reason when `signal` aborts (never,
 * without one), and `done()`, which stops listening. */
function whenAborted(signal) {
  if (!signal) return { promise: new Promise(() => {}), done: () => {} };
  let onAbort = () => {};
  const promise = new Promise((_, reject) => (onAbort = () => reject(abortReason(signal))));
  promise.catch(() => {}); // told to whoever awaits it
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { promise, done: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * Reads one shard into a new `UsageAccumulator` of `lib` (the package's
 * API): `bytes` are the shard's own bytes (`body.subarray(start, end)`),
 * `shard` its description from `splitBody`. Throws what reading throws; a
 * shard that must hold a call and holds none throws too. `progress(bytes)`
 * is told the bytes read so far. The caller frees the accumulator.
 */
export function readShard(lib, bytes, shard, progress) {
  const acc = new lib.UsageAccumulator();
  try {
    if (shard.prefix) acc.push(shard.prefix);
    for (let at = 0; at < bytes.length; at += STEP) {
      acc.push(bytes.subarray(at, Math.min(bytes.length, at + STEP)));
      if (progress) progress(Math.min(bytes.length, at + STEP));
    }
    if (shard.suffix) acc.push(shard.suffix);
    acc.part({ traces: [], ids: [] }); // ends the input: an incomplete value throws here
    if (shard.atLeastOne && acc.calls < 1) throw new Error('the shard holds no call: it was not cut at call boundaries');
    return acc;
  } catch (e) {
    acc.free();
    throw e;
  }
}

/** A part's first four bytes: "WUP1", or "WUS2" with stats fields (src/calls/part.rs). */
const PART_MAGIC = [0x31505557, 0x32535557];

/** The ids and trace ids of a part's calls, as strings, in order. */
export function partCalls(part) {
  const view = new DataView(part.buffer, part.byteOffset, part.byteLength);
  if (part.byteLength < 24 || !PART_MAGIC.includes(view.getUint32(0, true))) throw new TypeError('not a part');
  const strings = view.getUint32(8, true);
  const calls = view.getUint32(12, true);
  const names = new Array(strings);
  let at = 24;
  for (let i = 0; i < strings; i++) {
    const n = view.getUint32(at, true);
    names[i] = decoder.decode(part.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  const ids = new Array(calls);
  const traces = new Array(calls);
  for (let i = 0; i < calls; i++, at += 32) {
    ids[i] = names[view.getUint32(at, true)];
    traces[i] = names[view.getUint32(at + 4, true)];
  }
  return { ids, traces };
}

/**
 * The message handler of a shard worker over `lib`; `post(message,
 * transfer)` replies. Messages: `{ op: 'open', shard, stats, cancel }`, then `{ op:
 * 'push', bytes }` for each piece of the shard's bytes as they come (no
 * reply; `{ progress }` now and then) or one `{ op: 'blob', blob }` (the
 * shard's bytes as a Blob, read here), then `{ op: 'end' }` (replies `{
 * calls }`); `{ op: 'read', bytes, shard, stats }` is all three at once.
 * Then `{ op: 'part', select }` (replies `{ part }`, transferred) and `{
 * op: 'free' }`. With `open`'s `reach` (`{ ids }`) and the package's own
 * `reading` (`shardHandlerWith`), the shard is read for that request's
 * calls alone: `{ op: 'reached', select }` replies `{ reached }`, whether
 * it read in full every call of `select` (always, for a shard read in
 * full), and `{ op: 'reread' }` reads its pieces again in full (replies `{
 * calls }`), which it keeps where they are views of shared memory (copies
 * are sent again, after an `open`). A failure replies `{ error: { status, detail, message }
 * }`, at `end` for one met while opening or pushing. With `stats`, the
 * shard is read for stats, by the module `loadStats()` resolves to (the
 * package's `weave-usage/stats`), loaded the first time it is needed;
 * messages wait for it in order. A load the pool gave up on (aborted) is
 * read no further: `cancel`, an Int32Array in shared memory (where there
 * is some), set to 1, or `{ op: 'cancel' }`, which is heeded at once, even
 * while a Blob is being read; the `free` that follows ends it.
 */
export function shardHandler(lib, post, options) {
  return shardHandlerWith(lib, post, options, null);
}

/** `shardHandler` of the package's own shard workers: `reading` (guard.js's
 * `shardReading`) reads a shard for one request (`open`'s `reach`); without
 * it, every shard is read in full. */
export function shardHandlerWith(lib, post, { loadStats } = {}, reading) {
  let acc = null;
  let shard = null;
  // A shard read for one request (`reach`): its bytes, where they are
  // views of shared memory, to be read again in full if it passed over
  // calls the request reaches (copies are sent again instead).
  let forRequest = false;
  let pieces = null;
  let failed = null;
  let told = 0;
  let read = 0;
  let statsLib = null;
  let statsFailure = null;
  let held = null; // messages that came while the stats module loads
  // The load was given up (see above): its bytes are no longer read.
  let cancel = null;
  let cancelled = false;
  const stopped = () => cancelled || (cancel !== null && Atomics.load(cancel, 0) !== 0);
  const free = () => {
    if (acc !== null) acc.free();
    acc = null;
  };
  const fail = (e) => ({ error: { status: e?.status, detail: e?.detail, message: String(e?.message ?? e) } });
  const open = (s, stats, flag, reach) => {
    free();
    (shard = s), (failed = null), (told = 0), (read = 0), (cancel = flag ?? null), (forRequest = !!reach && reading !== null), (pieces = forRequest ? [] : null);
    try {
      if (stats && statsFailure !== null) throw statsFailure;
      if (reach && reading !== null) acc = reading.accumulator(reach);
      else acc = stats ? new statsLib.UsageAccumulator({ stats: true }) : new lib.UsageAccumulator();
      if (shard.prefix) acc.push(shard.prefix);
    } catch (e) {
      // Told at `end`: `open` has no reply of its own.
      failed = e;
      free();
    }
  };
  const push = (bytes) => {
    if (pieces !== null) {
      if (bytes.buffer instanceof ArrayBuffer) pieces = null; // a copy: sent again if need be
      else pieces.push(bytes);
    }
    if (failed === null) {
      try {
        for (let at = 0; at < bytes.length; at += STEP) {
          if (stopped()) throw new Error('the load was aborted');
          acc.push(bytes.subarray(at, Math.min(bytes.length, at + STEP)));
        }
      } catch (e) {
        failed = e;
        free();
      }
    }
    // Told even after a failure: the sender paces its copies by it.
    read += bytes.length;
    if (read - told >= PIECE) post({ progress: read - told }), (told = read);
  };
  const end = () => {
    if (failed !== null) throw failed;
    if (read > told) post({ progress: read - told });
    if (shard.suffix) acc.push(shard.suffix);
    acc.part({ traces: [], ids: [] }); // ends the input: an incomplete value throws here
    if (shard.atLeastOne && acc.calls < 1) throw new Error('the shard holds no call: it was not cut at call boundaries');
    return { calls: acc.calls };
  };
  // The shard's bytes read again, in full: one view of the pieces, which
  // lie back to back in one shared buffer.
  const reread = () => {
    if (pieces === null) throw new Error('the shard\'s bytes are not at hand to read again');
    const first = pieces[0];
    let at = first?.byteOffset;
    for (const p of pieces) {
      if (p.buffer !== first.buffer || p.byteOffset !== at) throw new Error('the shard\'s bytes are not at hand to read again');
      at += p.length;
    }
    const bytes = first ? new Uint8Array(first.buffer, first.byteOffset, at - first.byteOffset) : new Uint8Array(0);
    const whole = readShard(lib, bytes, shard);
    free();
    (acc = whole), (pieces = null), (forRequest = false);
    return { calls: acc.calls };
  };
  // Messages that come while `work` runs wait for it, after `first`, in order.
  const holding = (first, work) => {
    held = first;
    work.then(() => {
      const waiting = held;
      held = null;
      for (const w of waiting) handle(w);
    });
  };
  // The shard's bytes from a Blob, read here as a stream (`push` tells the progress).
  const readBlob = async (blob) => {
    try {
      const reader = blob.stream().getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        push(value);
        if (failed !== null) return void reader.cancel().catch(() => {});
      }
      if (read !== blob.size && failed === null) throw new Error(`the Blob gave ${read} bytes of ${blob.size}: it changed while it was read`);
    } catch (e) {
      // Told at `end`, as a failure while pushing is.
      failed ??= e;
      free();
    }
  };
  const handle = (m) => {
    if (m.op === 'cancel') return void (cancelled = true);
    if (held !== null) return void held.push(m);
    if ((m.op === 'open' || m.op === 'read') && m.stats && statsLib === null && statsFailure === null) {
      const loading = loadStats ? Promise.resolve().then(loadStats) : Promise.reject(new Error('this worker has no stats module'));
      return holding(
        [m],
        loading.then(
          (l) => (statsLib = l),
          (e) => (statsFailure = e),
        ),
      );
    }
    if (m.op === 'blob') return holding([], readBlob(m.blob));
    try {
      if (m.op === 'open') open(m.shard, m.stats, m.cancel, m.reach);
      else if (m.op === 'push') push(m.bytes);
      else if (m.op === 'end') post(end());
      else if (m.op === 'read') {
        open(m.shard, m.stats);
        push(m.bytes);
        post(end());
      } else if (m.op === 'part') {
        const part = acc.part(m.select ?? undefined);
        post({ part }, [part.buffer]);
      } else if (m.op === 'reached') post({ reached: !forRequest || reading.readAllOf(acc, m.select) });
      else if (m.op === 'reread') post(reread());
      else if (m.op === 'free') {
        free();
        (pieces = null), (forRequest = false);
        cancelled = false;
        post({ freed: true });
      }
    } catch (e) {
      free();
      failed = null;
      post(fail(e));
    }
  };
  return handle;
}

/** A worker's end: `ask(message, transfer)` resolves to its next reply that
 * is not progress; progress replies go to `onProgress`, and a death to it
 * as Infinity (nothing more will be read). */
function channel(worker, on, onProgress) {
  const waiting = [];
  // A worker that failed (it could not load, ran out of memory) answers
  // nothing more: every later question gets this at once, and the pool
  // answers by the one-shot path.
  let dead = null;
  on((m) => {
    if (m && typeof m.progress === 'number') return onProgress(m.progress);
    const next = waiting.shift();
    if (next) next.resolve(m);
  }, (e) => {
    dead = { error: { message: String(e?.message ?? e) } };
    for (const w of waiting.splice(0)) w.resolve(dead);
    onProgress(Infinity);
  });
  const ask = (message, transfer) =>
    new Promise((resolve) => {
      if (dead !== null) return resolve(dead);
      waiting.push({ resolve });
      worker.postMessage(message, transfer ?? []);
    });
  // A message with no reply.
  ask.send = (message, transfer) => {
    if (dead === null) worker.postMessage(message, transfer ?? []);
  };
  return ask;
}

const isShared = (bytes) => typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer;

/** `callsUsageParallel` and `traceUsageParallel` of an entry: a pool made
 * by its `createUsagePool` for one call, `workers` of them, and closed after. */
export function forOneCall(createUsagePool) {
  const once =
    (kind) =>
    async (body, request, options, { workers, ...run } = {}) => {
      const pool = createUsagePool({ workers });
      try {
        return await pool[kind](body, request, options, run);
      } finally {
        await pool.close();
      }
    };
  return { callsUsageParallel: once('callsUsage'), traceUsageParallel: once('traceUsage') };
}

/**
 * `spawn` for shard workers made elsewhere (`createUsagePool({ connect })`):
 * `connect(i)` gives `{ port, close, onFailure? }`, `port` an end of a
 * MessageChannel whose other end a shard worker serves (`startShardWorker`
 * in browsers; any worker running the package's shard worker script, handed
 * `{ connect: port }` as its first message). Where the worker fails,
 * `onFailure` is how the pool hears of it (a port says nothing of the worker
 * behind it): it then answers by the one-shot path, as for its own workers.
 */
export function linked(connect) {
  let index = 0;
  return () => {
    const link = connect(index++);
    const port = link?.port;
    if (!port || typeof port.postMessage !== 'function' || typeof port.addEventListener !== 'function') {
      throw new TypeError('createUsagePool: connect() must return { port, close }, port a MessagePort');
    }
    return {
      worker: port,
      on: (message, error) => {
        port.addEventListener('message', (e) => message(e.data));
        port.addEventListener('messageerror', (e) => error(e));
        port.start?.();
        link.onFailure?.((why) => error(new Error(String(why))));
      },
      close: () => {
        port.close?.();
        return link.close?.();
      },
    };
  };
}

/**
 * A pool of `workers` shard workers made by `spawn()` (`{ worker, on,
 * close }`), answering with `lib` on this thread. See `createUsagePool` in
 * parallel.js / parallel-node.js. `sendBlobs`: a Blob body's slices go to
 * the workers, which read them (browsers); else its pieces are read here
 * and sent (Node, Deno, Bun: Node 20 lets a slice of a file-backed Blob
 * through to a worker thread, and aborts the whole process when the worker
 * reads it). `cutsOf` (tests) chooses the cuts.
 */
export function makePool(lib, spawn, workers, cutsOf = null, sendBlobs = false) {
  const count = Math.max(1, Math.floor(Number(workers)) || 1);
  let progress = null;
  const ends = [];
  for (let i = 0; i < count; i++) {
    const w = spawn();
    // `onRead`: told each progress of the load under way; `gone`: the worker died.
    const end = { close: w.close, ask: null, send: null, onRead: null, gone: false };
    end.ask = channel(w.worker, w.on, (n) => {
      if (n === Infinity) end.gone = true;
      else if (progress) progress(n);
      if (end.onRead) end.onRead(n);
    });
    end.send = end.ask.send;
    ends.push(end);
  }
  let queue = Promise.resolve();
  const canShare = typeof SharedArrayBuffer === 'function';
  let shared = null;

  /** The body read into the workers' tables (for stats: with their fields), or why not: `{ body, ok, shards, why, reach }`.
   * With `reach` (`{ ids }`, one request's), for bytes, the workers read in
   * full only the calls that can reach those ids, as the one-shot does
   * (`state.reach`); `answer` then has a shard that passed over one it
   * finds to count read again in full: the worker from its own views of
   * shared bytes, or from copies sent again (`state.resend`).
   * When `signal` aborts, the workers stop reading and let the load go (the
   * caller's promise has rejected already: see `serial`). */
  async function load(body, onProgress, stats = false, signal = undefined, reach = null) {
    checkAbort(signal);
    const blob = isBlob(body);
    const bytes = blob ? null : toBytes(body);
    // Only from bytes, which a shard can read again (not from a Blob).
    const forShard = reach !== null && !blob && bytes !== null ? reach : null;
    const state = { body, ok: false, shards: 0, why: null, used: [], reach: forShard !== null };
    if (!blob && bytes === null) return state;
    const total = blob ? body.size : bytes.length;
    let plan;
    try {
      // `cutsOf` (tests) chooses the cuts; they are checked all the same.
      if (cutsOf) {
        const whole = blob ? await blobBytes(body, 0, total) : bytes;
        plan = shardsAt(whole, cutsOf(whole, count));
      } else plan = blob ? await splitBlob(body, count) : splitBody(bytes, count);
    } catch (e) {
      // A Blob that cannot be read: so is the one-shot's, which says why.
      return { ...state, why: e };
    }
    checkAbort(signal);
    if (plan === null || plan.shards.length > count) return state;
    const { shards } = plan;
    const used = ends.slice(0, shards.length);
    // Set when the load fails: a piece still being read is then not sent
    // (it would reach a worker after the next load's `open`).
    let aborted = false;
    // Set to 1 when `signal` aborts, where memory can be shared: the workers
    // then skip the pieces already sent (see `shardHandler`).
    const cancel = canShare ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const stop = whenAborted(signal);
    try {
      let done = 0;
      // Nothing more is told once the caller has given the load up.
      progress = onProgress ? (n) => signal?.aborted || onProgress({ bytes: (done += n), total }) : null;
      // The shards' bytes, in pieces, round-robin, so that the workers read
      // while the rest is still being copied: shared when the body is in a
      // SharedArrayBuffer; else copied into one the pool keeps for its next
      // requests (a copy into memory already touched is several times
      // faster than into fresh memory, which page faults); without
      // SharedArrayBuffer (a browser page that is not cross-origin
      // isolated), copies of their own, transferred; from a Blob, pieces
      // read from it (by the engine, off this thread), transferred.
      let source = bytes;
      if (!blob && !isShared(bytes) && canShare) {
        if (shared === null || shared.length < bytes.length) (shared = null), (shared = new Uint8Array(new SharedArrayBuffer(bytes.length)));
        source = shared;
      }
      shards.forEach((s, i) => used[i].send({ op: 'open', shard: s, stats, cancel, reach: forShard }));
      // A Blob goes to each worker as its shard's slice, which the worker
      // reads itself (a Blob is sent as a handle, not its bytes), where
      // the pool may send Blobs (`sendBlobs`) and the Blob can be sent.
      let direct = false;
      if (blob && sendBlobs) {
        try {
          shards.forEach((s, i) => {
            used[i].send({ op: 'blob', blob: body.slice(s.start, s.end) });
            direct = true;
          });
        } catch (e) {
          // Refused by the first worker (none has it): read here; by a
          // later one (some have it): the load fails.
          if (direct) throw e;
        }
      }
      const copies = blob || (source === bytes && !isShared(bytes));
      // Where each shard's next piece starts, and its bytes sent but not yet read.
      const next = shards.map((s) => s.start);
      const ahead = shards.map(() => 0);
      // Shard i's next piece: sent, or for a Blob, its read (to be sent in order).
      const sendPiece = (i) => {
        const from = next[i];
        const to = Math.min(shards[i].end, from + PIECE);
        (next[i] = to), (ahead[i] += to - from);
        if (blob) return blobBytes(body, from, to);
        if (source === bytes && !copies) used[i].send({ op: 'push', bytes: bytes.subarray(from, to) });
        else if (!copies) {
          source.set(bytes.subarray(from, to), from);
          used[i].send({ op: 'push', bytes: source.subarray(from, to) });
        } else {
          const own = bytes.slice(from, to);
          used[i].send({ op: 'push', bytes: own }, [own.buffer]);
        }
      };
      // Copies, or a Blob's pieces, only AHEAD of each worker's reading:
      // the next as it tells its progress (a worker that died tells
      // Infinity). A copy is sent as it is made; a Blob's pieces are read
      // several at a time (one at a time, each read's start would be the
      // worker's wait) and sent in order.
      const paced = (s, i) =>
        new Promise((resolve, reject) => {
          const reading = []; // a Blob's pieces being read, in order
          let waiting = false; // for the first of `reading`
          const more = () => {
            if (aborted) return;
            while (next[i] < s.end && ahead[i] < AHEAD && !used[i].gone) {
              const piece = sendPiece(i);
              if (piece === undefined) continue;
              piece.catch(() => {}); // told through `reading[0]`, below
              reading.push(piece);
            }
            if (used[i].gone) (next[i] = s.end), (reading.length = 0); // nothing more will be read there
            if (waiting) return;
            if (reading.length > 0) {
              waiting = true;
              reading[0].then((own) => {
                waiting = false;
                reading.shift();
                if (!aborted) used[i].send({ op: 'push', bytes: own }, [own.buffer]);
                more();
              }, reject);
            } else if (next[i] >= s.end && used[i].onRead !== null) {
              used[i].onRead = null;
              resolve(used[i].ask({ op: 'end' }));
            }
          };
          used[i].onRead = (n) => {
            ahead[i] -= n;
            more();
          };
          more();
        });
      let reads;
      if (direct || !copies) {
        // Shared pieces, round-robin, all at once (none when the workers read a Blob).
        for (let any = !direct; any; ) {
          any = false;
          shards.forEach((s, i) => {
            if (next[i] < s.end) (any = true), sendPiece(i);
          });
        }
        reads = await Promise.race([Promise.all(used.map((e) => e.ask({ op: 'end' }))), stop.promise]);
      } else reads = await Promise.race([Promise.all(shards.map(paced)), stop.promise]);
      const failed = reads.find((r) => r.error);
      if (failed) {
        await Promise.all(used.map((e) => e.ask({ op: 'free' })));
        return { ...state, why: failed.error };
      }
      // A shard read for the request alone, read again in full, from copies
      // made again as for its first reading (where the workers share the
      // bytes, a worker reads its own again: `reread`).
      const resend = (i) => {
        (next[i] = shards[i].start), (ahead[i] = 0);
        used[i].send({ op: 'open', shard: shards[i], stats: false });
        return paced(shards[i], i);
      };
      return { ...state, ok: true, shards: shards.length, used, resend: copies ? resend : null };
    } catch (e) {
      // Memory for the shared copy, a message that could not be sent, a
      // Blob that could not be read: the one-shot path answers. Aborted:
      // the workers are told to stop reading (the caller's promise has
      // rejected already: see `serial`).
      aborted = true;
      for (const end of used) end.onRead = null;
      if (signal?.aborted) {
        if (cancel) Atomics.store(cancel, 0, 1);
        for (const end of used) end.send({ op: 'cancel' });
      }
      await Promise.all(used.map((end) => end.ask({ op: 'free' })));
      return { ...state, why: e };
    } finally {
      stop.done();
      progress = null;
    }
  }

  /** The answer over a loaded body: the one-shot's on `state.body` when it
   * was not loaded, or when anything fails; the reason when `signal` aborts. */
  async function answer(state, kind, request, options, signal) {
    checkAbort(signal);
    const { body } = state;
    const oneShot = async (why) => {
      checkAbort(signal);
      pool.last = { shards: 1, oneShot: true, why };
      if (isBlob(body)) return streamed(body, kind, request, options, signal);
      return kind === 'calls' ? lib.callsUsageFromJson(body, request, options) : lib.traceUsageFromJson(body, request, options);
    };
    const fromParts = kind === 'calls' ? lib.callsUsageFromParts : lib.traceUsageFromParts;
    pool.last = null;
    // The request and options are checked first, as the one-shot checks
    // them before the body; the empty answer names the requested ids.
    const empty = fromParts([], request, options);
    if (!state.ok || loaded !== state) return oneShot(state.why);
    // What the module reads of them is their JSON text: a copy of it holds
    // still while the workers run (a getter cannot answer otherwise later).
    let req, opts;
    try {
      req = JSON.parse(JSON.stringify(request));
      opts = options === undefined || options === null ? options : JSON.parse(JSON.stringify(options));
    } catch (e) {
      return oneShot(e);
    }
    try {
      // The replies of the shards `which` (all by default) to `ask(end, i)`;
      // a shard that failed fails the answer (the one-shot path then answers).
      const every = state.used.map((_, i) => i);
      const askAll = async (ask, which = every) => {
        const got = await Promise.all(which.map((i) => ask(state.used[i], i)));
        checkAbort(signal);
        if (got.some((r) => r.error)) throw new Error('a shard failed');
        return got;
      };
      const parts = async (select) => (await askAll((e) => e.ask({ op: 'part', select }))).map((r) => r.part);
      // Shards read for one request (`state.reach`) read in full only what
      // it can reach, as far as each could tell alone: the ones that passed
      // over a call the others show to count read their bytes again, in
      // full (each at most once), and the scope is asked for again.
      let rereads = 0;
      const rereadAll = async (which) => {
        await askAll((e, i) => (state.resend ? state.resend(i) : e.ask({ op: 'reread' })), which);
        rereads += which.length;
      };
      let final;
      const diagnostics = opts !== null && typeof opts === 'object' && opts.diagnostics;
      if (kind === 'calls' && !diagnostics) {
        // Only what the request's scope needs: the calls of every trace
        // holding a requested id, and every call sharing an id with one of
        // those (a later duplicate replaces an earlier one), in body order.
        const ids = Object.keys(empty.call_usage);
        while (final === undefined) {
          const traces = new Set();
          for (const p of await parts({ ids })) for (const t of partCalls(p).traces) traces.add(t);
          const named = new Set(ids);
          if (traces.size > 0) for (const p of await parts({ traces: [...traces] })) for (const id of partCalls(p).ids) named.add(id);
          const select = { traces: [...traces], ids: [...named] };
          const stale = [];
          if (state.reach) (await askAll((e) => e.ask({ op: 'reached', select }))).forEach((r, i) => r.reached || stale.push(i));
          if (stale.length > 0) await rereadAll(stale);
          else final = traces.size === 0 ? [] : await parts(select);
        }
      } else {
        // Every call: shards read for one request read again in full first.
        if (state.reach) await rereadAll(every);
        final = await parts(null);
      }
      const result = fromParts(final, req, opts);
      pool.last = { shards: state.shards, oneShot: false, rereads };
      return result;
    } catch (e) {
      return oneShot(e); // which throws the reason if `signal` aborted
    }
  }

  /** The one-shot's answer or error over a Blob, read on this thread in
   * pieces by an accumulator, which gives the same answers and errors as
   * the one-shot on the same bytes (the `stream` fuzz target's claim), so
   * that the Blob is never held whole here either. The request has been
   * checked (`answer` does that first). */
  async function streamed(blob, kind, request, options, signal) {
    const acc = new lib.UsageAccumulator();
    try {
      for (let at = 0; at < blob.size; at += PIECE) {
        const piece = await blobBytes(blob, at, Math.min(blob.size, at + PIECE));
        checkAbort(signal);
        for (let k = 0; k < piece.length; k += STEP) acc.push(piece.subarray(k, Math.min(piece.length, k + STEP)));
      }
      return kind === 'calls' ? acc.finish(request, options) : acc.finishTrace(request, options);
    } finally {
      acc.free();
    }
  }

  /** Every call of a loaded body, as its shards' parts in body order. */
  async function allParts(state) {
    if (!state.ok || loaded !== state) throw new Error('weave-usage/parallel: this body is not loaded in the workers (its load failed, or it was freed)');
    const got = await Promise.all(state.used.map((e) => e.ask({ op: 'part', select: null })));
    const failed = got.find((r) => r.error);
    if (failed) throw Object.assign(new Error(failed.error.message), { status: failed.error.status, detail: failed.error.detail });
    return got.map((r) => r.part);
  }

  async function unload(state) {
    if (loaded !== state) return;
    loaded = null;
    await Promise.all(state.used.map((e) => e.ask({ op: 'free' })));
  }

  /** The body loaded now (its tables are in the workers), or null. */
  let loaded = null;
  // One thing at a time: the workers hold one body's shards. With a
  // `signal`, the promise rejects as soon as it aborts, while the next
  // thing still waits for this one to let the workers go.
  const serial = (f, signal) => {
    const result = queue.then(f);
    queue = result.catch(() => {});
    if (!signal) return result;
    const stop = whenAborted(signal);
    return Promise.race([result, stop.promise]).finally(stop.done);
  };
  const pool = {
    workers: count,
    /** How the last answer was made: across `shards`, or by the one-shot path (`why`). */
    last: null,
    /** Reads `body` into the workers once, for many requests; loading
     * another body (or `free()`) releases it, after which it answers with
     * the one-shot path. */
    load: (body, { onProgress, stats = false, signal } = {}) =>
      serial(async () => {
        checkAbort(signal);
        if (loaded !== null) await unload(loaded);
        const state = await load(body, onProgress, !!stats, signal);
        if (state.ok) loaded = state;
        return {
          shards: state.shards,
          callsUsage: (request, options, { signal } = {}) => serial(() => answer(state, 'calls', request, options, signal), signal),
          traceUsage: (request, options, { signal } = {}) => serial(() => answer(state, 'trace', request, options, signal), signal),
          parts: () => serial(() => allParts(state)),
          free: () => serial(() => unload(state)),
        };
      }, signal),
    callsUsage: (body, request, options, { onProgress, signal } = {}) => once(body, 'calls', request, options, onProgress, signal),
    traceUsage: (body, request, options, { onProgress, signal } = {}) => once(body, 'trace', request, options, onProgress, signal),
    close: () => ((shared = null), Promise.all(ends.map((e) => e.close())).then(() => {})),
  };
  const once = (body, kind, request, options, onProgress, signal) =>
    serial(async () => {
      checkAbort(signal);
      // The request is checked before the body is read, as the one-shot does.
      const checked = (kind === 'calls' ? lib.callsUsageFromParts : lib.traceUsageFromParts)([], request, options);
      if (loaded !== null) await unload(loaded);
      // For one /calls/usage request, the shards read only what it can reach
      // (diagnostics look at every call).
      const diagnostics = options !== null && typeof options === 'object' && options.diagnostics;
      const reach = kind === 'calls' && !diagnostics ? { ids: Object.keys(checked.call_usage) } : null;
      const state = await load(body, onProgress, false, signal, reach);
      if (state.ok) loaded = state;
      try {
        return await answer(state, kind, request, options, signal);
      } finally {
        await unload(state);
      }
    }, signal);
  return pool;
}
