// Finds what the page lists before asking the library anything: the root
// calls of a calls export, its projects and the size of each trace, and
// where each trace's calls are in the file (for the trace view). Fed the
// file's bytes in chunks as they are read; each call (a line of JSON Lines,
// an element of a JSON array) is parsed on its own, so no string ever holds
// the whole file (a file of a million calls is larger than the longest
// string an engine allows). Lenient on purpose: a call it cannot read is
// skipped, because the library reads the same bytes and reports exactly
// what is wrong, with the line number.

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
  #traces = new Map();
  #spans = new Map(); // trace id → [start, end, start, end, …] file offsets of its calls
  #projects = new Map();
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
    const projects = [...this.#projects].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([id, calls]) => ({ id, calls }));
    return {
      format: this.#format ?? 'jsonl',
      calls: this.#calls,
      projects,
      roots,
      traceSizes: Object.fromEntries(this.#traces),
      lineOfCall: this.#format === 'array' ? null : this.#lineOfCall,
    };
  }

  /** Where the calls naming `traceId` as their trace are in the file:
   * offsets [start, end, start, end, …], in file order. */
  spansOf(traceId) {
    return this.#spans.get(traceId) ?? [];
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
    let call;
    try {
      call = JSON.parse(this.#decoder.decode(bytes));
    } catch {
      return; // Skipped: see the comment at the top.
    }
    if (call === null || typeof call !== 'object' || typeof call.id !== 'string') return;
    if (typeof call.trace_id === 'string') {
      let spans = this.#spans.get(call.trace_id);
      if (!spans) this.#spans.set(call.trace_id, (spans = []));
      spans.push(start, end);
    }
    // As the library counts: deleted calls are ignored, the last of several
    // calls with one id is the one that counts.
    if (call.deleted_at) {
      this.#roots.delete(call.id);
      return;
    }
    this.#calls++;
    tally(this.#traces, call.trace_id);
    // A call without a project belongs to whichever project is asked for.
    if (typeof call.project_id === 'string') tally(this.#projects, call.project_id);
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

function count(bytes, byte) {
  let n = 0;
  for (let i = bytes.indexOf(byte); i >= 0; i = bytes.indexOf(byte, i + 1)) n++;
  return n;
}

function tally(map, key) {
  map.set(key, (map.get(key) ?? 0) + 1);
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
      c = JSON.parse(decoder.decode(bytes.subarray(spans[i], spans[i + 1])));
    } catch {
      continue; // The scanner read it; a changed file is not ours to report.
    }
    if (c !== null && typeof c === 'object' && typeof c.id === 'string') {
      out.push({ id: c.id, parent_id: typeof c.parent_id === 'string' ? c.parent_id : null, name: c.display_name || opName(c.op_name) || 'call' });
    }
  }
  return out;
}
