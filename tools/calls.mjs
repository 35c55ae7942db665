// Realistic Weave calls, as `/calls/stream_query` returns them (with
// include_costs), generated deterministically from a seed: agent runs with
// nested tool and LLM calls; LLM calls carry `summary.usage` for one model and
// the matching `summary.weave.costs` entry (some with cache tokens).

/** A small, fast, seeded PRNG (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

// Prices per token, as Weave's default price table has them.
export const MODELS = {
  'gpt-4o-2024-08-06': { provider: 'openai', prompt: 2.5e-6, completion: 1e-5, cacheRead: 1.25e-6, cacheWrite: 0 },
  'gpt-4o-mini': { provider: 'openai', prompt: 1.5e-7, completion: 6e-7, cacheRead: 7.5e-8, cacheWrite: 0 },
  'claude-3-5-sonnet-20241022': { provider: 'anthropic', prompt: 3e-6, completion: 1.5e-5, cacheRead: 3e-7, cacheWrite: 3.75e-6 },
  'o1-mini': { provider: 'openai', prompt: 3e-6, completion: 1.2e-5, cacheRead: 1.5e-6, cacheWrite: 0 },
};

const WORDS = 'the agent reads the ticket and calls a tool to fetch the order then drafts a reply for the customer with a refund policy summary and next steps'.split(' ');

function uuid(r) {
  const h = () => r.int(0, 0xffff).toString(16).padStart(4, '0');
  return `${h()}${h()}-${h()}-7${h().slice(1)}-${(8 + r.int(0, 3)).toString(16)}${h().slice(1)}-${h()}${h()}${h()}`;
}

function sentence(r, n) {
  return Array.from({ length: n }, () => r.pick(WORDS)).join(' ');
}

function iso(ms) {
  return new Date(ms).toISOString().replace('Z', '000Z'); // microseconds, as Weave writes them
}

/**
 * One trace: a root agent call with `size` calls in all (1 = a lone LLM call).
 * `llmShare` of the non-root calls are LLM calls with usage.
 */
export function trace(r, { project = 'acme/agents', start = Date.UTC(2025, 2, 1), size = 8, llmShare = 0.45, unfinished = 0.05 } = {}) {
  const traceId = uuid(r);
  const calls = [];
  let clock = start;
  const make = (parent, op, isLlm) => {
    const id = uuid(r);
    const started = (clock += r.int(5, 400));
    const model = isLlm ? r.pick(Object.keys(MODELS)) : null;
    const call = {
      id,
      project_id: project,
      op_name: `weave:///${project}/op/${op}:${uuid(r).slice(0, 8)}`,
      display_name: null,
      trace_id: traceId,
      parent_id: parent,
      thread_id: null,
      turn_id: null,
      started_at: iso(started),
      ended_at: null,
      exception: null,
      attributes: { weave: { client_version: '0.53.0', source: 'python-sdk', os_name: 'Linux', sys_version: '3.11.7' } },
      inputs: isLlm
        ? { model, messages: [{ role: 'system', content: sentence(r, 30) }, { role: 'user', content: sentence(r, 60) }], temperature: 0.2 }
        : { query: sentence(r, 20), context: { ticket: r.int(1000, 9999), tags: ['billing', 'refund'] } },
      output: isLlm
        ? { id: `chatcmpl-${uuid(r)}`, choices: [{ index: 0, message: { role: 'assistant', content: sentence(r, 80) }, finish_reason: 'stop' }] }
        : { result: sentence(r, 25) },
      summary: { weave: { status: 'success', trace_name: op } },
      wb_user_id: 'VXNlcjox',
      wb_run_id: null,
      deleted_at: null,
      storage_size_bytes: null,
      total_storage_size_bytes: null,
    };
    if (isLlm) addUsage(r, call, model);
    calls.push(call);
    return call;
  };
  const root = make(null, size === 1 ? 'openai.chat.completions.create' : 'agent.run', size === 1);
  const open = [root];
  while (calls.length < size) {
    const parent = r.pick(open);
    const isLlm = r.chance(llmShare);
    const child = make(parent.id, isLlm ? 'openai.chat.completions.create' : r.pick(['tool.search', 'tool.fetch_order', 'plan.step']), isLlm);
    if (!isLlm) open.push(child);
  }
  // End times after every child, except for the occasional call still running.
  for (const c of [...calls].reverse()) {
    if (r.chance(unfinished)) continue;
    c.ended_at = iso((clock += r.int(50, 2000)));
    c.summary.weave.latency_ms = Date.parse(c.ended_at) - Date.parse(c.started_at);
  }
  return calls;
}

function addUsage(r, call, model) {
  const p = MODELS[model];
  const prompt = r.int(200, 6000);
  const completion = r.int(20, 1500);
  const cacheRead = r.chance(0.3) ? r.int(100, prompt) : 0;
  const cacheWrite = p.cacheWrite && r.chance(0.3) ? Math.min(r.int(100, 2000), prompt - cacheRead) : 0;
  const usage = { requests: 1, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (cacheRead) usage.cache_read_input_tokens = cacheRead;
  if (cacheWrite) usage.cache_creation_input_tokens = cacheWrite;
  call.summary.usage = { [model]: usage };
  call.summary.weave.costs = {
    [model]: {
      requests: 1,
      prompt_tokens: prompt,
      completion_tokens: completion,
      cache_read_input_tokens: cacheRead,
      cache_creation_input_tokens: cacheWrite,
      total_tokens: prompt + completion,
      prompt_token_cost: p.prompt,
      completion_token_cost: p.completion,
      cache_read_input_token_cost: p.cacheRead,
      cache_creation_input_token_cost: p.cacheWrite,
      prompt_tokens_total_cost: (prompt - cacheRead - cacheWrite) * p.prompt,
      completion_tokens_total_cost: completion * p.completion,
      cache_read_input_tokens_total_cost: cacheRead * p.cacheRead,
      cache_creation_input_tokens_total_cost: cacheWrite * p.cacheWrite,
      prompt_token_cost_unit: 'USD',
      completion_token_cost_unit: 'USD',
      effective_date: '2025-01-01T00:00:00+00:00',
      provider_id: p.provider,
      pricing_level: 'default',
      pricing_level_id: 'default',
      created_at: '2025-01-01T00:00:00+00:00',
      created_by: 'system',
    },
  };
}
