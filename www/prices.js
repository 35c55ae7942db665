// The price table editor: rows in Weave's /costs/query shape, typed in or
// loaded from a JSON file, sent to the package as `options.prices`. The
// package validates them (a bad row comes back as a 422 naming the row and
// field, which the editor marks); this module only turns inputs into rows.
import { el } from './dom.js';

/** The editable fields, in column order: [key, label, placeholder]. */
export const PRICE_FIELDS = [
  ['llm_id', 'Model', 'gpt-4o'],
  ['prompt_token_cost', 'Prompt $/token', '2.5e-6'],
  ['completion_token_cost', 'Completion $/token', '1e-5'],
  ['cache_read_input_token_cost', 'Cache read $/token', ''],
  ['cache_creation_input_token_cost', 'Cache write $/token', ''],
  ['effective_date', 'Effective from', '2024-01-01'],
];
const RATES = PRICE_FIELDS.slice(1, 5).map(([k]) => k);

/** A new row: in effect for any call (an early date), project level. */
export function blankRow(llm_id = '') {
  return { llm_id, prompt_token_cost: '', completion_token_cost: '', cache_read_input_token_cost: '', cache_creation_input_token_cost: '', effective_date: '2000-01-01', pricing_level: 'project' };
}

/**
 * Editor rows from an uploaded JSON value: a list of rows, `/costs/query`'s
 * `{ results: [...] }`, or `{ prices: [...] }`. Values become text; keys the
 * editor does not show are dropped. Throws when the shape is none of these.
 */
export function rowsFromJson(value) {
  const list = Array.isArray(value) ? value : Array.isArray(value?.results) ? value.results : Array.isArray(value?.prices) ? value.prices : null;
  if (!list) throw new Error('Expected a list of price rows, or an object with "results" (as /costs/query returns) or "prices".');
  return list.map((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`Row ${i + 1} is not an object.`);
    const row = blankRow();
    for (const [k] of PRICE_FIELDS) row[k] = r[k] === undefined || r[k] === null ? '' : String(r[k]);
    row.pricing_level = r.pricing_level === 'default' ? 'default' : 'project';
    return row;
  });
}

/**
 * `options.prices` from editor rows. A rate that reads as a number is sent
 * as one, an empty one is left out (0), anything else is sent as typed so
 * the package reports it. Rows without a model are skipped.
 */
export function pricesOption(rows) {
  return rows
    .filter((r) => r.llm_id.trim() !== '')
    .map((r) => {
      const out = { llm_id: r.llm_id.trim(), effective_date: r.effective_date.trim(), pricing_level: r.pricing_level };
      for (const k of RATES) {
        const text = r[k].trim();
        if (text === '') continue;
        const n = Number(text);
        out[k] = Number.isFinite(n) ? n : text;
      }
      return out;
    });
}

/** Index in `rows` of the n-th row that `pricesOption` sends (errors name those). */
export function sentRowIndex(rows, n) {
  let seen = -1;
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].llm_id.trim() !== '' && ++seen === n) return i;
  }
  return -1;
}

/**
 * Draws the editor into `box` (a <tbody>): one row of inputs per price row.
 * `invalid` is a set of "index field" pairs to mark; `onEdit(i, key, value)`
 * and `onRemove(i)` report changes.
 */
export function renderPriceRows(box, rows, { invalid = new Set(), onEdit, onRemove }) {
  box.replaceChildren(
    ...rows.map((row, i) => {
      const tr = el('tr', { 'data-price-row': String(i) });
      for (const [key, label, placeholder] of PRICE_FIELDS) {
        const input = el('input', { type: 'text', 'data-field': key, 'aria-label': `${label}, row ${i + 1}`, placeholder, spellcheck: 'false', autocomplete: 'off' });
        input.value = row[key];
        if (invalid.has(`${i} ${key}`)) input.setAttribute('aria-invalid', 'true');
        input.addEventListener('change', () => onEdit(i, key, input.value));
        tr.appendChild(el('td', {}, input));
      }
      const level = el('select', { 'data-field': 'pricing_level', 'aria-label': `Level, row ${i + 1}` }, el('option', { value: 'project' }, 'project'), el('option', { value: 'default' }, 'default'));
      level.value = row.pricing_level;
      level.addEventListener('change', () => onEdit(i, 'pricing_level', level.value));
      const remove = el('button', { type: 'button', class: 'link', 'data-remove-row': String(i), 'aria-label': `Remove row ${i + 1}` }, '✕');
      remove.addEventListener('click', () => onRemove(i));
      tr.append(el('td', {}, level), el('td', {}, remove));
      return tr;
    }),
  );
}
