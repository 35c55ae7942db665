// The usage table: rows from a CallsUsageRes, sorting, totals, and the DOM.
import { el } from './dom.js';
import { formatCost, formatInt } from './format.js';

const COSTS = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];
const COUNTS = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];

export const COLUMNS = [
  { key: 'root', label: 'Root call', text: true },
  { key: 'model', label: 'Model', text: true },
  { key: 'requests', label: 'Requests' },
  { key: 'prompt_tokens', label: 'Prompt' },
  { key: 'completion_tokens', label: 'Completion' },
  { key: 'total_tokens', label: 'Total' },
  { key: 'cache_read_input_tokens', label: 'Cache read' },
  { key: 'cache_creation_input_tokens', label: 'Cache write' },
  { key: 'cost', label: 'Cost', cost: true },
];

/** A model's cost: the sum of its four cost fields, or null without costs. */
export function costOf(u) {
  return u.prompt_tokens_total_cost === null ? null : COSTS.reduce((s, k) => s + u[k], 0);
}

/**
 * One row per (root, model), roots in the order given (`roots`: the root
 * infos the scanner found, selected ones), models by name. A root without
 * usage gets one row with `model: null`, so that every selected root shows.
 */
export function usageRows(result, roots) {
  const rows = [];
  roots.forEach((root, order) => {
    const models = Object.entries(result.call_usage[root.id] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (models.length === 0) {
      rows.push({ root, order, model: null, ...Object.fromEntries(COUNTS.map((k) => [k, 0])), cost: null, usage: null });
    }
    for (const [model, u] of models) {
      rows.push({ root, order, model, ...Object.fromEntries(COUNTS.map((k) => [k, u[k]])), cost: costOf(u), usage: u });
    }
  });
  return rows;
}

/** Sums of every numeric column; cost is null when no row has one. */
export function totals(rows) {
  const sum = Object.fromEntries(COUNTS.map((k) => [k, 0]));
  let cost = null;
  for (const r of rows) {
    for (const k of COUNTS) sum[k] += r[k];
    if (r.cost !== null) cost = (cost ?? 0) + r.cost;
  }
  return { ...sum, cost };
}

/** Sorted copy. No key: the roots' own order, then model name. */
export function sortRows(rows, { key, dir }) {
  const byOrder = (a, b) => a.order - b.order || compareText(a.model ?? '', b.model ?? '');
  if (!key) return [...rows].sort(byOrder);
  const value = (r) => (key === 'root' ? r.root.name + ' ' + r.root.id : key === 'model' ? r.model ?? '' : r[key] ?? -Infinity);
  const column = COLUMNS.find((c) => c.key === key);
  return [...rows].sort((a, b) => {
    const d = column?.text ? compareText(value(a), value(b)) : value(a) - value(b);
    return d * dir || byOrder(a, b);
  });
}

function compareText(a, b) {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Fills `table` (a <table>): sortable header, the first `maxRows` rows in
 * `sort` order (thousands of DOM rows would stall the page), totals of all.
 * `onSort(key)` is called when a header is clicked; `colors` maps model → CSS colour.
 */
export function renderTable(table, rows, { sort, includeCosts, colors, onSort, maxRows = Infinity }) {
  const columns = COLUMNS.filter((c) => includeCosts || !c.cost);
  const thead = el('thead');
  const head = thead.appendChild(el('tr'));
  for (const c of columns) {
    const th = head.appendChild(el('th', { scope: 'col', class: c.text ? 'text' : 'num' }));
    if (sort.key === c.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    const button = th.appendChild(el('button', { type: 'button', 'data-key': c.key }, c.label));
    button.addEventListener('click', () => onSort(c.key));
  }

  const tbody = el('tbody');
  let previous = null;
  for (const r of sortRows(rows, sort).slice(0, maxRows)) {
    const tr = tbody.appendChild(el('tr', { 'data-root': r.root.id, 'data-model': r.model ?? '' }));
    for (const c of columns) tr.appendChild(cell(c, r, { colors, repeated: previous === r.root.id }));
    previous = r.root.id;
  }

  const sum = totals(rows);
  const tfoot = el('tfoot');
  const tr = tfoot.appendChild(el('tr', { class: 'totals' }));
  const roots = new Set(rows.map((r) => r.root.id)).size;
  tr.append(el('th', { scope: 'row', class: 'text' }, 'Total'), el('td', { class: 'text muted' }, `${formatInt(roots)} root call${roots === 1 ? '' : 's'}`));
  for (const c of columns.slice(2)) tr.appendChild(numberCell(c, sum[c.key]));

  table.replaceChildren(thead, tbody, tfoot);
}

function cell(column, row, { colors, repeated }) {
  if (column.key === 'root') {
    const td = el('td', { class: 'text root' + (repeated ? ' repeated' : ''), title: `${row.root.name} ${row.root.id}` });
    td.append(el('span', { class: 'name' }, row.root.name), el('code', {}, row.root.id.slice(0, 8)));
    // The app opens the trace view for a root from here.
    if (!repeated) td.append(el('button', { type: 'button', class: 'link trace-link', 'data-trace-root': row.root.id, 'aria-label': `Show the trace of ${row.root.name}` }, 'trace ›'));
    return td;
  }
  if (column.key === 'model') {
    if (row.model === null) return el('td', { class: 'text muted' }, 'no LLM usage');
    const td = el('td', { class: 'text model', title: row.model });
    td.append(el('span', { class: 'swatch', style: `background:${colors.get(row.model) ?? 'gray'}` }), row.model);
    return td;
  }
  const td = numberCell(column, row[column.key]);
  if (column.cost && row.usage && row.cost !== null) {
    td.title = COSTS.map((k) => `${k.replace(/_total_cost$/, '').replaceAll('_', ' ')}: ${formatCost(row.usage[k])}`).join('\n');
  }
  return td;
}

function numberCell(column, value) {
  const text = column.cost ? formatCost(value) : formatInt(value);
  return el('td', { class: 'num' + (value ? '' : ' zero'), 'data-key': column.key, 'data-value': String(value) }, text);
}
