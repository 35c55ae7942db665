// The strongest plain-JavaScript peer we could write for the bytes path:
// `/calls/usage` computed straight from a body's bytes (a Uint8Array of JSON
// Lines or a JSON array of calls), without JSON.parse of the calls. The
// benchmark times it next to `callsUsageFromJson`; bench/scanner-check.mjs
// checks it against the reference fixtures.
//
// Design (what a JavaScript engineer who cares about speed would write):
// - One pass over the bytes, a byte at a time outside strings, with the
//   position and the byte array in locals. At the top level of each call
//   it reads the keys it needs (recognised by length and a few bytes, never
//   decoded) and, for their values, keeps only byte offsets.
// - Every other value (`inputs`, `output`, `attributes`, ...) is skipped by
//   counting brackets; strings are skipped eight bytes a step (two 32-bit
//   little-endian DataView reads and the classic "has a zero byte" word test
//   for `"` and `\`; the lowest flagged byte, found by `Math.clz32`, is
//   exact).
// - Ids, trace ids and parent ids are never decoded: their bytes are
//   hashed (FNV-style over 32-bit words) into an open-addressing table of
//   symbols, compared byte for byte on a hash hit. Trace ids repeat from
//   call to call, so the previous call's is compared first. The project id
//   is compared with the request's bytes. Strings with escapes (rare) are
//   decoded and re-encoded, so that equal ids get one symbol however they
//   are written.
// - `summary` is kept as a byte span. Only after the scope is known (live
//   calls of the requested traces) are the scope's summaries decoded and
//   read (JSON.parse of that span; the same value rules as
//   bench/baseline.mjs), as are their `started_at` strings. Short ASCII
//   spans become strings by String.fromCharCode, not TextDecoder, whose
//   fixed cost per call is larger than the copy.
// - Per-call data lives in typed arrays (struct of arrays), grown by
//   doubling: monomorphic, no object per call.
//
// What it does not do: check that the body is JSON (a malformed body gives
// some answer or throws, where the module answers 400 with the line and
// column), or check the calls' field types (the module's 422). It reads
// only what the benchmark's request needs: `/calls/usage`, no options.
import { ownUsage, TOKEN_FIELDS, COST_FIELDS } from './baseline.mjs';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The text of b[s, e): for ASCII, straight from the bytes (a TextDecoder
 * call costs microseconds of fixed overhead, more than the short strings
 * read here take to copy); otherwise decoded as UTF-8.
 */
function text(b, s, e) {
  let ascii = true;
  for (let k = s; k < e; k++) if (b[k] >= 0x80) { ascii = false; break; }
  if (!ascii || e - s > 8192) return dec.decode(b.subarray(s, e));
  return String.fromCharCode.apply(null, b.subarray(s, e));
}

