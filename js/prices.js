// weave-usage/prices: Weave's default model prices, bundled, for
// `options.prices`. Opt-in and separate from the core: only code that
// imports this entry loads the table (js/prices-data.js, generated from a
// Weave wheel by scripts/gen-prices.py; `PRICES_SOURCE` says which).
//
// Rows are given as default-level rows (`pricing_level: "default"`), so
// rows a caller adds for the project still win, as on the server.
//
// A model id in the calls is matched to the table exactly first; if that
// fails, through these normalisations, in order, the first that names a
// priced model winning (`pricesFor` reports which rule priced which model):
//   provider-prefix  `openai/gpt-4o`, `my-gateway/openai/gpt-4o`:
//                    leading `provider/` segments dropped one at a time;
//   bedrock          `us.anthropic.claude-3-5-sonnet-20240620-v1:0`: the
//                    cross-region prefix dropped, then the vendor prefix and
//                    the `-vN:M` version (`claude-3-5-sonnet-20240620`);
//   dated-snapshot   `gpt-4o-2024-08-06` → `gpt-4o`, `claude-x-20241022` →
//                    `claude-x`, when only the base id is priced;
// and each of those after another (`openai/gpt-4o-2024-99-01`: prefix,
// then date). Ids are compared exactly (case included).

import { DATES, ROWS, SOURCE } from './prices-data.js';

/** Which table this is: the Weave wheel it came from, its model and row
 * counts, its newest effective date. */
export const PRICES_SOURCE = Object.freeze({ ...SOURCE });

/** The rules, in the order they are tried. */
export const PRICE_RULES = Object.freeze(['exact', 'provider-prefix', 'bedrock', 'dated-snapshot']);

let byModel = null;

/** Model id → its bundled rows (as stored), built on first use. */
const table = () => (byModel ??= indexOf(ROWS));

/** A stored row as a price row for `options.prices`, named `llmId`. */
function priceRow(row, llmId) {
  return {
    llm_id: llmId,
    prompt_token_cost: row[2],
    completion_token_cost: row[3],
    cache_read_input_token_cost: row[4],
    cache_creation_input_token_cost: row[5],
    effective_date: `${DATES[row[6]].replace(' ', 'T')}Z`,
    provider_id: row[1],
    pricing_level: 'default',
    pricing_level_id: 'default',
  };
}

/** Every bundled row, as price rows (a fresh array each call). */
export function defaultPrices() {
  return ROWS.map((row) => priceRow(row, row[0]));
}

// Bedrock's model ids: `vendor.name-vN:M`, the vendors Bedrock hosts.
const BEDROCK = /^(anthropic|meta|mistral|amazon|cohere|ai21|deepseek|writer|qwen|openai)\.(.+?)(?:-v\d+(?::\d+)?)?$/;
const DATED = /^(.+?)(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8})$/;

/** The ids `model` may be priced as, with the rule that leads to each, in
 * the order they are tried (`exact` first). */
export function candidates(model) {
  const out = [[model, 'exact']];
  const seen = new Set([model]);
  const add = (id, rule) => {
    if (id && !seen.has(id)) {
      seen.add(id);
      out.push([id, rule]);
    }
  };
  // Leading `provider/` segments, one at a time.
  let rest = model;
  for (let slash = rest.indexOf('/'); slash > 0; slash = rest.indexOf('/')) {
    rest = rest.slice(slash + 1);
    add(rest, 'provider-prefix');
  }
  // Bedrock ids, on the id and on each prefix-stripped form.
  for (const [id, rule] of out.slice()) {
    const cross = id.replace(/^(?:us|eu|apac|global|us-gov)\./, '');
    if (cross !== id) add(cross, rule === 'exact' ? 'bedrock' : `${rule}+bedrock`);
    const m = BEDROCK.exec(cross);
    if (m !== null) add(m[2], rule === 'exact' ? 'bedrock' : `${rule}+bedrock`);
  }
  // Dated snapshots, on everything so far.
  for (const [id, rule] of out.slice()) {
    const m = DATED.exec(id);
    if (m !== null) add(m[1], rule === 'exact' ? 'dated-snapshot' : `${rule}+dated-snapshot`);
  }
  return out;
}

/**
 * Price rows for the models named (each distinct model id once, in the
 * order given), for `options.prices`: each model's bundled rows, named as
 * the calls name it, found by the rules above; and what priced what.
 *
 * - `prices`: the rows, `llm_id` set to the calls' model id;
 * - `matches`: `{ model, pricedAs, rule }` for each model priced;
 * - `unmatched`: the models no rule found a price for.
 *
 * `rows` (optional): other rows in this module's stored form, for tests.
 */
export function pricesFor(models, rows) {
  const index = rows === undefined ? table() : indexOf(rows);
  const prices = [];
  const matches = [];
  const unmatched = [];
  const done = new Set();
  for (const model of models) {
    if (typeof model !== 'string' || done.has(model)) continue;
    done.add(model);
    const found = candidates(model).find(([id]) => index.has(id));
    if (found === undefined) {
      unmatched.push(model);
      continue;
    }
    const [id, rule] = found;
    for (const row of index.get(id)) prices.push(priceRow(row, model));
    matches.push({ model, pricedAs: id, rule });
  }
  return { prices, matches, unmatched };
}

/** Model id → its rows (as stored), in the order given. */
function indexOf(rows) {
  const index = new Map();
  for (const row of rows) {
    const list = index.get(row[0]);
    if (list === undefined) index.set(row[0], [row]);
    else list.push(row);
  }
  return index;
}

/** The model ids in calls' `summary.usage` maps, each once: the argument
 * for `pricesFor` when the models are not known in advance. */
export function modelsOf(calls) {
  const models = new Set();
  for (const call of calls) {
    const usage = call?.summary?.usage;
    if (usage !== null && typeof usage === 'object') for (const m of Object.keys(usage)) models.add(m);
  }
  return [...models];
}
