// Finds what the page lists before asking the library anything: the root
// calls of a calls export, its projects and the size of each trace, and
// where each trace's calls are in the file (for the trace view). Fed the
// file's bytes in chunks as they are read; each call (a line of JSON Lines,
// an element of a JSON array) is read on its own, so no string ever holds
// the whole file (a file of a million calls is larger than the longest
// string an engine allows): its few top-level fields straight from its
// bytes (`plainFields`), or, when it is not that plain, by JSON.parse.
// Lenient on purpose: a call it cannot read is skipped, because the library
// reads the same bytes and reports exactly what is wrong, with the line
// number.

/** The text of UTF-8 bytes, which may be in shared memory (the file is,
 * when the page is cross-origin isolated and the file is read across
 * workers), where TextDecoder refuses them: those are copied first. */
export function decodeBytes(decoder, bytes) {
  return decoder.decode(bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice());
}

/** "weave:///acme/agents/op/agent.run:322d44a7" → "agent.run". */
export function opName(ref) {
  if (typeof ref !== 'string') return '';
  const m = ref.match(/^weave:\/\/\/[^/]+\/[^/]+\/op\/(.+?)(?::[^:/]*)?$/);
  return m ? m[1] : ref;
}

const NL = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;
const isSpace = (b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

export class CallScanner {
  #decoder = new TextDecoder();
  #format = null; // 'jsonl' or 'array', from the first non-blank byte
  #offset = 0; // bytes fed so far
  #pieces = []; // the current call's bytes from earlier chunks
  #start = 0; // file offset of the current call's first byte, or -1 (none yet)
  // array: the splitter's state between chunks
  #depth = 0;
  #inString = false;
  #escaped = false;
  #line = 0;
  #roots = new Map();
  /** trace id → { calls: live calls, spans: [start, end, start, end, …]
   * file offsets of all its calls (string trace ids only) } */
  #traces = new Map();
  #projects = new Map(); // project id → { calls }
  // The last trace and project looked up, and their entries: a trace's
  // calls are mostly together, so most calls look up neither map.
  #lastTrace = null;
  #lastProject = null;
  #calls = 0;
  /** jsonl: the line number of each non-blank line, i.e. of the call with that index. */
  #lineOfCall = [];

  /** Feeds the next chunk of the file (a Uint8Array, split anywhere). */
  push(chunk) {
    if (this.#format === null) {
      let i = 0;
      while (i < chunk.length && isSpace(chunk[i])) i++;
      if (i === chunk.length) {
        this.#line += count(chunk, NL);
        this.#offset += chunk.length;
        return;
      }
      this.#format = chunk[i] === OPEN_SQUARE ? 'array' : 'jsonl';
      if (this.#format === 'jsonl') {
        // The blank lines before the first call still count as lines.
        this.#line += count(chunk.subarray(0, i), NL);
        let lineStart = i;
        while (lineStart > 0 && chunk[lineStart - 1] !== NL) lineStart--;
        this.#start = this.#offset + lineStart;
        this.#jsonl(chunk, lineStart);
      } else {
        this.#start = -1;
        this.#array(chunk, i);
      }
      this.#offset += chunk.length;
      return;
    }
    if (this.#format === 'jsonl') this.#jsonl(chunk, 0);
    else this.#array(chunk, 0);
    this.#offset += chunk.length;
  }

  /** Ends the file and returns what was found. */
  finish() {
    if (this.#format === 'jsonl' && this.#pieces.length) this.#lineDone(this.#offset);
    this.#pieces = [];
    const roots = [...this.#roots.values()].sort(
      (a, b) => cmp(a.started_at ?? '\uffff', b.started_at ?? '\uffff') || cmp(a.id, b.id),
    );
    const projects = [...this.#projects].map(([id, p]) => [id, p.calls]).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([id, calls]) => ({ id, calls }));
    return {
      format: this.#format ?? 'jsonl',
      calls: this.#calls,
      projects,
      roots,
      traceSizes: Object.fromEntries([...this.#traces].filter(([, t]) => t.calls > 0).map(([id, t]) => [id, t.calls])),
      lineOfCall: this.#format === 'array' ? null : this.#lineOfCall,
    };
  }

  /** Where the calls naming `traceId` as their trace are in the file:
   * offsets [start, end, start, end, …], in file order. */
  spansOf(traceId) {
    return this.#traces.get(traceId)?.spans ?? [];
  }

  #jsonl(chunk, from) {
    let at = from;
    for (;;) {
      const nl = chunk.indexOf(NL, at);
      if (nl < 0) break;
      this.#pieces.push(chunk.subarray(at, nl));
      this.#lineDone(this.#offset + nl);
      at = nl + 1;
      this.#start = this.#offset + at;
    }
    // Copied: the caller may reuse the chunk's buffer.
    if (at < chunk.length) this.#pieces.push(chunk.slice(at));
  }

  #lineDone(end) {
    this.#line++;
    const bytes = this.#take();
    let i = 0;
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (i === bytes.length) return;
    this.#lineOfCall.push(this.#line);
    this.#call(bytes, this.#start, end);
  }

  /** The JSON array splitter: a call is each top-level element. Strings are
   * followed (a bracket or comma in one is not structure); anything else is
   * left to JSON.parse, which skips what it cannot read. */
  #array(chunk, from) {
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    let start = this.#start; // -1: between elements
    const base = this.#offset;
    const n = chunk.length;
    let pieceFrom = start >= 0 ? from : -1;
    // Strings are skipped with indexOf (most of a call's bytes are in
    // strings); the next quote and backslash found are kept until passed.
    let nextQuote = -2; // -2: not looked for yet; -1: none in the chunk
    let nextSlash = -2;
    let i = from;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        if (nextSlash === -2 || (nextSlash >= 0 && nextSlash < i)) nextSlash = chunk.indexOf(BACKSLASH, i);
        if (nextQuote === -2 || (nextQuote >= 0 && nextQuote < i)) nextQuote = chunk.indexOf(QUOTE, i);
        const quote = nextQuote < 0 ? n : nextQuote;
        if (nextSlash >= 0 && nextSlash < quote) {
          escaped = true;
          i = nextSlash + 1;
        } else {
          inString = quote === n;
          i = quote + 1;
        }
        continue;
      }
      const b = chunk[i];
      if (b === QUOTE) {
        inString = true;
      } else if (b === OPEN_CURLY || b === OPEN_SQUARE) {
        depth++;
        if (depth === 1) {
          i++;
          continue; // the array itself
        }
      } else if (b === CLOSE_CURLY || b === CLOSE_SQUARE) {
        depth--;
        if (depth === 0) {
          if (start >= 0) this.#element(chunk, pieceFrom, i, start, base + i);
          start = -1;
          i++;
          continue;
        }
      } else if (b === COMMA && depth === 1) {
        if (start >= 0) this.#element(chunk, pieceFrom, i, start, base + i);
        start = -1;
        i++;
        continue;
      } else if (isSpace(b)) {
        i++;
        continue;
      }
      if (start < 0 && depth >= 1) {
        start = base + i;
        pieceFrom = i;
      }
      i++;
    }
    if (start >= 0) this.#pieces.push(chunk.slice(pieceFrom));
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    this.#start = start;
  }

  #element(chunk, from, to, start, end) {
    this.#pieces.push(chunk.subarray(from, to));
    this.#call(this.#take(), start, end);
  }

  /** The current call's bytes, joined. */
  #take() {
    const pieces = this.#pieces;
    this.#pieces = [];
    if (pieces.length === 1) return pieces[0];
    let size = 0;
    for (const p of pieces) size += p.length;
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const p of pieces) {
      bytes.set(p, at);
      at += p.length;
    }
    return bytes;
  }

  #call(bytes, start, end) {
    let call = plainFields(bytes);
    if (call === null) {
      try {
        call = JSON.parse(decodeBytes(this.#decoder, bytes));
      } catch {
        return; // Skipped: see the comment at the top.
      }
    }
    if (call === null || typeof call !== 'object' || typeof call.id !== 'string') return;
    let trace = this.#lastTrace;
    if (trace === null || trace.id !== call.trace_id) this.#lastTrace = trace = entry(this.#traces, call.trace_id);
    if (typeof call.trace_id === 'string') trace.spans.push(start, end);
    // As the library counts: deleted calls are ignored, the last of several
    // calls with one id is the one that counts.
    if (call.deleted_at) {
      this.#roots.delete(call.id);
      return;
    }
    this.#calls++;
    trace.calls++;
    // A call without a project belongs to whichever project is asked for.
    if (typeof call.project_id === 'string') {
      let project = this.#lastProject;
      if (project === null || project.id !== call.project_id) this.#lastProject = project = entry(this.#projects, call.project_id);
      project.calls++;
    }
    if (call.parent_id == null) {
      this.#roots.set(call.id, {
        id: call.id,
        trace_id: call.trace_id,
        project_id: call.project_id ?? null,
        name: call.display_name || opName(call.op_name) || 'call',
        started_at: typeof call.started_at === 'string' ? call.started_at : null,
        ended: call.ended_at != null,
      });
    } else {
      this.#roots.delete(call.id);
    }
  }
}

