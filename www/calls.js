// What the page lists of an open file, asked of the accumulator that read
// it (weave-usage/stats: `finishProjects`, `finishCalls`), so the file is
// read once, by the library, and what is listed is what every answer
// counts: the projects, a project's root calls with their traces' sizes,
// and a trace's calls for the trace view.

/** "weave:///acme/agents/op/agent.run:322d44a7" → "agent.run". */
export function opName(ref) {
  if (typeof ref !== 'string') return '';
  const m = ref.match(/^weave:\/\/\/[^/]+\/[^/]+\/op\/(.+?)(?::[^:/]*)?$/);
  return m ? m[1] : ref;
}

/** A call's name as the page shows it: its display name, else its op's. */
export function callName(c) {
  return c.display_name || opName(c.op_name) || 'call';
}

/** The projects the calls name, `{ id, calls }` each, most calls first. */
export function projectsOf(acc) {
  return acc.finishProjects().projects.map((p) => ({ id: p.project_id, calls: p.calls }));
}

/** The project to show first: `wanted` if the file has it, else the one
 * with most calls, else "default" (calls of no project count for any). */
export function firstProject(projects, wanted) {
  return projects.find((p) => p.id === wanted)?.id ?? projects[0]?.id ?? 'default';
}

/** The root calls of `project`, in start order: `{ id, trace_id,
 * project_id, name, started_at, ended, calls }` (calls: its trace's). */
export function rootsOf(acc, project) {
  return acc.finishCalls({ project_id: project, filter: { trace_roots_only: true } }).calls.map((c) => ({
    id: c.id,
    trace_id: c.trace_id,
    project_id: c.project_id,
    name: callName(c),
    started_at: c.started_at,
    ended: c.ended,
    calls: c.trace_calls,
  }));
}

/** The calls of one trace of `project`, for the trace view: `{ id,
 * parent_id, name }` each. */
export function traceCallsOf(acc, project, traceId) {
  return acc.finishCalls({ project_id: project, filter: { trace_ids: [traceId] } }).calls.map((c) => ({ id: c.id, parent_id: c.parent_id, name: callName(c) }));
}

const isSpace = (b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** 'array' when the first byte that is not white space opens one, else 'jsonl'. */
export function formatOf(head) {
  for (const b of head) if (!isSpace(b)) return b === 0x5b ? 'array' : 'jsonl';
  return 'jsonl';
}

/** The line number (from 1) of call `index` of a JSON Lines file's bytes,
 * counting calls as the library does (lines of only white space are none);
 * null past the end. Only for error reports: it reads the bytes up to it. */
export function lineOfCall(bytes, index) {
  let call = -1;
  let line = 0;
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    line++;
    let i = start;
    while (i < end && isSpace(bytes[i])) i++;
    if (i < end && ++call === index) return line;
    start = end + 1;
  }
  return null;
}
