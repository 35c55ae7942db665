// The types of weave-usage/prices: Weave's default model prices, for
// `options.prices` (see js/prices.js for the matching rules).
import type { Call, PriceRow } from 'weave-usage';

/** The Weave wheel the table was generated from, and its size. */
export declare const PRICES_SOURCE: {
  readonly package: string;
  readonly version: string;
  readonly file: string;
  readonly models: number;
  readonly rows: number;
  /** The newest effective date in the table, `YYYY-MM-DD HH:MM:SS` UTC. */
  readonly newest: string;
};

/** How a model id of the calls was matched to a priced model. */
export type PriceRule = 'exact' | 'provider-prefix' | 'bedrock' | 'dated-snapshot' | `${'provider-prefix' | 'bedrock'}+${'bedrock' | 'dated-snapshot'}`;

/** The rules, in the order they are tried. */
export declare const PRICE_RULES: readonly ['exact', 'provider-prefix', 'bedrock', 'dated-snapshot'];

/** Every bundled row, as default-level price rows (a fresh array each call). */
export declare function defaultPrices(): PriceRow[];

/** The ids `model` may be priced as, each with the rule that leads to it,
 * in the order they are tried. */
export declare function candidates(model: string): Array<[id: string, rule: PriceRule]>;

/** What `pricesFor` found. */
export interface PricesFor {
  /** Rows for `options.prices`, `llm_id` set to the calls' model ids. */
  prices: PriceRow[];
  /** For each model priced: which bundled model priced it, by which rule. */
  matches: Array<{ model: string; pricedAs: string; rule: PriceRule }>;
  /** The models no rule found a price for. */
  unmatched: string[];
}

/** Price rows for the models named, each found exactly or through the
 * documented normalisations. */
export declare function pricesFor(models: Iterable<string>): PricesFor;

/** The model ids in the calls' `summary.usage` maps, each once. */
export declare function modelsOf(calls: Iterable<Call>): string[];
