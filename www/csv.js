// CSV for the dashboard's tables (RFC 4180: comma-separated, CRLF line
// ends, a field quoted when it holds a comma, a quote or a line break, its
// quotes doubled). Numbers are written in full, not as formatted on the
// page; a null is an empty field.

/** One field's text. */
export function csvField(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  // A leading =, +, - or @ would be a formula to a spreadsheet: prefixed with '.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v !== 'number' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The text of a table: `columns` as [header, (row) => value] pairs. */
export function toCsv(columns, rows) {
  const lines = [columns.map(([header]) => csvField(header)).join(',')];
  for (const row of rows) lines.push(columns.map(([, get]) => csvField(get(row))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** The usage table's rows as CSV: one line per (root, model), with every
 * counter and cost field the package answered (costs empty without them). */
export function usageCsv(rows) {
  const counts = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];
  const costs = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];
  return toCsv(
    [
      ['root_id', (r) => r.root.id],
      ['root_op', (r) => r.root.name],
      ['trace_id', (r) => r.root.trace_id],
      ['model', (r) => r.model],
      ...counts.map((k) => [k, (r) => r[k]]),
      ...costs.map((k) => [k, (r) => r.usage?.[k] ?? null]),
      ['cost', (r) => r.cost],
    ],
    rows,
  );
}

/** The trace view's rows as CSV: one line per call, depth-first, with its
 * usage and its descendants' (requests, total tokens, cost, models). */
export function traceCsv(rows) {
  return toCsv(
    [
      ['call_id', (r) => r.id],
      ['op', (r) => r.name],
      ['depth', (r) => r.depth],
      ['models', (r) => r.models.join(' ')],
      ['requests', (r) => r.requests],
      ['total_tokens', (r) => r.total_tokens],
      ['own_tokens', (r) => r.own_tokens],
      ['cost', (r) => r.cost],
      ['own_cost', (r) => r.own_cost],
      ['unfinished', (r) => r.unfinished],
    ],
    rows,
  );
}

/** A usageStats answer's rows as CSV (`usage_buckets` or `call_buckets`):
 * every field of its rows, in the order of the first row's, `other` last. */
export function statsCsv(rows) {
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const ordered = [...keys.filter((k) => k !== 'other'), ...(keys.includes('other') ? ['other'] : [])];
  return toCsv(
    ordered.map((k) => [k, (r) => (k === 'other' ? !!r.other : r[k] ?? null)]),
    rows,
  );
}

/** The breakdown table's rows as CSV: one line per group, "other" last. */
export function breakdownCsv(rows, dimension) {
  return toCsv(
    [
      [dimension, (r) => (r.other ? null : r.key)],
      ['other', (r) => r.other],
      ['call_count', (r) => r.calls],
      ['error_count', (r) => r.errors],
      ['unfinished_count', (r) => r.unfinished],
      ['requests', (r) => r.requests],
      ['total_tokens', (r) => r.total_tokens],
      ['cost', (r) => r.cost],
    ],
    rows,
  );
}