// The top-level keys the scanner reads, and their bytes. Of the first three
// the text is always needed; of the next three only whether they are null
// (or, `deleted_at`, empty); of the last three the text, for roots only.
const FIELDS = ['id', 'trace_id', 'project_id', 'parent_id', 'deleted_at', 'ended_at', 'display_name', 'op_name', 'started_at'];
const FIELD_BYTES = FIELDS.map((k) => new TextEncoder().encode(k));
const TRACE = 1;
const PROJECT = 2;
const PARENT = 3;
const ONLY_NULL = 6; // fields before this are read in full
const COLON = 0x3a;
const fieldDecoder = new TextDecoder();
/** Per field: its string value's start and end, or ABSENT, or NULL. */
const spans = new Int32Array(2 * FIELDS.length);
const ABSENT = -1;
const NULL = -2;

/**
 * The top-level fields of a call that the scanner reads (`FIELDS`), straight
 * from its bytes: JSON.parse of a whole call spends most of its time
 * building `inputs`, `output` and `attributes`, which the scanner never
 * looks at. Returns an object holding those of the keys the call has, each
 * a string or null, as JSON.parse would read them (a later duplicate key
 * wins), except that `parent_id`, `deleted_at` and `ended_at` hold a
 * stand-in string of the same emptiness, and the last three are left out
 * unless `parent_id` is null or absent. Or it returns null when the call is
 * not that plain (not an object, a key with an escape, one of those keys
 * with another kind of value or a string with an escape, bytes that are not
 * JSON where it looks), for JSON.parse to decide. Other values are skipped
 * by counting brackets outside strings, which is exact on JSON and lenient
 * on the rest: the library reads the same bytes and rejects what is not
 * JSON.
 */
