// Turns what the library (or reading a file) throws into a plain report the
// page can show and a worker can post: a title, a sentence, the `detail`
// entries as a list, and for bad JSON the offending line with a caret.

import { lineOfCall } from './calls.js';

const EXCERPT = 100; // characters of a long line shown around the error

/**
 * `e`: the thrown value. `file`: what is known about the file, all optional:
 * `bytes` (Uint8Array: the file, or as much of it as was read), `format`
 * ('jsonl' or 'array'; a call's line is found in JSON Lines only), `name`.
 */
export function errorReport(e, file = {}) {
  const status = e?.status;
  const detail = Array.isArray(e?.detail) ? e.detail : [];
  const limitRule = (status === 400 || status === 413) && detail[0]?.loc?.[0] === 'body' && detail[0]?.loc?.[1] === 'limit';
  if (limitRule) {
    // Weave 0.53.12's limit rule (options.limit: "per-batch") refused it.
    return {
      status,
      title: status === 413 ? 'A selected trace has more calls than the limit (413)' : 'The limit must be at least 1 (400)',
      message: `${detail[0].msg} Weave 0.53.12 answers whole traces or nothing; raise the limit, or pick “Cut at the limit” (Weave 0.53.0).`,
      items: [],
    };
  }
  if (status === 400) return badJson(detail[0], file);
  if (status === 422) {
    const fromCalls = detail.some((d) => d.loc?.[0] === 'calls');
    const fromOptions = detail.length > 0 && detail.every((d) => d.loc?.[0] === 'options');
    return {
      status,
      title: fromCalls ? 'Weave would refuse calls in this file (422)' : fromOptions ? 'The options were refused (422)' : 'The request was refused (422)',
      message: fromCalls
        ? `${detail.length === 1 ? 'One call is' : `${detail.length} problems are`} malformed; the server would answer 422 for this export.`
        : fromOptions
          ? 'Each problem names the price row (counting from 0) and the field.'
          : 'The usage request is not valid.',
      items: detail.map((d) => ({ where: where(d.loc, file), msg: d.msg })),
      // Where in the options, so that the price editor can mark the inputs.
      optionLocs: detail.filter((d) => d.loc?.[0] === 'options').map((d) => d.loc),
    };
  }
  return {
    status: null,
    title: file.name ? `Could not read ${file.name}` : 'Something went wrong',
    message: e instanceof Error ? e.message : String(e),
    items: [],
  };
}

/** ["calls", 4, "trace_id"] → "call 5 (line 7) › trace_id". */
function where(loc = [], { bytes, format }) {
  if (loc[0] === 'calls' && Number.isInteger(loc[1])) {
    const line = bytes && format === 'jsonl' ? lineOfCall(bytes, loc[1]) : null;
    const call = `call ${loc[1] + 1}${line ? ` (line ${line})` : ''}`;
    return [call, ...loc.slice(2)].join(' › ');
  }
  return loc.join(' › ');
}

function badJson(d, { bytes, name }) {
  const msg = d?.msg ?? 'Invalid JSON';
  const m = msg.match(/line (\d+), column (\d+)/);
  const reason = msg.replace(/^Invalid JSON at [^:]*:\s*/, '');
  const offset = typeof d?.loc?.[1] === 'number' ? d.loc[1] : null;
  const report = {
    status: 400,
    title: `${name ?? 'The file'} is not valid JSON (400)`,
    message: m ? `Line ${m[1]}, column ${m[2]}: ${reason}.` : `${msg}.`,
    items: [],
  };
  if (bytes && offset !== null) report.excerpt = excerpt(bytes, offset);
  return report;
}

/** The line around a byte offset: its text (clipped) and the caret's column in it. */
export function excerpt(bytes, offset) {
  offset = Math.min(offset, bytes.length);
  // (lastIndexOf counts a negative start from the end, hence the guard.)
  const start = offset === 0 ? 0 : bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let end = bytes.indexOf(0x0a, offset);
  if (end < 0) end = bytes.length;
  const decoder = new TextDecoder();
  const decode = (a, b) => decoder.decode(bytes.subarray(a, b));
  const before = decode(start, offset);
  const after = decode(offset, end).replace(/\r$/, '');
  const head = before.length > EXCERPT / 2 ? '…' + before.slice(-EXCERPT / 2) : before;
  const tail = after.length > EXCERPT / 2 ? after.slice(0, EXCERPT / 2) + '…' : after;
  return { text: head + tail, caret: head.length };
}
