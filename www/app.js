// The dashboard: opens a calls export in the worker, lists its root calls,
// and shows per-root, per-model usage as the worker computes it with the
// weave-usage package, with its options (a price table, the rollup mode,
// diagnostics) and a per-call view of one trace. State lives here; the views
// are in their own modules.
import { renderChart } from './chart.js';
import { renderDiagnostics } from './diagnostics.js';
import { el } from './dom.js';
import { formatBytes, formatCost, formatInt, plural, providerTrueNote } from './format.js';
import { blankRow, pricesOption, renderPriceRows, rowsFromJson, sentRowIndex } from './prices.js';
import { matchRoots, renderRoots, rootsInProject } from './roots.js';
import { fromFragment, toFragment } from './settings.js';
import { breakdownCsv, statsCsv, traceCsv, usageCsv } from './csv.js';
import { COLUMNS, renderTable, totals, usageRows } from './table.js';
import { renderTrace } from './trace.js';
import { renderTimeline } from './timeline.js';
import { renderBreakdown } from './breakdown.js';
import { breakdownRows, DIMENSIONS, statsRequests, timelineMeasure, timelineSeries } from './stats.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const SAMPLE = { url: new URL('sample/traces.jsonl', import.meta.url).href, name: 'sample traces.jsonl' };
const ROWS_SHOWN = 250;
const $ = (id) => document.getElementById(id);

const state = {
  file: null, // the worker's 'opened' message
  project: null,
  rootQuery: '', // the roots panel's search box
  urlProject: null, // the project the URL names, applied when a file has it
  selected: new Set(),
  includeCosts: true,
  limit: 10000,
  rows: null, // table rows of the latest result
  result: null,
  sort: { key: null, dir: 1 },
  maxRows: ROWS_SHOWN, // table rows drawn; "Show all" lifts it
  colors: new Map(), // model → colour, kept while a file is open so colours do not move
  seq: 0, // id of the latest request to the worker
  // Options (kept across files).
  rollup: 'reference',
  limitRule: 'cut', // options.limit: 'cut' (Weave 0.53.0) or 'per-batch' (0.53.12)
  reference: null, // with rollup 'dedupe': the answer with Weave's own rollup, for comparison
  diagnostics: true,
  prices: [], // editor rows (text), see prices.js
  reprice: false,
  defaultPrices: false, // also price from weave-usage/prices
  pricing: null, // the worker's report of what the default prices matched
  priceErrors: new Set(), // "row field" pairs the package refused
  // The trace view: the root whose trace is shown, and the worker's answer.
  traceRoot: null,
  trace: null,
  // The stats panel: the worker's answers ({ timeline, breakdown } or { report }) and its settings.
  stats: null,
  granularity: 'day',
  timeZone: null, // null: the browser's own
  breakdown: 'op_name',
  breakdownSort: { key: null, dir: 1 },
  workers: null, // shard workers for a large file (the URL's `workers`); null: as the machine allows
};

/** The browser's own time zone (UTC where the engine does not say). */
const OWN_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const zone = () => state.timeZone ?? OWN_ZONE;

const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
// Answers to anything but the latest request are stale: drop them.
worker.onmessage = ({ data }) => {
  if (data.type === 'shard') return startShard(data);
  if (data.type === 'end-shard') return endShard(data);
  if (data.id === state.seq) handlers[data.type](data);
};

// The worker's pool of shard workers (weave-usage/parallel, for large
// files) is made here and reached through ports: in Firefox a worker that
// makes a worker can hang. shard → its Worker (null while being made).
const shardWorkers = new Map();
function startShard({ shard, port }) {
  shardWorkers.set(shard, null);
  const failed = (message) => worker.postMessage({ type: 'shard-failed', shard, message });
  import('./pkg/parallel.js').then(
    ({ startShardWorker }) => {
      if (!shardWorkers.has(shard)) return; // ended meanwhile
      const w = startShardWorker(port);
      shardWorkers.set(shard, w);
      w.addEventListener('error', (e) => {
        e.preventDefault();
        failed(e.message || 'a shard worker failed');
      });
    },
    (e) => failed(`weave-usage/parallel could not be loaded: ${e?.message ?? e}`),
  );
}
function endShard({ shard }) {
  shardWorkers.get(shard)?.terminate();
  shardWorkers.delete(shard);
}
worker.onerror = (e) => {
  // Loading the worker or the package failed: say so on the page, not only in the console.
  e.preventDefault();
  showError({ title: 'The dashboard could not start', message: `${e.message || 'The worker failed to load.'} Is pkg/ built (scripts/build.sh)?`, items: [] });
};
worker.onmessageerror = () => showError({ title: 'The worker sent a message that could not be read', message: '', items: [] });

