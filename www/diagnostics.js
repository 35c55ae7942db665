// The diagnostics panel: what the package's `options.diagnostics` found in
// the calls behind the figures (orphans, cycles, duplicates, unreadable
// values, prompt + input tokens, negative stored costs, unpriced models,
// calls deduplicated).
import { el } from './dom.js';
import { formatInt } from './format.js';

const SHOWN = 50; // entries listed per item; the count says how many there are

/**
 * The panel's items, pure: `{ key, label, count, entries }`, in reading
 * order; items that only exist with some options (prices, dedupe) only
 * when the result has them.
 */
export function diagnosticItems(d) {
  const call = (v) => `${v.call_id} › ${v.model}${v.field ? ` › ${v.field}` : ''}`;
  const items = [
    { key: 'cut', label: 'Calls left out by the limit', count: d.calls_cut_by_limit, entries: [] },
    { key: 'orphans', label: 'Orphan calls (parent not among the calls counted): counted as roots', count: d.orphan_call_ids.length, entries: d.orphan_call_ids },
    { key: 'cycles', label: 'Calls on a parent cycle: never added to their parents', count: d.cycle_call_ids.length, entries: d.cycle_call_ids },
    { key: 'duplicates', label: 'Ids given more than once: the last one counts', count: d.duplicate_call_ids.length, entries: d.duplicate_call_ids },
    { key: 'unreadable', label: 'Values that could not be read as numbers, counted as 0', count: d.unreadable_values.length, entries: d.unreadable_values.map(call) },
    { key: 'prompt-and-input', label: 'Both prompt_tokens and input_tokens reported by one call: added together', count: d.prompt_and_input_tokens.length, entries: d.prompt_and_input_tokens.map(call) },
    { key: 'negative-costs', label: 'Stored costs below zero (Weave subtracted cache tokens twice)', count: d.negative_costs.length, entries: d.negative_costs.map(call) },
  ];
  if (d.unpriced_models) items.push({ key: 'unpriced', label: 'Models without a price row', count: d.unpriced_models.length, entries: d.unpriced_models });
  if (d.deduped_call_ids) items.push({ key: 'deduped', label: 'Calls whose usage already includes their children’s: counted once', count: d.deduped_call_ids.length, entries: d.deduped_call_ids });
  return items;
}

/** Fills `section`: a summary line, then one entry per item with its count and (some of) its entries. */
export function renderDiagnostics(section, d) {
  const items = diagnosticItems(d);
  const problems = items.filter((i) => i.count > 0 && i.key !== 'deduped');
  const summary = el('p', { class: 'muted diag-summary' }, `${formatInt(d.calls_in_scope)} call${d.calls_in_scope === 1 ? '' : 's'} counted. `, problems.length ? `${problems.length} thing${problems.length === 1 ? '' : 's'} to look at.` : 'Nothing unusual.');
  const list = el(
    'ul',
    { class: 'diag-items' },
    ...items.map((item) => {
      const li = el('li', { 'data-diag': item.key, 'data-count': String(item.count), class: item.count ? 'found' : 'none' });
      li.append(el('strong', {}, formatInt(item.count)), ' ', item.label);
      if (item.entries.length) {
        const shown = item.entries.slice(0, SHOWN);
        const more = item.entries.length - shown.length;
        const details = el('details', {}, el('summary', {}, more ? `first ${SHOWN}` : 'list'), el('ul', {}, ...shown.map((e) => el('li', {}, el('code', {}, e)))));
        if (more) details.append(el('p', { class: 'muted' }, `and ${formatInt(more)} more`));
        li.append(details);
      }
      return li;
    }),
  );
  section.replaceChildren(el('h2', {}, 'Diagnostics'), summary, list);
}
