// The chart: one horizontal bar per root call, stacked by model, measuring
// cost (or total tokens when there are no costs). Plain SVG sized to its
// container; the app redraws it when the container's width changes.
import { el, svg } from './dom.js';
import { formatCompact, formatCost, formatCostTick, formatInt, plural } from './format.js';

const ROW = 30; // px per bar
const STACKED_ROW = 42; // px per bar with its label above it
const BAR = 18;
const AXIS = 22; // px under the bars for tick labels

/** Which measure the rows support: cost when costs were requested and any is non-zero. */
export function chartMeasure(rows, includeCosts) {
  return includeCosts && rows.some((r) => r.cost) ? 'cost' : 'tokens';
}

/** Bars, biggest first: { root, total, segments: [{ model, value }] }. */
export function chartBars(rows, measure) {
  const bars = new Map();
  for (const r of rows) {
    const value = measure === 'cost' ? r.cost ?? 0 : r.total_tokens;
    const bar = bars.get(r.root.id) ?? { root: r.root, total: 0, segments: [] };
    bars.set(r.root.id, bar);
    if (r.model !== null && value > 0) {
      bar.segments.push({ model: r.model, value });
      bar.total += value;
    }
  }
  return [...bars.values()].sort((a, b) => b.total - a.total);
}

/**
 * Draws into `container`: a legend, then the SVG. `colors` maps model →
 * colour; at most `maxBars` bars (the largest), with a note when cut.
 */
export function renderChart(container, rows, { includeCosts, colors, maxBars = 12, nothingSelected = false }) {
  const measure = chartMeasure(rows, includeCosts);
  const all = chartBars(rows, measure);
  const bars = all.slice(0, maxBars).filter((b) => b.total > 0);
  const fmt = measure === 'cost' ? formatCost : formatInt;
  const title = el('h2', {}, measure === 'cost' ? 'Cost by model' : 'Tokens by model');
  if (bars.length === 0) {
    const why = nothingSelected ? 'No root call is selected: pick some in the list.' : 'No LLM usage in the selected root calls.';
    container.replaceChildren(title, el('p', { class: 'muted', 'data-empty': nothingSelected ? 'nothing-selected' : 'no-usage' }, why));
    return;
  }

  // The legend totals every root, not only the bars drawn.
  const byModel = new Map();
  for (const b of all) for (const s of b.segments) byModel.set(s.model, (byModel.get(s.model) ?? 0) + s.value);
  const legend = el('ul', { class: 'legend' });
  for (const [model, value] of [...byModel].sort((a, b) => b[1] - a[1])) {
    legend.append(el('li', {}, el('span', { class: 'swatch', style: `background:${colors.get(model)}` }), model, ' ', el('span', { class: 'muted' }, fmt(value))));
  }
  const note = all.length > maxBars ? el('p', { class: 'muted note' }, `The ${maxBars} largest of ${formatInt(all.length)} root calls.`) : '';
  const body = el('div', { class: 'chart-body' });
  container.replaceChildren(title, legend, body, note);
  body.append(drawBars(bars, { width: Math.max(280, body.clientWidth), measure, colors, fmt }));
}

function drawBars(bars, { width, measure, colors, fmt }) {
  // Narrow screens put each label above its bar, so that bars keep the width.
  const stacked = width < 520;
  const row = stacked ? STACKED_ROW : ROW;
  const labelW = stacked ? 0 : Math.round(Math.min(220, Math.max(92, width * 0.3)));
  const valueW = measure === 'cost' ? 78 : 64;
  const x0 = stacked ? 0 : labelW + 8;
  const span = width - x0 - valueW;
  const ticks = niceTicks(bars[0].total);
  const max = ticks[ticks.length - 1];
  const scale = (v) => (v / max) * span;
  const height = bars.length * row + AXIS;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'data-measure': measure,
    'aria-label': `${measure === 'cost' ? 'Cost' : 'Total tokens'} by model for ${plural(bars.length, 'root call')}`,
  });

  ticks.forEach((t, i) => {
    const x = x0 + scale(t);
    // The first and last labels are kept inside the chart.
    const anchor = stacked && i === 0 ? 'start' : 'middle';
    chart.append(
      svg('line', { x1: x, x2: x, y1: 0, y2: bars.length * row, class: 'grid' }),
      svg('text', { x, y: height - 6, class: 'tick', 'text-anchor': anchor }, measure === 'cost' ? formatCostTick(t) : formatCompact(t)),
    );
  });
  bars.forEach((b, i) => {
    const y = i * row + (stacked ? 18 : (ROW - BAR) / 2);
    const mid = y + BAR / 2;
    const id = b.root.id.slice(0, 8);
    const g = svg('g', { class: 'bar', 'data-root': b.root.id });
    const label = stacked
      ? svg('text', { x: 0, y: i * row + 11, class: 'label', 'dominant-baseline': 'central' }, clip(b.root.name, width - 90) + ' ', svg('tspan', { class: 'id' }, id))
      : svg('text', { x: labelW, y: mid, class: 'label', 'text-anchor': 'end', 'dominant-baseline': 'central' }, clip(b.root.name, labelW - 70) + ' ', svg('tspan', { class: 'id' }, id));
    g.append(svg('title', {}, `${b.root.name} ${b.root.id}: ${fmt(b.total)}`), label);
    let x = x0;
    for (const s of b.segments) {
      const w = scale(s.value);
      g.append(svg('rect', { x, y, width: Math.max(w, 0.5), height: BAR, fill: colors.get(s.model), 'data-model': s.model }, svg('title', {}, `${s.model}: ${fmt(s.value)}`)));
      x += w;
    }
    g.append(svg('text', { x: x + 6, y: mid, class: 'value', 'dominant-baseline': 'central' }, measure === 'cost' ? formatCost(b.total) : formatCompact(b.total)));
    chart.append(g);
  });
  return chart;
}

/** Clips a label to about `px` pixels of text at the chart's font size. */
function clip(text, px) {
  const chars = Math.max(4, Math.floor(px / 6.5));
  return text.length > chars ? text.slice(0, chars - 1) + '…' : text;
}

/** 0 and up to four round steps (1, 2 or 5 × 10^k), the last at least `max`. */
export function niceTicks(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9));
  const n = Math.max(1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}