const handlers = {
  progress({ loaded, total, aggregating, workers }) {
    const what = workers > 0 ? `Aggregating across ${plural(workers, 'worker')}:` : aggregating ? 'Reading and aggregating' : 'Reading';
    showProgress(total ? loaded / total : null, `${what} ${formatBytes(loaded)}${total ? ` of ${formatBytes(total)}` : ''}…`);
  },
  opened(file) {
    state.file = file;
    state.colors = new Map();
    state.maxRows = ROWS_SHOWN;
    // The project the URL names, if this file has it; else the first (the
    // worker chose it, and listed its roots).
    state.project = file.project;
    selectAll();
    $('project').replaceChildren(...file.projects.map((p) => el('option', { value: p.id }, `${p.id} · ${plural(p.calls, 'call')}`)));
    $('project').value = state.project;
    $('project-field').hidden = file.projects.length < 2;
    renderFileInfo();
    renderRootsPanel();
    requestUsage();
  },
  roots({ project, roots }) {
    if (!state.file || project !== state.project) return;
    state.file.project = project;
    state.file.roots = roots;
    selectAll();
    renderRootsPanel();
    requestUsage();
  },
  usage({ result, trace, reference, pricing, stats }) {
    state.result = result;
    state.stats = stats;
    state.reference = reference;
    state.trace = trace;
    state.pricing = pricing;
    renderDefaultPricesNote();
    if (state.priceErrors.size) {
      state.priceErrors = new Set();
      renderPricesPanel();
    }
    const selected = rootsInProject(state.file, state.project).filter((r) => state.selected.has(r.id));
    state.rows = usageRows(result, selected);
    assignColors(state.rows);
    hideError();
    render();
    setState('ready');
  },
  error({ report }) {
    state.result = state.rows = state.trace = state.stats = null;
    // A refused price row: mark its inputs and show the editor.
    state.priceErrors = new Set(
      (report.optionLocs ?? [])
        .filter((loc) => loc[1] === 'prices' && Number.isInteger(loc[2]))
        .map((loc) => `${sentRowIndex(state.prices, loc[2])} ${loc[3] ?? ''}`),
    );
    if (state.priceErrors.size) setPricesOpen(true);
    renderPricesPanel();
    if (!state.file) {
      // The file could not be opened: nothing of the previous one stays.
      $('file-info').textContent = 'No file open';
      $('roots').replaceChildren();
      $('roots-count').textContent = '';
      $('project-field').hidden = true;
    }
    showError(report);
    render();
    setState('error');
  },
};

// ---- actions ----

function open(source) {
  state.file = state.result = state.rows = null;
  state.traceRoot = state.trace = null;
  state.seq++;
  hideError();
  $('file-info').textContent = `Opening ${source.name ?? source.file.name}…`;
  // The previous file's results and roots go at once (not just faded).
  render();
  $('roots').replaceChildren();
  $('roots-count').textContent = '';
  showProgress(0, 'Reading…');
  setState('loading');
  worker.postMessage({ type: 'open', id: state.seq, workers: state.workers, project: state.urlProject, ...source });
}

function requestUsage() {
  saveSettings();
  const roots = rootsInProject(state.file, state.project).filter((r) => state.selected.has(r.id));
  const request = { project_id: state.project, call_ids: roots.map((r) => r.id), include_costs: state.includeCosts, limit: state.limit };
  // The trace view asks /trace/usage for the root's trace, with the same options.
  const root = state.traceRoot;
  const trace = root ? { traceId: root.trace_id, request: { project_id: state.project, filter: { trace_ids: [root.trace_id] }, include_costs: state.includeCosts, limit: state.limit } } : null;
  state.seq++;
  showProgress(null, `Aggregating ${plural(state.file.calls, 'call')}…`, true);
  setState('aggregating');
  renderLimitWarning(roots);
  const stats = statsRequests({ project: state.project, granularity: state.granularity, timeZone: zone(), breakdown: state.breakdown, includeCosts: state.includeCosts });
  worker.postMessage({ type: 'usage', id: state.seq, request, options: usageOptions(), trace, compare: state.rollup === 'dedupe', defaultPrices: state.defaultPrices, stats });
}

