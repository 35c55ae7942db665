// The dashboard's settings in the page's URL (its fragment), so that a view
// can be shared or bookmarked: only settings that differ from the defaults
// are written, and anything unreadable in a URL is ignored (the default
// stays). Pure functions; app.js applies them.

/** Each setting: its key in the URL, its field in the page's state, its
 * default, and how it reads from text (undefined: not readable). */
export const SETTINGS = [
  { key: 'project', field: 'project', fallback: null, read: (t) => (t === '' ? undefined : t) },
  { key: 'costs', field: 'includeCosts', fallback: true, read: bool },
  { key: 'limit', field: 'limit', fallback: 10000, read: (t) => (/^[1-9][0-9]{0,15}$/.test(t) ? Number(t) : undefined) },
  { key: 'limit-rule', field: 'limitRule', fallback: 'cut', read: (t) => (t === 'cut' || t === 'per-batch' ? t : undefined) },
  { key: 'rollup', field: 'rollup', fallback: 'reference', read: (t) => (t === 'reference' || t === 'dedupe' ? t : undefined) },
  { key: 'diagnostics', field: 'diagnostics', fallback: true, read: bool },
  { key: 'reprice', field: 'reprice', fallback: false, read: bool },
  { key: 'default-prices', field: 'defaultPrices', fallback: false, read: bool },
  { key: 'per', field: 'granularity', fallback: 'day', read: (t) => (['hour', 'day', 'week', 'month'].includes(t) ? t : undefined) },
  // null: the browser's own zone. Checked against the zones the engine knows when applied.
  { key: 'tz', field: 'timeZone', fallback: null, read: (t) => (/^[A-Za-z0-9_+\-/:]{1,64}$/.test(t) ? t : undefined) },
  { key: 'by', field: 'breakdown', fallback: 'op_name', read: (t) => (['op_name', 'root_op_name', 'wb_user_id', 'thread_id'].includes(t) ? t : undefined) },
  // Workers a large file is read with (worker.js); null: as many as there are cores to spare.
  { key: 'workers', field: 'workers', fallback: null, read: (t) => (/^[0-8]$/.test(t) ? Number(t) : undefined) },
];

function bool(t) {
  if (t === '1') return true;
  if (t === '0') return false;
  return undefined;
}

const write = (v) => (v === true ? '1' : v === false ? '0' : String(v));

/** The fragment (without `#`) for `state`'s settings: '' when all are the
 * defaults. */
export function toFragment(state) {
  const params = new URLSearchParams();
  for (const s of SETTINGS) {
    const v = state[s.field];
    if (v !== s.fallback && v !== null && v !== undefined) params.set(s.key, write(v));
  }
  return params.toString();
}

/** The settings a fragment (with or without `#`) gives: field → value, only
 * those present and readable. */
export function fromFragment(fragment) {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  const out = {};
  for (const s of SETTINGS) {
    const text = params.get(s.key);
    if (text === null) continue;
    const v = s.read(text);
    if (v !== undefined) out[s.field] = v;
  }
  return out;
}
