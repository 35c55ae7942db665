#!/usr/bin/env node
// Prints per-root, per-model usage and cost for a calls export (JSON Lines
// or a JSON array, as /calls/stream_query returns it), computed by the
// weave-usage package exactly as Weave's POST /calls/usage would.
//
//   node tools/usage-table.mjs [file] [--project ID] [--roots id,id] [--no-costs]
//
// Without --roots, every call without a parent is a root.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { callsUsageFromJson } from 'weave-usage';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { project: { type: 'string' }, roots: { type: 'string' }, 'no-costs': { type: 'boolean' } },
});
const file = positionals[0] ?? new URL('../www/sample/traces.jsonl', import.meta.url).pathname;
const bytes = readFileSync(file);

// Which roots and which project: from the file itself, unless given. Light
// parsing here; the library does the real reading (and reports bad lines).
const text = bytes.toString('utf8').trim();
let calls = [];
try {
  calls = text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
} catch {
  // Leave it to the library to say what is wrong, with the line number.
}
const project = opts.project ?? calls.find((c) => c?.project_id)?.project_id ?? 'default';
const roots = opts.roots ? opts.roots.split(',') : calls.filter((c) => c && !c.parent_id).map((c) => c.id);
const opName = new Map(calls.map((c) => [c?.id, (c?.op_name ?? '').replace(/^weave:\/\/\/[^/]+\/[^/]+\/op\//, '').replace(/:.*$/, '')]));

let res;
try {
  res = callsUsageFromJson(bytes, { project_id: project, call_ids: roots, include_costs: !opts['no-costs'] });
} catch (e) {
  console.error(`error ${e.status ?? ''}: ${e.message}`);
  process.exit(1);
}

const int = new Intl.NumberFormat('en-US');
const money = (x) => (x === null ? '—' : x === 0 ? '$0' : x < 0.0001 ? '<$0.0001' : `$${x.toFixed(4)}`);
const cost = (u) => (u.prompt_tokens_total_cost === null ? null : u.prompt_tokens_total_cost + u.completion_tokens_total_cost + u.cache_read_input_tokens_total_cost + u.cache_creation_input_tokens_total_cost);
const head = ['root call', 'model', 'requests', 'prompt', 'completion', 'total', 'cache read', 'cache write', 'cost'];
const rows = [];
const sum = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cost: 0 };
for (const [id, models] of Object.entries(res.call_usage)) {
  const label = `${opName.get(id) || 'call'} ${id.slice(0, 8)}`;
  const entries = Object.entries(models);
  if (entries.length === 0) rows.push([label, '(no usage)', '', '', '', '', '', '', '']);
  entries.forEach(([model, u], i) => {
    for (const k of Object.keys(sum)) if (k !== 'cost') sum[k] += u[k];
    const c = cost(u);
    if (c !== null) sum.cost += c;
    rows.push([i === 0 ? label : '', model, ...['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'].map((k) => int.format(u[k])), money(c)]);
  });
}
rows.push(['total', '', ...['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'].map((k) => int.format(sum[k])), opts['no-costs'] ? '—' : money(sum.cost)]);

const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`Usage per root call and model: ${file}`);
console.log(`${calls.length} calls, ${roots.length} roots, project ${project}\n`);
console.log(line(head));
console.log(widths.map((w) => '─'.repeat(w)).join('  '));
rows.slice(0, -1).forEach((r) => console.log(line(r)));
console.log(widths.map((w) => '─'.repeat(w)).join('  '));
console.log(line(rows[rows.length - 1]));
const unfinished = res.unfinished_call_ids;
console.log(`\nunfinished calls: ${unfinished.length ? unfinished.join(', ') : 'none'}`);