/** The package's `options` for the dashboard's settings. */
function usageOptions() {
  const options = { rollup: state.rollup, diagnostics: state.diagnostics };
  if (state.limitRule !== 'cut') options.limit = state.limitRule;
  if (state.prices.length || state.reprice) {
    options.prices = pricesOption(state.prices);
    options.reprice = state.reprice;
  }
  return options;
}

function selectAll() {
  state.selected = new Set(rootsInProject(state.file, state.project).map((r) => r.id));
}

function assignColors(rows) {
  const size = new Map();
  for (const r of rows) if (r.model !== null) size.set(r.model, (size.get(r.model) ?? 0) + r.total_tokens);
  for (const [model] of [...size].sort((a, b) => b[1] - a[1])) {
    if (!state.colors.has(model)) state.colors.set(model, PALETTE[state.colors.size % PALETTE.length]);
  }
}

// ---- views ----

function render() {
  const rows = state.rows;
  $('progress').hidden = true;
  $('results').hidden = !rows;
  const table = $('usage-table');
  if (!rows) {
    table.replaceChildren();
    return;
  }
  $('cards').replaceChildren(...cards(rows));
  renderProviderTrue();
  if (!state.includeCosts && state.sort.key === 'cost') state.sort = { key: null, dir: 1 };
  renderUsageTable();
  renderChart($('chart'), rows, { ...state, nothingSelected: state.selected.size === 0 });
  renderUnfinished(state.result.unfinished_call_ids);
  renderDiagnosticsPanel();
  renderTracePanel();
  renderStats();
}

/** The stats panel: spend (or tokens) over time by model, and the breakdown. */
function renderStats() {
  const s = state.stats;
  const failed = s?.report ?? null;
  $('stats-error').hidden = !failed;
  if (failed) $('stats-error').textContent = `Stats: ${failed.title}${failed.message ? ` — ${failed.message}` : ''}${failed.items.length ? ` (${failed.items.map((i) => i.msg).join('; ')})` : ''}`;
  $('export-timeline').hidden = $('export-breakdown').hidden = !s?.timeline;
  if (!s?.timeline) {
    $('timeline').replaceChildren();
    $('breakdown-table').replaceChildren();
    return;
  }
  const measure = timelineMeasure(s.timeline, state.includeCosts);
  const { buckets, stacks } = timelineSeries(s.timeline, measure);
  for (const model of stacks.keys()) if (!state.colors.has(model)) state.colors.set(model, PALETTE[state.colors.size % PALETTE.length]);
  renderTimeline($('timeline'), buckets, stacks, { measure, colors: state.colors, granularity: s.timeline.granularity, timeZone: s.timeline.timezone });
  renderBreakdownTable();
}

function renderBreakdownTable() {
  const dim = DIMENSIONS.find((d) => d.key === state.breakdown);
  const rows = breakdownRows(state.stats.breakdown, dim.key, state.includeCosts);
  if (!state.includeCosts && state.breakdownSort.key === 'cost') state.breakdownSort = { key: null, dir: 1 };
  const onSort = (key) => {
    state.breakdownSort = state.breakdownSort.key === key ? { key, dir: -state.breakdownSort.dir } : { key, dir: key === 'key' ? 1 : -1 };
    renderBreakdownTable();
  };
  renderBreakdown($('breakdown-table'), rows, { label: dim.label, sort: state.breakdownSort, includeCosts: state.includeCosts, onSort });
}

/** With provider-true totals (rollup "dedupe"): one sentence on the
 * difference, and both totals over the selected roots. */
function renderProviderTrue() {
  const box = $('provider-true-note');
  box.hidden = !(state.rollup === 'dedupe' && state.reference);
  if (box.hidden) return;
  const selected = rootsInProject(state.file, state.project).filter((r) => state.selected.has(r.id));
  const note = providerTrueNote(totals(state.rows), totals(usageRows(state.reference, selected)), state.includeCosts);
  box.replaceChildren(el('span', {}, note.sentence), ' ', el('strong', { 'data-totals': 'provider' }, note.provider), ' ', el('span', { class: 'muted', 'data-totals': 'server' }, note.server));
}

