// The spend-over-time chart: one vertical bar per time bucket, stacked by
// model, measuring cost (or total tokens when there are no costs). Plain
// SVG sized to its container, like the per-root chart; bucket labels are
// written in the time zone the buckets were cut in.
import { el, svg } from './dom.js';
import { formatCompact, formatCost, formatCostTick, formatInt } from './format.js';
import { niceTicks } from './chart.js';

const HEIGHT = 220; // px of bars
const AXIS = 34; // px under the bars for bucket labels
const LEFT = 58; // px for the value ticks

/**
 * A bucket's label in `timeZone` (an IANA name or a fixed offset such as
 * "+05:30"; engines without offset zones fall back to UTC).
 * `granularity`: 'hour' | 'day' | 'week' | 'month'.
 */
export function bucketLabel(iso, granularity, timeZone = 'UTC') {
  const opts = granularity === 'hour' ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : granularity === 'month' ? { year: 'numeric', month: 'short' } : { month: 'short', day: 'numeric' };
  let text;
  try {
    text = new Intl.DateTimeFormat('en-US', { ...opts, timeZone }).format(new Date(iso));
  } catch {
    text = new Intl.DateTimeFormat('en-US', { ...opts, timeZone: 'UTC' }).format(new Date(iso));
  }
  return granularity === 'week' ? `week of ${text}` : text;
}

/**
 * The chart's columns, pure: `buckets` (bucket starts, in order) and
 * `stacks` (model → value per bucket) → [{ bucket, total, segments: [{
 * model, value }] }], segments in the order of `models` (largest first), zeros left out.
 */
export function timelineColumns(buckets, stacks) {
  const models = [...stacks.keys()].sort((a, b) => sum(stacks.get(b)) - sum(stacks.get(a)) || (a < b ? -1 : 1));
  return buckets.map((bucket, i) => {
    const segments = models.map((model) => ({ model, value: stacks.get(model)[i] ?? 0 })).filter((s) => s.value > 0);
    return { bucket, total: segments.reduce((s, x) => s + x.value, 0), segments };
  });
}

const sum = (xs) => xs.reduce((s, x) => s + x, 0);

/**
 * Draws into `container`: a title, a legend, the SVG. `measure`: 'cost' or
 * 'tokens'; `colors`: model → colour.
 */
export function renderTimeline(container, buckets, stacks, { measure, colors, granularity, timeZone }) {
  const fmt = measure === 'cost' ? formatCost : formatInt;
  const title = el('h3', {}, measure === 'cost' ? 'Spend over time' : 'Tokens over time');
  const columns = timelineColumns(buckets, stacks);
  const grand = sum(columns.map((c) => c.total));
  if (columns.length === 0 || grand === 0) {
    container.replaceChildren(title, el('p', { class: 'muted', 'data-empty': 'no-usage' }, 'No LLM usage in this range.'));
    return;
  }
  const legend = el('ul', { class: 'legend' });
  for (const model of [...stacks.keys()].sort((a, b) => sum(stacks.get(b)) - sum(stacks.get(a)))) {
    const total = sum(stacks.get(model));
    if (total > 0) legend.append(el('li', {}, el('span', { class: 'swatch', style: `background:${colors.get(model)}` }), model, ' ', el('span', { class: 'muted' }, fmt(total))));
  }
  const body = el('div', { class: 'chart-body' });
  container.replaceChildren(title, legend, body);
  body.append(drawColumns(columns, { width: Math.max(280, body.clientWidth), measure, colors, fmt, granularity, timeZone }));
}

function drawColumns(columns, { width, measure, colors, fmt, granularity, timeZone }) {
  const max = Math.max(...columns.map((c) => c.total));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1];
  const span = width - LEFT - 4;
  const step = span / columns.length;
  const barW = Math.max(1, Math.min(step * 0.8, 56));
  const y = (v) => HEIGHT - (v / top) * HEIGHT + 4;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${HEIGHT + AXIS + 4}`,
    width,
    height: HEIGHT + AXIS + 4,
    role: 'img',
    'data-measure': measure,
    'aria-label': `${measure === 'cost' ? 'Cost' : 'Total tokens'} per ${granularity} by model, ${columns.length} ${granularity}s from ${bucketLabel(columns[0].bucket, granularity, timeZone)}`,
  });
  for (const t of ticks) {
    chart.append(
      svg('line', { x1: LEFT, x2: width - 4, y1: y(t), y2: y(t), class: 'grid' }),
      svg('text', { x: LEFT - 6, y: y(t), class: 'tick', 'text-anchor': 'end', 'dominant-baseline': 'central' }, measure === 'cost' ? formatCostTick(t) : formatCompact(t)),
    );
  }
  // At most about one label per 70 px.
  const every = Math.max(1, Math.ceil(70 / step));
  columns.forEach((c, i) => {
    const x = LEFT + i * step + (step - barW) / 2;
    const label = bucketLabel(c.bucket, granularity, timeZone);
    const g = svg('g', { class: 'column', 'data-bucket': c.bucket, 'data-total': String(c.total) }, svg('title', {}, `${label}: ${fmt(c.total)}`));
    let base = 0;
    for (const s of c.segments) {
      const y0 = y(base + s.value);
      const h = Math.max(y(base) - y0, 0.5);
      g.append(svg('rect', { x, y: y0, width: barW, height: h, fill: colors.get(s.model), 'data-model': s.model }, svg('title', {}, `${label}, ${s.model}: ${fmt(s.value)}`)));
      base += s.value;
    }
    if (i % every === 0) g.append(svg('text', { x: x + barW / 2, y: HEIGHT + 20, class: 'tick', 'text-anchor': 'middle' }, label));
    chart.append(g);
  });
  return chart;
}
