// weave-usage/prices, imported by name as users do: the bundled table is
// Weave's checkpoint (spot-checked against the wheel's own numbers), its
// rows pass `options.prices` validation and price calls exactly as
// hand-written rows do, and each matching rule finds what it should and
// nothing it should not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { callsUsage } from 'weave-usage';
import { PRICES_SOURCE, PRICE_RULES, candidates, defaultPrices, modelsOf, pricesFor } from 'weave-usage/prices';

const call = (id, model, usage, started = '2026-11-01T00:00:00Z') => ({
  id,
  trace_id: 't',
  project_id: 'p',
  started_at: started,
  ended_at: started,
  summary: { usage: { [model]: usage } },
});

test('the table says where it came from and holds every checkpoint row', () => {
  assert.equal(PRICES_SOURCE.package, 'weave');
  assert.match(PRICES_SOURCE.version, /^\d+\.\d+\.\d+/);
  assert.equal(PRICES_SOURCE.file, 'weave/trace_server/costs/cost_checkpoint.json');
  const rows = defaultPrices();
  assert.equal(rows.length, PRICES_SOURCE.rows);
  assert.equal(new Set(rows.map((r) => r.llm_id)).size, PRICES_SOURCE.models);
  // gpt-4o's first row in Weave 0.53.x's checkpoint: $5 / $15 per million.
  const gpt4o = rows.find((r) => r.llm_id === 'gpt-4o');
  assert.deepEqual(
    { p: gpt4o.prompt_token_cost, c: gpt4o.completion_token_cost, at: gpt4o.effective_date, level: gpt4o.pricing_level },
    { p: 5e-6, c: 1.5e-5, at: '2024-10-08T08:45:39Z', level: 'default' },
  );
  for (const r of rows) {
    assert.ok(Number.isFinite(r.prompt_token_cost) && Number.isFinite(r.completion_token_cost), r.llm_id);
    assert.match(r.effective_date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
});

test('every bundled row is accepted by options.prices', () => {
  const answer = callsUsage([call('a', 'gpt-4o', { prompt_tokens: 1 })], { project_id: 'p', call_ids: ['a'], include_costs: true }, { prices: defaultPrices() });
  assert.ok(answer.call_usage.a['gpt-4o'].prompt_tokens_total_cost > 0);
});

test('priced through pricesFor, calls cost what the rows say, the latest row before the call', () => {
  const calls = [call('a', 'openai/gpt-4o-mini', { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 })];
  const { prices, matches, unmatched } = pricesFor(modelsOf(calls));
  assert.deepEqual(matches, [{ model: 'openai/gpt-4o-mini', pricedAs: 'gpt-4o-mini', rule: 'provider-prefix' }]);
  assert.deepEqual(unmatched, []);
  const rows = defaultPrices().filter((r) => r.llm_id === 'gpt-4o-mini' && r.effective_date <= '2026-11-01T00:00:00Z');
  const latest = rows.reduce((a, b) => (b.effective_date > a.effective_date ? b : a));
  const got = callsUsage(calls, { project_id: 'p', call_ids: ['a'], include_costs: true }, { prices }).call_usage.a['openai/gpt-4o-mini'];
  assert.equal(got.prompt_tokens_total_cost, 1_000_000 * latest.prompt_token_cost);
  assert.equal(got.completion_tokens_total_cost, 1_000_000 * latest.completion_token_cost);
});

test('a project row given alongside still wins over the default rows', () => {
  const calls = [call('a', 'gpt-4o', { prompt_tokens: 10 })];
  const own = { llm_id: 'gpt-4o', prompt_token_cost: 1, completion_token_cost: 1, effective_date: '2020-01-01T00:00:00Z', pricing_level: 'project', pricing_level_id: 'p' };
  const got = callsUsage(calls, { project_id: 'p', call_ids: ['a'], include_costs: true }, { prices: [...pricesFor(['gpt-4o']).prices, own] });
  assert.equal(got.call_usage.a['gpt-4o'].prompt_tokens_total_cost, 10);
});

test('each rule finds what it should', () => {
  const rule = (m) => pricesFor([m]).matches[0] ?? null;
  assert.deepEqual(rule('gpt-4o'), { model: 'gpt-4o', pricedAs: 'gpt-4o', rule: 'exact' });
  assert.deepEqual(rule('my-gateway/openai/gpt-4o'), { model: 'my-gateway/openai/gpt-4o', pricedAs: 'gpt-4o', rule: 'provider-prefix' });
  assert.deepEqual(rule('gpt-4o-2031-01-01'), { model: 'gpt-4o-2031-01-01', pricedAs: 'gpt-4o', rule: 'dated-snapshot' });
  assert.deepEqual(rule('openai/gpt-4o-2031-01-01'), { model: 'openai/gpt-4o-2031-01-01', pricedAs: 'gpt-4o', rule: 'provider-prefix+dated-snapshot' });
  // A Bedrock id the table lacks, whose model it has under its plain name.
  assert.deepEqual(rule('eu.anthropic.claude-3-5-sonnet-20240620-v7:0'), {
    model: 'eu.anthropic.claude-3-5-sonnet-20240620-v7:0',
    pricedAs: 'claude-3-5-sonnet-20240620',
    rule: 'bedrock',
  });
  // A dated snapshot that is itself priced is priced as itself.
  const dated = defaultPrices().find((r) => /-\d{4}-\d\d-\d\d$/.test(r.llm_id)).llm_id;
  assert.equal(rule(dated).rule, 'exact');
});

test('and nothing it should not', () => {
  for (const m of ['no-such-model', 'gpt-5-turbo-ultra', 'openai/', '/gpt-4o', 'anthropic.claude-9-v1:0', 'gpt-4o-20240806x']) {
    assert.deepEqual(pricesFor([m]).matches, [], m);
  }
  // A dot in an OpenAI id is not a Bedrock vendor prefix.
  assert.ok(candidates('gpt-4.1-mini').every(([id, rule]) => rule === 'exact' || !id.startsWith('1')));
  assert.deepEqual(PRICE_RULES, ['exact', 'provider-prefix', 'bedrock', 'dated-snapshot']);
  // Each model once, in the order given; non-strings are skipped.
  const { matches, unmatched } = pricesFor(['gpt-4o', 'x', 'gpt-4o', 42, 'x']);
  assert.deepEqual([matches.map((m) => m.model), unmatched], [['gpt-4o'], ['x']]);
});

test('CommonJS gets the same table', () => {
  const cjs = createRequire(import.meta.url)('weave-usage/prices');
  assert.deepEqual(cjs.PRICES_SOURCE, PRICES_SOURCE);
  assert.deepEqual(cjs.pricesFor(['openai/gpt-4o']).matches, pricesFor(['openai/gpt-4o']).matches);
});