function renderDiagnosticsPanel() {
  const box = $('diagnostics-panel');
  const d = state.result?.diagnostics;
  box.hidden = !d;
  if (d) renderDiagnostics(box, d);
  $('add-unpriced').hidden = !d?.unpriced_models?.length;
}

function renderTracePanel() {
  const box = $('trace-panel');
  box.hidden = !(state.traceRoot && state.trace);
  if (box.hidden) return;
  renderTrace(box, state.traceRoot, state.trace.result, state.trace.calls, {
    includeCosts: state.includeCosts,
    onClose: () => {
      state.traceRoot = state.trace = null;
      box.hidden = true;
    },
    onExport: (rows) => download(traceCsv(rows), `trace-${state.traceRoot.id}.csv`),
  });
  box.setAttribute('aria-label', `Trace of ${state.traceRoot.name}`);
  if (state.focusTrace) {
    state.focusTrace = false;
    box.focus({ preventScroll: true });
    box.scrollIntoView({ block: 'start' });
  }
}

function setPricesOpen(open) {
  $('prices').hidden = !open;
  $('prices-toggle').setAttribute('aria-expanded', String(open));
}

function renderPricesPanel() {
  const n = pricesOption(state.prices).length;
  $('prices-count').textContent = `${formatInt(n)} row${n === 1 ? '' : 's'}${state.reprice ? ', repricing every call' : ''}`;
  $('prices-toggle').textContent = n ? `Price table (${formatInt(n)})` : 'Price table';
  renderPriceRows($('price-rows'), state.prices, {
    invalid: state.priceErrors,
    onEdit: (i, key, value) => {
      state.prices[i][key] = value;
      pricesChanged();
    },
    onRemove: (i) => {
      state.prices.splice(i, 1);
      pricesChanged();
    },
  });
}

function pricesChanged() {
  $('prices-error').hidden = true;
  renderPricesPanel();
  if (state.file) requestUsage();
}

function renderUsageTable() {
  const rows = state.rows;
  const onSort = (key) => {
    const column = COLUMNS.find((c) => c.key === key);
    state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: column.text ? 1 : -1 };
    renderUsageTable();
  };
  renderTable($('usage-table'), rows, { ...state, onSort });
  const more = $('table-more');
  more.hidden = rows.length <= state.maxRows;
  more.querySelector('span').textContent = `Showing the first ${formatInt(state.maxRows)} of ${formatInt(rows.length)} rows, in the order chosen above.`;
}

function cards(rows) {
  const sum = totals(rows);
  const card = (label, value, key) => el('div', { class: 'card', 'data-card': key }, el('span', { class: 'label' }, label), el('strong', {}, value));
  return [
    ...(state.includeCosts ? [card('Cost', formatCost(sum.cost ?? 0), 'cost')] : []),
    card('Total tokens', formatInt(sum.total_tokens), 'tokens'),
    card('Requests', formatInt(sum.requests), 'requests'),
    card('Root calls', formatInt(new Set(rows.map((r) => r.root.id)).size), 'roots'),
    card('Unfinished calls', formatInt(state.result.unfinished_call_ids.length), 'unfinished'),
  ];
}

function renderFileInfo() {
  const f = state.file;
  const across = f.workers > 0 ? ` · read across ${plural(f.workers, 'worker')}` : '';
  $('file-info').textContent = `${f.name} · ${formatBytes(f.size)} · ${plural(f.calls, 'call')} · ${f.format === 'array' ? 'JSON array' : 'JSON Lines'}${across}`;
}

function renderRootsPanel() {
  renderRoots($('roots'), shownRoots(), { ...state, query: state.rootQuery.trim() });
  renderRootsCount();
}

/** The roots listed: the project's, narrowed by the search box. */
function shownRoots() {
  return matchRoots(rootsInProject(state.file, state.project), state.rootQuery);
}

