// Numbers formatted for people. Pure functions, shared by the page and the
// tests (which compare the table's text with the library's figures).

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 });
const round = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 0, maximumFractionDigits: 4 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function formatInt(n) {
  return Number.isFinite(n) ? integer.format(n) : String(n);
}

/** A count and its noun: "1 call", "2 calls", "1,024 root calls". */
export function plural(n, noun) {
  return `${formatInt(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * A cost in USD: "—" when there is none (costs not requested), "$0.00",
 * "<$0.0001" for tiny amounts, four decimals below a dollar ("$0.0120"),
 * cents from a dollar up ("$1,234.57").
 */
export function formatCost(x) {
  if (x === null || x === undefined) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x < 0) return '−' + formatCost(-x);
  if (x === 0) return '$0.00';
  if (x < 0.0001) return '<$0.0001';
  return (x < 1 ? cents : dollars).format(x);
}

/** Short form for token counts in the chart: 1234567 → "1.2M". */
export function formatCompact(n) {
  return Number.isFinite(n) ? compact.format(n) : String(n);
}

/** A round amount for a chart axis, without trailing zeros: 0.05 → "$0.05". */
export function formatCostTick(x) {
  return round.format(x);
}

/** A byte count: 12345678 → "11.8 MB". */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * The provider-true totals' note: one sentence on the difference, then both
 * totals (`provider`: counting each LLM request once; `server`: Weave's own
 * rollup), each `{requests, total_tokens, cost}` as `totals()` gives them.
 */
export function providerTrueNote(provider, server, includeCosts) {
  const figures = (t) => `${formatInt(t.requests)} request${t.requests === 1 ? '' : 's'}, ${formatInt(t.total_tokens)} tokens${includeCosts ? `, ${formatCost(t.cost ?? 0)}` : ''}`;
  return {
    sentence: 'Provider-true totals count each LLM request once, as the providers served it; Weave’s server also adds every call’s usage into each of its ancestors, which Weave’s client had already done, so it counts a request once per level above it.',
    provider: `Provider-true: ${figures(provider)}.`,
    server: `Weave’s server: ${figures(server)}${server.requests > provider.requests && provider.requests > 0 ? ` (${(server.requests / provider.requests).toFixed(2)}× the requests)` : ''}.`,
  };
}
