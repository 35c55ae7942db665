// The trace view: one root's trace as a tree, each call with its usage
// rolled up over its descendants, from the package's traceUsage (Weave's
// /trace/usage). Call names and parents come from the file (the worker
// picks the trace's calls out of it).
import { el } from './dom.js';
import { formatCost, formatInt } from './format.js';
import { costOf } from './table.js';

/**
 * The tree's rows, pure: depth-first, children in the order traceUsage
 * lists calls (the server's: start time, then id). `calls`: the trace's
 * calls as the file has them ({ id, parent_id, name }). A call whose parent
 * is not in the result is a root of the view.
 */
export function traceRows(result, calls) {
  const info = new Map(calls.map((c) => [c.id, c]));
  const ids = Object.keys(result.call_usage);
  const inResult = new Set(ids);
  const children = new Map();
  const tops = [];
  for (const id of ids) {
    const parent = info.get(id)?.parent_id;
    if (parent && inResult.has(parent) && parent !== id) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(id);
    } else tops.push(id);
  }
  const unfinished = new Set(result.unfinished_call_ids);
  const rows = [];
  const seen = new Set();
  const walk = (start) => {
    // Iterative, and cycle-safe: a call is listed once.
    const stack = [[start, 0]];
    while (stack.length) {
      const [id, depth] = stack.pop();
      if (seen.has(id)) continue;
      seen.add(id);
      rows.push(row(id, depth));
      for (const child of [...(children.get(id) ?? [])].reverse()) stack.push([child, depth + 1]);
    }
  };
  const row = (id, depth) => {
    const usage = result.call_usage[id];
    const models = Object.keys(usage).sort();
    const costs = models.map((m) => costOf(usage[m]));
    return {
      id,
      depth,
      name: info.get(id)?.name ?? 'call',
      models,
      total_tokens: models.reduce((s, m) => s + usage[m].total_tokens, 0),
      requests: models.reduce((s, m) => s + usage[m].requests, 0),
      cost: costs.some((c) => c !== null) ? costs.reduce((s, c) => s + (c ?? 0), 0) : null,
      unfinished: unfinished.has(id),
    };
  };
  for (const id of tops) walk(id);
  // Calls on a parent cycle have no top: listed after the tree.
  for (const id of ids) walk(id);
  addOwn(rows, children);
  return rows;
}

/**
 * Each row's own part of its figures: its total minus what its children
 * brought into it. A child brings its total unless it is on a parent
 * cycle (the rollup never merges those: Kahn's order, as the library's).
 * With Weave's sum that is the call's own usage as recorded; with the
 * provider-true rollup it is what the call's own requests used.
 */
function addOwn(rows, children) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pending = new Map(rows.map((r) => [r.id, (children.get(r.id) ?? []).length]));
  const parentOf = new Map();
  for (const [parent, kids] of children) for (const kid of kids) parentOf.set(kid, parent);
  const queue = rows.filter((r) => pending.get(r.id) === 0).map((r) => r.id);
  const merged = new Set();
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    merged.add(id);
    const parent = parentOf.get(id);
    if (parent === undefined) continue;
    pending.set(parent, pending.get(parent) - 1);
    if (pending.get(parent) === 0) queue.push(parent);
  }
  for (const r of rows) {
    const kids = (children.get(r.id) ?? []).filter((k) => merged.has(k) && byId.has(k)).map((k) => byId.get(k));
    r.own_tokens = r.total_tokens - kids.reduce((s, k) => s + k.total_tokens, 0);
    r.own_cost = r.cost === null ? null : tidy(r.cost - kids.reduce((s, k) => s + (k.cost ?? 0), 0), r.cost);
  }
}

/** A difference of float sums, with the rounding residue of a zero shown as 0. */
function tidy(x, scale) {
  return Math.abs(x) <= 1e-12 * Math.abs(scale) ? 0 : x;
}

/** Fills `section` with the tree of `root`'s trace. `onClose()` hides it;
 * `onExport(rows)` saves its rows (as CSV). */
export function renderTrace(section, root, result, calls, { includeCosts, onClose, onExport }) {
  const rows = traceRows(result, calls);
  const close = el('button', { type: 'button', class: 'link', id: 'trace-close' }, 'Close');
  close.addEventListener('click', onClose);
  const save = el('button', { type: 'button', class: 'link', id: 'trace-export' }, 'Export CSV');
  save.addEventListener('click', () => onExport(rows));
  const head = el('div', { class: 'panel-head' }, el('h2', {}, `Trace of ${root.name} `, el('code', {}, root.id.slice(0, 8))), el('div', { class: 'small-actions' }, save, close));
  const note = el('p', { class: 'muted note' }, `${formatInt(rows.length)} call${rows.length === 1 ? '' : 's'}, each with its usage and its descendants’ (Weave’s /trace/usage); “own” is the call’s part of that, without what its children brought.`);
  const columns = ['Call', 'Models', 'Requests', 'Total tokens', 'Own tokens', ...(includeCosts ? ['Cost', 'Own cost'] : [])];
  const thead = el('thead', {}, el('tr', {}, ...columns.map((c, i) => el('th', { scope: 'col', class: i < 2 ? 'text' : 'num' }, c))));
  const tbody = el(
    'tbody',
    {},
    ...rows.map((r) => {
      const name = el('td', { class: 'text tree', style: `padding-left:${8 + r.depth * 18}px`, title: `${r.name} ${r.id}` }, el('span', { class: 'name' }, r.name), ' ', el('code', {}, r.id.slice(0, 8)));
      if (r.unfinished) name.append(' ', el('span', { class: 'badge' }, 'running'));
      const cells = [name, el('td', { class: 'text muted' }, r.models.join(', ') || '—'), el('td', { class: 'num', 'data-key': 'requests' }, formatInt(r.requests)), el('td', { class: 'num', 'data-key': 'total_tokens', 'data-value': String(r.total_tokens) }, formatInt(r.total_tokens)), el('td', { class: 'num', 'data-key': 'own_tokens', 'data-value': String(r.own_tokens) }, formatInt(r.own_tokens))];
      if (includeCosts) cells.push(el('td', { class: 'num', 'data-key': 'cost', 'data-value': String(r.cost) }, formatCost(r.cost)), el('td', { class: 'num', 'data-key': 'own_cost', 'data-value': String(r.own_cost) }, formatCost(r.own_cost)));
      return el('tr', { 'data-call': r.id, 'data-depth': String(r.depth) }, ...cells);
    }),
  );
  section.replaceChildren(head, note, el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Calls of the trace' }, el('table', { id: 'trace-table' }, thead, tbody)));
}