/** After a change of selection: the count, and the checkboxes in place (a full redraw is slow for thousands of roots). */
function renderRootsCount() {
  for (const box of $('roots').querySelectorAll('input[data-root-id]')) box.checked = state.selected.has(box.dataset.rootId);
  $('roots-count').textContent = `${formatInt(state.selected.size)} of ${formatInt(rootsInProject(state.file, state.project).length)} selected`;
}

function renderUnfinished(ids) {
  const box = $('unfinished');
  box.hidden = ids.length === 0;
  box.querySelector('summary').textContent = `${formatInt(ids.length)} unfinished call${ids.length === 1 ? '' : 's'} in the selected traces`;
  box.querySelector('ul').replaceChildren(...ids.slice(0, 200).map((id) => el('li', {}, el('code', {}, id))));
}

/** The endpoint aggregates at most `limit` calls of the requested traces: say when that cuts. */
function renderLimitWarning(roots) {
  const traces = new Set(roots.map((r) => r.trace_id));
  let calls = 0;
  for (const r of roots) if (traces.delete(r.trace_id)) calls += r.calls;
  const box = $('limit-warning');
  // Whole traces in batches: nothing is cut (a trace over the limit is an error).
  box.hidden = calls <= state.limit || state.limitRule === 'per-batch';
  box.textContent = `The selected traces hold ${plural(calls, 'call')}, more than the limit of ${formatInt(state.limit)}: as Weave does, only the first ${formatInt(state.limit)} (by start time) are counted. Raise the limit to count them all.`;
}

function showProgress(fraction, text, delayed = false) {
  const bar = $('progress-bar');
  if (fraction === null) bar.removeAttribute('value');
  else bar.value = fraction;
  $('progress-text').textContent = text;
  const box = $('progress');
  // Quick recomputations should not flash a bar: it fades in only if the work lasts.
  box.classList.toggle('delayed', delayed);
  box.hidden = false;
}

function showError({ title, message, items, excerpt }) {
  $('progress').hidden = true;
  $('error-title').textContent = title;
  $('error-message').textContent = message;
  const pre = $('error-excerpt');
  pre.hidden = !excerpt;
  if (excerpt) pre.replaceChildren(excerpt.text, '\n', ' '.repeat(excerpt.caret) + '^');
  $('error-items').replaceChildren(...items.map((i) => el('li', {}, el('code', {}, i.where), ': ', i.msg)));
  $('error').hidden = false;
  setState('error');
}

function hideError() {
  $('error').hidden = true;
}

function setState(s) {
  document.body.dataset.state = s;
  for (const part of document.querySelectorAll('main > *')) part.inert = s === 'loading';
}

// ---- events ----

