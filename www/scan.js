// Finds what the page lists before asking the library anything: the root
// calls of a calls export, its projects and the size of each trace. Fed the
// file's bytes in chunks as they are read. Lenient on purpose: a line it
// cannot read is skipped, because the library reads the same bytes and
// reports exactly what is wrong, with the line number.

/** "weave:///acme/agents/op/agent.run:322d44a7" → "agent.run". */
export function opName(ref) {
  if (typeof ref !== 'string') return '';
  const m = ref.match(/^weave:\/\/\/[^/]+\/[^/]+\/op\/(.+?)(?::[^:/]*)?$/);
  return m ? m[1] : ref;
}

export class CallScanner {
  #decoder = new TextDecoder();
  #format = null; // 'jsonl' or 'array', from the first character
  #pending = ''; // jsonl: the unfinished last line; array: the whole text
  #line = 0;
  #roots = new Map();
  #traces = new Map();
  #projects = new Map();
  #calls = 0;
  /** jsonl: the line number of each non-blank line, i.e. of the call with that index. */
  #lineOfCall = [];

  /** Feeds the next chunk of the file (a Uint8Array, split anywhere). */
  push(chunk) {
    this.#text(this.#decoder.decode(chunk, { stream: true }));
  }

  /** Ends the file and returns what was found. */
  finish() {
    this.#text(this.#decoder.decode());
    if (this.#format === 'array') {
      let calls = [];
      try {
        calls = JSON.parse(this.#pending);
      } catch {
        // The library reports where the array is broken.
      }
      if (Array.isArray(calls)) calls.forEach((c) => this.#observe(c));
    } else if (this.#pending) {
      this.#lineDone(this.#pending);
    }
    this.#pending = '';
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

  #text(text) {
    if (!text) return;
    if (this.#format === null) {
      const first = text.trimStart()[0];
      if (first === undefined) return; // only whitespace so far
      this.#format = first === '[' ? 'array' : 'jsonl';
    }
    if (this.#format === 'array') {
      this.#pending += text;
      return;
    }
    const lines = (this.#pending + text).split('\n');
    this.#pending = lines.pop();
    for (const line of lines) this.#lineDone(line);
  }

  #lineDone(line) {
    this.#line++;
    if (!line.trim()) return;
    this.#lineOfCall.push(this.#line);
    try {
      this.#observe(JSON.parse(line));
    } catch {
      // Skipped: see the comment at the top.
    }
  }

  #observe(call) {
    if (call === null || typeof call !== 'object' || typeof call.id !== 'string') return;
    // As the library counts: deleted calls are ignored, the last of several
    // calls with one id is the one that counts.
    if (call.deleted_at) {
      this.#roots.delete(call.id);
      return;
    }
    this.#calls++;
    count(this.#traces, call.trace_id);
    // A call without a project belongs to whichever project is asked for.
    if (typeof call.project_id === 'string') count(this.#projects, call.project_id);
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

function count(map, key) {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The calls of one trace in a calls export (its text), for the trace view:
 * `{ id, parent_id, name }` each, as the file has them (the library decides
 * which of them count). Lines that cannot be read are skipped, as above.
 */
export function traceCalls(text, traceId) {
  const out = [];
  const keep = (c) => {
    if (c !== null && typeof c === 'object' && c.trace_id === traceId && typeof c.id === 'string') {
      out.push({ id: c.id, parent_id: typeof c.parent_id === 'string' ? c.parent_id : null, name: c.display_name || opName(c.op_name) || 'call' });
    }
  };
  if (text.trimStart().startsWith('[')) {
    try {
      const calls = JSON.parse(text);
      if (Array.isArray(calls)) calls.forEach(keep);
    } catch {
      // The library reports where the array is broken.
    }
    return out;
  }
  // Only lines that mention the trace id are parsed (when it is plain
  // ASCII, which JSON writes as is; otherwise every line).
  const plain = /^[\x20-\x7e]*$/.test(traceId) && !/["\\]/.test(traceId);
  for (const line of text.split('\n')) {
    if (plain && !line.includes(traceId)) continue;
    try {
      keep(JSON.parse(line));
    } catch {
      // Skipped.
    }
  }
  return out;
}
