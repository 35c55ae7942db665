// weave-usage/prices as the README shows it, under tsc --strict with no DOM.
import { callsUsage, type Call, type PriceRow } from 'weave-usage';
import { PRICES_SOURCE, PRICE_RULES, candidates, defaultPrices, modelsOf, pricesFor, type PriceRule, type PricesFor } from 'weave-usage/prices';

declare const calls: Call[];
const found: PricesFor = pricesFor(modelsOf(calls));
const rows: PriceRow[] = found.prices;
callsUsage(calls, { project_id: 'p', call_ids: ['a'], include_costs: true }, { prices: rows });
const rule: PriceRule = found.matches[0]?.rule ?? 'exact';
const version: string = PRICES_SOURCE.version;
const first: 'exact' = PRICE_RULES[0];
const all: PriceRow[] = defaultPrices();
const ids: string[] = candidates('openai/gpt-4o').map(([id]) => id);
void [rule, version, first, all, ids, found.unmatched satisfies string[]];

// @ts-expect-error pricesFor takes model ids, not calls
pricesFor(calls);
// @ts-expect-error not a rule
const wrong: PriceRule = 'fuzzy';
void wrong;