$('file-input').addEventListener('change', (e) => {
  const file = e.target.files[0];
  e.target.value = ''; // so that choosing the same file again reloads it
  if (file) open({ file });
});
$('show-all').addEventListener('click', () => {
  state.maxRows = Infinity;
  renderUsageTable();
});
$('sample-button').addEventListener('click', () => open(SAMPLE));
// Buttons, so that the file pickers are reached by Tab like the rest.
$('open-button').addEventListener('click', () => $('file-input').click());
$('prices-open').addEventListener('click', () => $('prices-file').click());
$('include-costs').addEventListener('change', (e) => {
  state.includeCosts = e.target.checked;
  if (state.file) requestUsage();
});
$('limit').addEventListener('change', (e) => {
  const n = Number(e.target.value);
  if (!Number.isInteger(n) || n < 1) {
    e.target.value = state.limit;
    return;
  }
  state.limit = n;
  if (state.file) requestUsage();
});
$('rollup').addEventListener('change', (e) => {
  state.rollup = e.target.value;
  $('provider-true').checked = state.rollup === 'dedupe';
  if (state.file) requestUsage();
});
$('provider-true').addEventListener('change', (e) => {
  state.rollup = e.target.checked ? 'dedupe' : 'reference';
  $('rollup').value = state.rollup;
  if (state.file) requestUsage();
});
$('limit-rule').addEventListener('change', (e) => {
  state.limitRule = e.target.value;
  if (state.file) requestUsage();
});
$('default-prices').addEventListener('change', (e) => {
  state.defaultPrices = e.target.checked;
  if (state.file) requestUsage();
  else saveSettings();
});
$('diagnostics').addEventListener('change', (e) => {
  state.diagnostics = e.target.checked;
  if (state.file) requestUsage();
});
$('prices-toggle').addEventListener('click', () => setPricesOpen($('prices').hidden));
$('granularity').addEventListener('change', (e) => {
  state.granularity = e.target.value;
  if (state.file) requestUsage();
});
$('timezone').addEventListener('change', (e) => {
  state.timeZone = e.target.value === OWN_ZONE ? null : e.target.value;
  if (state.file) requestUsage();
});
$('breakdown-by').addEventListener('change', (e) => {
  state.breakdown = e.target.value;
  state.breakdownSort = { key: null, dir: 1 };
  if (state.file) requestUsage();
});
$('export-timeline').addEventListener('click', () => {
  if (state.stats?.timeline) download(statsCsv(state.stats.timeline.usage_buckets), `${baseName()}-per-${state.granularity}.csv`);
});
$('export-breakdown').addEventListener('click', () => {
  if (state.stats?.breakdown) download(breakdownCsv(breakdownRows(state.stats.breakdown, state.breakdown, state.includeCosts), state.breakdown), `${baseName()}-by-${state.breakdown}.csv`);
});
const baseName = () => (state.file?.name ?? 'usage').replace(/\.[^.]*$/, '');
$('add-price').addEventListener('click', () => {
  state.prices.push(blankRow());
  renderPricesPanel();
  $('price-rows').querySelector('tr:last-child input')?.focus();
});
$('add-unpriced').addEventListener('click', () => {
  for (const model of state.result?.diagnostics?.unpriced_models ?? []) state.prices.push(blankRow(model));
  setPricesOpen(true);
  renderPricesPanel();
});
$('clear-prices').addEventListener('click', () => {
  state.prices = [];
  pricesChanged();
});
$('reprice').addEventListener('change', (e) => {
  state.reprice = e.target.checked;
  pricesChanged();
});
$('prices-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  try {
    state.prices = rowsFromJson(JSON.parse(await file.text()));
  } catch (err) {
    $('prices-error').textContent = `${file.name}: ${err.message}`;
    $('prices-error').hidden = false;
    return;
  }
  pricesChanged();
});
$('usage-table').addEventListener('click', (e) => {
  const id = e.target.closest?.('[data-trace-root]')?.dataset.traceRoot;
  if (id === undefined || !state.file) return;
  state.traceRoot = rootsInProject(state.file, state.project).find((r) => r.id === id) ?? null;
  // Once it is shown, the trace is scrolled to and focused.
  state.focusTrace = state.traceRoot !== null;
  requestUsage();
});
$('project').addEventListener('change', (e) => {
  if (!state.file) return;
  state.project = state.urlProject = e.target.value;
  state.traceRoot = state.trace = null;
  // Its roots come from the worker, then its usage (handlers.roots).
  state.selected = new Set();
  renderRootsPanel();
  state.seq++;
  showProgress(null, 'Listing the root calls…', true);
  setState('aggregating');
  worker.postMessage({ type: 'roots', id: state.seq, project: state.project });
});
$('roots').addEventListener('change', (e) => {
  const id = e.target.dataset.rootId;
  if (id === undefined || !state.file) return;
  if (e.target.checked) state.selected.add(id);
  else state.selected.delete(id);
  renderRootsCount();
  requestUsage();
});
$('export-usage').addEventListener('click', () => {
  if (!state.rows) return;
  download(usageCsv(state.rows), `${(state.file?.name ?? 'usage').replace(/\.[^.]*$/, '')}-usage.csv`);
});
$('root-search').addEventListener('input', (e) => {
  state.rootQuery = e.target.value;
  if (state.file) renderRootsPanel();
});
$('select-all').addEventListener('click', () => {
  if (!state.file) return;
  // With a search, "All" adds the roots it lists.
  if (state.rootQuery.trim()) for (const r of shownRoots()) state.selected.add(r.id);
  else selectAll();
  renderRootsCount();
  requestUsage();
});
$('select-none').addEventListener('click', () => {
  if (!state.file) return;
  // With a search, "None" drops the roots it lists.
  if (state.rootQuery.trim()) for (const r of shownRoots()) state.selected.delete(r.id);
  else state.selected = new Set();
  renderRootsCount();
  requestUsage();
});