export function plainFields(b) {
  const n = b.length;
  let i = skipSpace(b, 0, n);
  if (b[i] !== OPEN_CURLY) return null;
  const dv = new DataView(b.buffer, b.byteOffset, n);
  spans.fill(ABSENT);
  i = skipSpace(b, i + 1, n);
  if (b[i] === CLOSE_CURLY) return skipSpace(b, i + 1, n) === n ? {} : null;
  for (;;) {
    if (b[i] !== QUOTE) return null;
    const keyEnd = b.indexOf(QUOTE, i + 1);
    if (keyEnd < 0) return null;
    const field = fieldAt(b, i + 1, keyEnd);
    if (field === -2) return null;
    i = skipSpace(b, keyEnd + 1, n);
    if (b[i] !== COLON) return null;
    i = skipSpace(b, i + 1, n);
    if (field >= 0) {
      if (b[i] === QUOTE) {
        const end = b.indexOf(QUOTE, i + 1);
        if (end < 0) return null;
        for (let j = i + 1; j < end; j++) if (b[j] === BACKSLASH) return null;
        spans[2 * field] = i + 1;
        spans[2 * field + 1] = end;
        i = end + 1;
      } else if (b[i] === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
        spans[2 * field] = NULL;
        i += 4;
      } else return null;
    } else {
      i = skipValue(b, dv, i, n);
      if (i < 0) return null;
    }
    i = skipSpace(b, i, n);
    if (b[i] === COMMA) i = skipSpace(b, i + 1, n);
    else if (b[i] === CLOSE_CURLY) break;
    else return null;
  }
  if (skipSpace(b, i + 1, n) !== n) return null;
  const out = {};
  const root = spans[2 * PARENT] < 0;
  for (let f = 0; f < FIELDS.length; f++) {
    const s = spans[2 * f];
    if (s === ABSENT || (f >= ONLY_NULL && !root)) continue;
    const e = spans[2 * f + 1];
    if (s === NULL) out[FIELDS[f]] = null;
    else if (f === TRACE || f === PROJECT) out[FIELDS[f]] = repeated(f, b, s, e);
    else if (f < PARENT || f >= ONLY_NULL) out[FIELDS[f]] = text(b, s, e);
    else out[FIELDS[f]] = e > s ? 'x' : '';
  }
  return out;
}

/** Per field, the last text made by `repeated`, and its bytes. */
const lastText = FIELDS.map(() => '');
const lastBytes = FIELDS.map(() => new Uint8Array(0));