/** Growable Int32Array. */
function grow(a, n) {
  if (n <= a.length) return a;
  const b = new Int32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/** Interned byte strings: symbols numbered from 0, found by hash. */
class Symbols {
  constructor(body) {
    this.body = body;
    this.start = new Int32Array(1024);
    this.len = new Int32Array(1024);
    /** Bytes of strings that had escapes, decoded (start < 0 → -1 - offset here). */
    this.extra = [];
    this.count = 0;
    this.mask = 4095;
    this.slots = new Int32Array(4096).fill(-1);
    this.hashes = new Int32Array(1024);
  }

  bytesEqual(sym, src, s, n) {
    if (this.len[sym] !== n) return false;
    const st = this.start[sym];
    const a = st >= 0 ? this.body : this.extra[-1 - st];
    const o = st >= 0 ? st : 0;
    for (let k = 0; k < n; k++) if (a[o + k] !== src[s + k]) return false;
    return true;
  }

  /** Symbol of src[s, s+n) (add: create it if new), or -1. */
  find(src, s, n, add) {
    const h = hashBytes(src, s, n);
    let i = h & this.mask;
    for (;;) {
      const sym = this.slots[i];
      if (sym < 0) break;
      if (this.hashes[sym] === h && this.bytesEqual(sym, src, s, n)) return sym;
      i = (i + 1) & this.mask;
    }
    if (!add) return -1;
    const sym = this.count++;
    if (sym >= this.start.length) {
      this.start = grow(this.start, sym + 1);
      this.len = grow(this.len, sym + 1);
      this.hashes = grow(this.hashes, sym + 1);
    }
    if (src === this.body) this.start[sym] = s;
    else {
      this.extra.push(src.slice(s, s + n));
      this.start[sym] = -this.extra.length;
    }
    this.len[sym] = n;
    this.hashes[sym] = h;
    this.slots[i] = sym;
    if (this.count * 2 > this.mask) this.rehash();
    return sym;
  }

  rehash() {
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    for (let sym = 0; sym < this.count; sym++) {
      let i = this.hashes[sym] & this.mask;
      while (this.slots[i] >= 0) i = (i + 1) & this.mask;
      this.slots[i] = sym;
    }
  }

  text(sym) {
    const st = this.start[sym];
    return st >= 0 ? text(this.body, st, st + this.len[sym]) : dec.decode(this.extra[-1 - st]);
  }
}

/** FNV-1a over 32-bit words, then a final mix. */
function hashBytes(b, s, n) {
  let h = 0x811c9dc5 ^ n;
  let i = s;
  const end = s + n;
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)), 0x01000193);
  for (; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

// The call keys read, told apart by length and a byte or two.
const K_OTHER = 0, K_ID = 1, K_TRACE = 2, K_PARENT = 3, K_PROJECT = 4, K_STARTED = 5, K_ENDED = 6, K_DELETED = 7, K_SUMMARY = 8;
const word = (s) => [...s].map((c) => c.charCodeAt(0));
const KEYS = [
  ['id', K_ID], ['trace_id', K_TRACE], ['parent_id', K_PARENT], ['project_id', K_PROJECT],
  ['started_at', K_STARTED], ['ended_at', K_ENDED], ['deleted_at', K_DELETED], ['summary', K_SUMMARY],
].map(([k, v]) => [word(k), v]);

function keyOf(b, s, n) {
  // Most keys are none of these: reject by length, then by first byte.
  if (n !== 2 && n !== 7 && n !== 8 && n !== 9 && n !== 10) return K_OTHER;
  const c = b[s];
  if (c !== 0x69 && c !== 0x74 && c !== 0x70 && c !== 0x73 && c !== 0x65 && c !== 0x64) return K_OTHER;
  for (let k = 0; k < KEYS.length; k++) {
    const w = KEYS[k][0];
    if (w.length !== n) continue;
    let same = true;
    for (let j = 0; j < n; j++) if (b[s + j] !== w[j]) { same = false; break; }
    if (same) return KEYS[k][1];
  }
  return K_OTHER;
}

/** A key written with escapes: decoded, then told like any other. */
function escapedKey(b, ks, end) {
  const bytes = enc.encode(JSON.parse(dec.decode(b.subarray(ks - 1, end))));
  return keyOf(bytes, 0, bytes.length);
}

/**
 * The index after the string whose opening quote is at `i`; sets
 * `state.escaped` if it holds a backslash. Eight bytes a step.
 */
function skipString(b, dv, i, n, state) {
  i++;
  const last = n - 8;
  for (;;) {
    // Eight bytes a step while neither word holds a `"` or a `\`.
    while (i <= last) {
      const x = dv.getUint32(i, true);
      const y = dv.getUint32(i + 4, true);
      const qx = x ^ 0x22222222, ex = x ^ 0x5c5c5c5c, qy = y ^ 0x22222222, ey = y ^ 0x5c5c5c5c;
      const tx = (((qx - 0x01010101) & ~qx) | ((ex - 0x01010101) & ~ex)) & 0x80808080;
      if (tx !== 0) {
        // The lowest flagged byte is exact.
        i += (31 - Math.clz32(tx & -tx)) >> 3;
        break;
      }
      const ty = (((qy - 0x01010101) & ~qy) | ((ey - 0x01010101) & ~ey)) & 0x80808080;
      if (ty !== 0) {
        i += 4 + ((31 - Math.clz32(ty & -ty)) >> 3);
        break;
      }
      i += 8;
    }
    if (i > last) {
      // The last bytes, one at a time.
      while (i < n) {
        const c = b[i];
        if (c === QUOTE) return i + 1;
        if (c === BACKSLASH) {
          state.escaped = true;
          i += 2;
        } else i++;
      }
      return n;
    }
    if (b[i] === QUOTE) return i + 1;
    // A backslash: step over what it escapes.
    state.escaped = true;
    i += 2;
  }
}

/** The index after the value at `i` (not white space), skipped. */
function skipValue(b, dv, i, n, state) {
  let c = b[i];
  if (c === QUOTE) return skipString(b, dv, i, n, state);
  if (c !== 0x7b && c !== 0x5b) {
    // A number or a literal: up to the next delimiter.
    while (i < n) {
      c = b[i];
      if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  while (i < n) {
    c = b[i];
    if (c === QUOTE) {
      i = skipString(b, dv, i, n, state);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return i + 1;
    }
    i++;
  }
  return n;
}

/** The string value at b[s, e) (quotes excluded) as interned, decoding escapes if any. */
function intern(syms, b, s, e, escaped, add) {
  if (!escaped) return syms.find(b, s, e - s, add);
  const bytes = enc.encode(JSON.parse(dec.decode(b.subarray(s - 1, e + 1))));
  return syms.find(bytes, 0, bytes.length, add);
}

/** The `/calls/usage` answer for `body` (bytes) and `request`, like bench/baseline.mjs's `rollup`. */
export function scanUsage(body, { project_id, call_ids, include_costs = false, limit = 10000 }) {
  const b = body;
  const n = b.length;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const syms = new Symbols(b);
  const project = enc.encode(project_id);
  const state = { escaped: false };

  let cap = 1 << 14;
  let idSym = new Int32Array(cap), traceSym = new Int32Array(cap), parentSym = new Int32Array(cap);
  // Byte spans (start of content, end) of started_at and summary; flags:
  // 1 ended, 2 deleted, 4 another project.
  let started = new Int32Array(cap * 2), summary = new Int32Array(cap * 2), flags = new Int32Array(cap);
  let count = 0;
  let lastTrace = -1, lastTraceStart = 0, lastTraceLen = 0;

  let i = 0;
  while (i < n) {
    // Top level: up to the next call's `{` (JSON Lines or array alike).
    if (b[i] !== 0x7b) {
      i++;
      continue;
    }
    if (count === cap) {
      cap *= 2;
      idSym = grow(idSym, cap); traceSym = grow(traceSym, cap); parentSym = grow(parentSym, cap);
      started = grow(started, cap * 2); summary = grow(summary, cap * 2); flags = grow(flags, cap);
    }
    let id = -1, trace = -1, parent = -1, fl = 0, st0 = -1, st1 = -1, su0 = -1, su1 = -1;
    i++;
    for (;;) {
      // At a key, a `,` or the `}`.
      let c = b[i];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c) c = b[++i];
      if (c !== QUOTE) {
        i++;
        break; // `}` (or the end)
      }
      const ks = i + 1;
      state.escaped = false;
      i = skipString(b, dv, i, n, state);
      const key = state.escaped ? escapedKey(b, ks, i) : keyOf(b, ks, i - 1 - ks);
      c = b[i];
      while (c !== 0x3a && i < n) c = b[++i];
      c = b[++i];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
      const vs = i;
      state.escaped = false;
      i = skipValue(b, dv, i, n, state);
      if (key === K_OTHER) continue;
      const isNull = c === 0x6e;
      const isString = c === QUOTE;
      switch (key) {
        case K_ID:
          id = isString ? intern(syms, b, vs + 1, i - 1, state.escaped, true) : -1;
          break;
        case K_TRACE:
          if (!isString) trace = -1;
          else if (!state.escaped && lastTrace >= 0 && i - 2 - vs === lastTraceLen && syms.bytesEqual(lastTrace, b, vs + 1, lastTraceLen)) trace = lastTrace;
          else {
            trace = intern(syms, b, vs + 1, i - 1, state.escaped, true);
            lastTrace = trace;
            lastTraceLen = i - 2 - vs;
            lastTraceStart = vs + 1;
          }
          break;
        case K_PARENT:
          parent = isString ? intern(syms, b, vs + 1, i - 1, state.escaped, true) : -1;
          break;
        case K_PROJECT: {
          fl &= ~4;
          if (isNull) break;
          let same = i - 2 - vs === project.length && !state.escaped;
          for (let k = 0; same && k < project.length; k++) same = b[vs + 1 + k] === project[k];
          if (!same && state.escaped) same = JSON.parse(dec.decode(b.subarray(vs, i))) === project_id;
          if (!same) fl |= 4;
          break;
        }
        case K_STARTED:
          if (isString) { st0 = vs + 1; st1 = i - 1; } else st0 = st1 = -1;
          break;
        case K_ENDED:
          fl = isNull ? fl & ~1 : fl | 1;
          break;
        case K_DELETED:
          fl = isNull ? fl & ~2 : fl | 2;
          break;
        case K_SUMMARY:
          if (isNull) su0 = su1 = -1;
          else { su0 = vs; su1 = i; }
          break;
      }
    }
    idSym[count] = id;
    traceSym[count] = trace;
    parentSym[count] = parent;
    flags[count] = fl;
    started[2 * count] = st0;
    started[2 * count + 1] = st1;
    summary[2 * count] = su0;
    summary[2 * count + 1] = su1;
    count++;
  }
  void lastTraceStart;

  // Live calls: a later live duplicate replaces an earlier one.
  const requested = [...new Set(call_ids)];
  if (requested.length === 0) return { call_usage: {}, unfinished_call_ids: [] };
  const nsym = syms.count;
  const lastOf = new Int32Array(nsym).fill(-1);
  for (let k = 0; k < count; k++) if ((flags[k] & 6) === 0 && idSym[k] >= 0) lastOf[idSym[k]] = k;
  const wanted = new Uint8Array(nsym);
  let anyTrace = false;
  const reqSym = requested.map((id) => {
    const bytes = enc.encode(id);
    const sym = syms.find(bytes, 0, bytes.length, false);
    if (sym >= 0 && lastOf[sym] >= 0) {
      wanted[traceSym[lastOf[sym]]] = 1;
      anyTrace = true;
    }
    return sym;
  });
  if (!anyTrace) return { call_usage: Object.fromEntries(requested.map((id) => [id, {}])), unfinished_call_ids: [] };

  // The scope, in the server's order (started_at, then id), cut at limit.
  const scope = [];
  for (let sym = 0; sym < nsym; sym++) {
    const k = lastOf[sym];
    if (k >= 0 && wanted[traceSym[k]] === 1) scope.push(k);
  }
  const instant = new Map();
  const idText = new Map();
  for (const k of scope) {
    const s = started[2 * k];
    const raw = s >= 0 ? text(b, s - 1, started[2 * k + 1] + 1) : null;
    const str = raw === null ? null : raw.includes('\\') ? JSON.parse(raw) : raw.slice(1, -1);
    const t = str === null ? NaN : Date.parse(str);
    const micros = /\.\d{3}(\d{1,3})/.exec(str ?? '');
    instant.set(k, Number.isNaN(t) ? Infinity : t * 1000 + (micros ? Number(micros[1].padEnd(3, '0')) : 0));
    idText.set(k, syms.text(idSym[k]));
  }
  scope.sort((x, y) => instant.get(x) - instant.get(y) || (idText.get(x) < idText.get(y) ? -1 : idText.get(x) > idText.get(y) ? 1 : 0));
  scope.length = Math.min(scope.length, limit);

  // Bottom-up rollup over the scope (positions indexed by symbol).
  const m = scope.length;
  const posOf = new Int32Array(nsym).fill(-1);
  scope.forEach((k, p) => (posOf[idSym[k]] = p));
  const pending = new Int32Array(m);
  const up = new Int32Array(m).fill(-1);
  for (let p = 0; p < m; p++) {
    const par = parentSym[scope[p]];
    if (par >= 0 && posOf[par] >= 0) {
      up[p] = posOf[par];
      pending[up[p]]++;
    }
  }
  const usage = scope.map((k) => {
    const s = summary[2 * k];
    if (s < 0) return new Map();
    return ownUsage({ summary: JSON.parse(text(b, s, summary[2 * k + 1])) }, include_costs);
  });
  const queue = [];
  for (let p = 0; p < m; p++) if (pending[p] === 0) queue.push(p);
  for (let q = 0; q < queue.length; q++) {
    const p = queue[q];
    const to = up[p];
    if (to < 0) continue;
    const into = usage[to];
    for (const [model, u] of usage[p]) {
      const acc = into.get(model);
      if (!acc) into.set(model, { t: [...u.t], c: [...u.c] });
      else {
        for (let k = 0; k < 6; k++) acc.t[k] += u.t[k];
        for (let k = 0; k < 4; k++) acc.c[k] += u.c[k];
      }
    }
    if (--pending[to] === 0) queue.push(to);
  }

  const call_usage = {};
  requested.forEach((id, r) => {
    const models = {};
    const sym = reqSym[r];
    const p = sym >= 0 ? posOf[sym] : -1;
    if (p >= 0) {
      for (const [model, u] of usage[p]) {
        const entry = {};
        TOKEN_FIELDS.forEach((f, k) => (entry[f] = u.t[k]));
        COST_FIELDS.forEach((f, k) => (entry[f] = include_costs ? u.c[k] : null));
        Object.defineProperty(models, model, { value: entry, enumerable: true, writable: true, configurable: true });
      }
    }
    Object.defineProperty(call_usage, id, { value: models, enumerable: true, writable: true, configurable: true });
  });
  const unfinished = [...new Set(scope.filter((k) => (flags[k] & 1) === 0).map((k) => idText.get(k)))].sort();
  return { call_usage, unfinished_call_ids: unfinished };
}