// Drag and drop anywhere on the page. dragenter/dragleave fire for every
// child element crossed, so count them to know when the file left the window.
let dragDepth = 0;
const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
window.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  $('drop-overlay').hidden = false;
});
window.addEventListener('dragover', (e) => {
  if (hasFiles(e)) e.preventDefault();
});
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) $('drop-overlay').hidden = true;
});
window.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-overlay').hidden = true;
  const file = e.dataTransfer?.files[0];
  if (file) open({ file });
});

let lastWidth = 0;
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (width !== lastWidth && state.rows) renderChart($('chart'), state.rows, state);
  lastWidth = width;
}).observe($('chart'));
let timelineWidth = 0;
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (width !== timelineWidth && state.stats?.timeline) renderStats();
  timelineWidth = width;
}).observe($('timeline'));

renderPricesPanel();
restoreSettings();
open(SAMPLE);

/** What Weave's default prices priced, by which rule, and what they could not. */
function renderDefaultPricesNote() {
  const note = $('default-prices-note');
  const p = state.defaultPrices ? state.pricing : null;
  note.hidden = p === null;
  if (p === null) return;
  const byRule = new Map();
  for (const m of p.matches) byRule.set(m.rule, (byRule.get(m.rule) ?? 0) + 1);
  const how = [...byRule].map(([rule, n]) => `${formatInt(n)} ${rule === 'exact' ? 'by exact id' : `by ${rule.replaceAll('+', ' then ').replaceAll('-', ' ')}`}`).join(', ');
  const priced = p.matches.length ? `priced ${plural(p.matches.length, 'model')} (${how})` : 'priced no model';
  const missing = p.unmatched.length ? `; no price for ${p.unmatched.join(', ')}` : '';
  note.textContent = `Weave’s default prices (weave ${p.source.version}): ${priced}${missing}.`;
  note.title = p.matches.map((m) => `${m.model} → ${m.pricedAs} (${m.rule})`).join('\n');
}

/** The settings the page's URL names (see settings.js), into the state and
 * the controls; the project is applied when a file with it opens. */
function restoreSettings() {
  const { project, ...rest } = fromFragment(location.hash);
  Object.assign(state, rest);
  state.urlProject = project ?? null;
  $('include-costs').checked = state.includeCosts;
  $('limit').value = String(state.limit);
  $('limit-rule').value = state.limitRule;
  $('rollup').value = state.rollup;
  $('provider-true').checked = state.rollup === 'dedupe';
  $('diagnostics').checked = state.diagnostics;
  $('reprice').checked = state.reprice;
  $('default-prices').checked = state.defaultPrices;
  // Time zones: the browser's first, then UTC, then every zone the engine knows.
  const known = knownZones();
  if (state.timeZone !== null && !known.includes(state.timeZone)) state.timeZone = null;
  const zones = [...new Set([OWN_ZONE, 'UTC', ...known])];
  $('timezone').replaceChildren(...zones.map((z) => el('option', { value: z }, z === OWN_ZONE ? `${z} (this browser)` : z)));
  $('timezone').value = zone();
  $('granularity').value = state.granularity;
  $('breakdown-by').replaceChildren(...DIMENSIONS.map((d) => el('option', { value: d.key }, d.label)));
  $('breakdown-by').value = state.breakdown;
}

/** The time zones to offer: the engine's list (which may give zones by
 * their older names, as CLDR does), the current names of renamed ones, and
 * any other a link names that the engine accepts. Sorted. */
function knownZones() {
  const listed = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const renamed = ['Asia/Kathmandu', 'Asia/Kolkata', 'Asia/Ho_Chi_Minh', 'Asia/Yangon', 'Europe/Kyiv', 'America/Nuuk', 'Pacific/Kanton', 'Atlantic/Faroe'];
  const accepted = (z) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: z });
      return true;
    } catch {
      return false;
    }
  };
  const extra = [...renamed, ...(state.timeZone ? [state.timeZone] : [])].filter(accepted);
  return [...new Set(['UTC', ...listed, ...extra])].sort();
}

/** The settings into the URL, so the view can be shared (no new history entry). */
function saveSettings() {
  const fragment = toFragment(state);
  history.replaceState(null, '', fragment ? `#${fragment}` : `${location.pathname}${location.search}`);
}

/** Saves `text` as a file named `name` (a CSV download). */
function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = el('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