/** The text of b[s, e), field `f`'s value: the last call's, if the bytes
 * are the same (a trace's calls are mostly together, and all of a
 * project's), which is cheaper to check than to decode. */
function repeated(f, b, s, e) {
  const last = lastBytes[f];
  if (last.length === e - s) {
    let j = 0;
    while (j < last.length && last[j] === b[s + j]) j++;
    if (j === last.length) return lastText[f];
  }
  lastBytes[f] = b.slice(s, e);
  return (lastText[f] = text(b, s, e));
}

/** The text of b[s, e): a TextDecoder call costs more than copying a short ASCII string. */
function text(b, s, e) {
  const n = e - s;
  if (n > 64) return decodeBytes(fieldDecoder, b.subarray(s, e));
  codes.length = n;
  for (let j = 0; j < n; j++) {
    const c = b[s + j];
    if (c >= 0x80) return decodeBytes(fieldDecoder, b.subarray(s, e));
    codes[j] = c;
  }
  return String.fromCharCode.apply(null, codes);
}
const codes = [];

function skipSpace(b, i, n) {
  while (i < n && isSpace(b[i])) i++;
  return i;
}

/** Which of `FIELDS` the key b[s, e) is: its index, -1 for none, -2 for a key with an escape. */
function fieldAt(b, s, e) {
  const len = e - s;
  for (let f = 0; f < FIELD_BYTES.length; f++) {
    const k = FIELD_BYTES[f];
    if (k.length !== len) continue;
    let j = 0;
    while (j < len && b[s + j] === k[j]) j++;
    if (j === len) return f;
  }
  for (let j = s; j < e; j++) if (b[j] === BACKSLASH) return -2;
  return -1;
}

/** The index after the value at `i` (not white space), or -1 where the bytes end first. */
function skipValue(b, dv, i, n) {
  let depth = 0;
  while (i < n) {
    const c = b[i];
    if (c === QUOTE) {
      i = afterString(b, dv, i + 1, n);
      if (i < 0 || depth === 0) return i;
      continue;
    }
    if (c === OPEN_CURLY || c === OPEN_SQUARE) depth++;
    else if (c === CLOSE_CURLY || c === CLOSE_SQUARE) {
      if (depth === 0) return i; // the end of the call: a number or a literal ended
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === COMMA || isSpace(c))) return i;
    i++;
  }
  return depth === 0 ? i : -1;
}

/**
 * The index after the string whose contents start at `j`, or -1. Four
 * bytes a step while none is a quote or a backslash (the classic "has a
 * zero byte" word test; the lowest flagged byte is exact).
 */
function afterString(b, dv, j, n) {
  const words = n - 4;
  for (;;) {
    while (j <= words) {
      const x = dv.getUint32(j, true);
      const q = x ^ 0x22222222;
      const e = x ^ 0x5c5c5c5c;
      const t = (((q - 0x01010101) & ~q) | ((e - 0x01010101) & ~e)) & 0x80808080;
      if (t !== 0) {
        j += (31 - Math.clz32(t & -t)) >> 3;
        break;
      }
      j += 4;
    }
    if (j >= n) return -1;
    const c = b[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j += 2;
    else j++;
  }
}

function count(bytes, byte) {
  let n = 0;
  for (let i = bytes.indexOf(byte); i >= 0; i = bytes.indexOf(byte, i + 1)) n++;
  return n;
}

/** `map`'s entry for `id`, made if new. */
function entry(map, id) {
  let e = map.get(id);
  if (e === undefined) map.set(id, (e = { id, calls: 0, spans: [] }));
  return e;
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The calls of one trace, for the trace view: `{ id, parent_id, name }`
 * each, as the file has them (the library decides which of them count).
 * `bytes`: the file; `spans`: where the trace's calls are
 * (`CallScanner.spansOf`).
 */
export function traceCalls(bytes, spans) {
  const decoder = new TextDecoder();
  const out = [];
  for (let i = 0; i + 1 < spans.length; i += 2) {
    let c;
    try {
      c = JSON.parse(decodeBytes(decoder, bytes.subarray(spans[i], spans[i + 1])));
    } catch {
      continue; // The scanner read it; a changed file is not ours to report.
    }
    if (c !== null && typeof c === 'object' && typeof c.id === 'string') {
      out.push({ id: c.id, parent_id: typeof c.parent_id === 'string' ? c.parent_id : null, name: c.display_name || opName(c.op_name) || 'call' });
    }
  }
  return out;
}
