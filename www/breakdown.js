// The breakdown tables: usage grouped by one dimension (op, user, thread,
// root op), sortable, with the "other" group of those past the top N kept
// last. Rows: { key (null for "other"), other, calls, errors, unfinished,
// requests, total_tokens, cost (null without costs) }.
import { el } from './dom.js';
import { formatCost, formatInt } from './format.js';

/** The columns, in order; `text`: sorted as text; `cost`: only with costs. */
export const BREAKDOWN_COLUMNS = [
  { key: 'key', label: 'Name', text: true },
  { key: 'calls', label: 'Calls' },
  { key: 'errors', label: 'Errors' },
  { key: 'unfinished', label: 'Unfinished' },
  { key: 'requests', label: 'LLM requests' },
  { key: 'total_tokens', label: 'Total tokens' },
  { key: 'cost', label: 'Cost', cost: true },
];

/** What a group without a value is called (a call with no user, no thread, …). */
export const NONE = '(none)';

/** Sorted copy: by `key` in `dir` (1 or -1); the "other" group always last. Default: by cost, else tokens, largest first. */
export function sortBreakdown(rows, { key, dir }, includeCosts) {
  const k = key ?? (includeCosts ? 'cost' : 'total_tokens');
  const d = key ? dir : -1;
  const value = (r) => (k === 'key' ? r.key ?? '' : r[k] ?? -Infinity);
  return [...rows].sort((a, b) => {
    if (a.other !== b.other) return a.other ? 1 : -1;
    const c = k === 'key' ? String(value(a)).localeCompare(String(value(b)), 'en', { numeric: true }) : value(a) - value(b);
    return c * d || String(a.key ?? '').localeCompare(String(b.key ?? ''));
  });
}

/**
 * Fills `table`: a sortable header, the rows, a totals line. `label`: the
 * dimension's name for the first column; `onSort(key)` on a header click.
 */
export function renderBreakdown(table, rows, { label, sort, includeCosts, onSort }) {
  const columns = BREAKDOWN_COLUMNS.filter((c) => includeCosts || !c.cost);
  const head = el('tr');
  for (const c of columns) {
    const th = head.appendChild(el('th', { scope: 'col', class: c.text ? 'text' : 'num' }));
    if (sort.key === c.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    const button = th.appendChild(el('button', { type: 'button', 'data-key': c.key }, c.key === 'key' ? label : c.label));
    button.addEventListener('click', () => onSort(c.key));
  }
  const tbody = el('tbody');
  for (const r of sortBreakdown(rows, sort, includeCosts)) {
    const name = r.other ? 'Other' : r.key ?? NONE;
    const tr = tbody.appendChild(el('tr', { 'data-group': r.other ? '' : r.key ?? '', ...(r.other ? { 'data-other': 'true' } : {}) }));
    tr.append(el('th', { scope: 'row', class: 'text' + (r.other || r.key === null ? ' muted' : ''), title: name }, name));
    for (const c of columns.slice(1)) tr.append(numberCell(c, r[c.key]));
  }
  const foot = el('tr', { class: 'totals' }, el('th', { scope: 'row', class: 'text' }, 'Total'));
  for (const c of columns.slice(1)) {
    const values = rows.map((r) => r[c.key]);
    foot.append(numberCell(c, c.cost && values.every((v) => v === null) ? null : values.reduce((s, v) => s + (v ?? 0), 0)));
  }
  table.replaceChildren(el('thead', {}, head), tbody, el('tfoot', {}, foot));
}

function numberCell(column, value) {
  const text = column.cost ? formatCost(value) : formatInt(value);
  return el('td', { class: 'num' + (value ? '' : ' zero'), 'data-key': column.key, 'data-value': String(value) }, text);
}
