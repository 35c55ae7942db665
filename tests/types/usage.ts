// Compiled by `tsc --strict` in the test suite: the API used as the README
// shows it must type-check, and each @ts-expect-error line must fail to.
import {
  callsUsage,
  callsUsageFromJson,
  traceUsage,
  traceUsageFromJson,
  usageStats,
  usageStatsFromJson,
  UsageAccumulator,
  wasmMemoryBytes,
  isUsageError,
  type Call,
  type CallsUsageError,
  type CallsUsageReq,
  type CallsUsageRes,
  type LLMAggregatedUsage,
  type PriceRow,
  type TraceUsageReq,
  type TraceUsageRes,
  type UsageDiagnostics,
  type UsageOptions,
  type ValidationErrorDetail,
} from 'weave-usage';

const calls: Call[] = [
  {
    id: 'root',
    trace_id: 't',
    started_at: '2025-03-01T09:00:00Z',
    ended_at: new Date(),
    summary: { usage: { 'gpt-4o': { prompt_tokens: 10, completion_tokens: 5 } }, weave: { costs: { 'gpt-4o': { prompt_tokens_total_cost: 0.01 } } } },
    // Everything else a call carries is allowed and ignored.
    inputs: { messages: [] },
    op_name: 'agent.run',
  },
];
const request: CallsUsageReq = { project_id: 'acme/agents', call_ids: ['root'], include_costs: true, limit: 1000 };

const res: CallsUsageRes = callsUsage(calls, request);
const usage: LLMAggregatedUsage | undefined = res.call_usage['root']?.['gpt-4o'];
const total: number | undefined = usage?.total_tokens;
const cost: number | null | undefined = usage?.prompt_tokens_total_cost;
const unfinished: string[] = res.unfinished_call_ids;

callsUsageFromJson(new Uint8Array(0), request);
callsUsageFromJson(new ArrayBuffer(0), request, {});
callsUsageFromJson('{"id":"root","trace_id":"t"}\n', { project_id: 'p', call_ids: [] }, null);

try {
  callsUsage([], request);
} catch (e) {
  const err = e as CallsUsageError;
  const status: 400 | 409 | 410 | 413 | 422 | 500 | 501 = err.status;
  // @ts-expect-error: a 500 is possible too (an answer too big for one string)
  const narrow: 400 | 409 | 410 | 413 | 422 = err.status;
  // @ts-expect-error: a 413 is possible too (calls or a request too large for memory)
  const narrower: 400 | 409 | 410 | 422 | 500 = err.status;
  // @ts-expect-error: a 409 is possible too (an accumulator called from inside a call on it)
  const notBusy: 400 | 410 | 413 | 422 | 500 = err.status;
  // @ts-expect-error: a 410 is possible too (an accumulator used after free())
  const notFreed: 400 | 409 | 413 | 422 | 500 = err.status;
  void [narrow, narrower, notBusy, notFreed];
  // A UsageAccumulator in a call already (409), freed (410).
  const retry: boolean = err.status === 409 || err.status === 410;
  void retry;
  const first: ValidationErrorDetail | undefined = err.detail[0];
  const where: (string | number)[] | undefined = first?.loc;
  const message: string = err.message;
  void [status, where, message];
}
void [total, cost, unfinished];

// The type guard: narrows an unknown catch to the package's error.
try {
  callsUsageFromJson('{', request);
} catch (e: unknown) {
  // @ts-expect-error: unknown until narrowed
  void e.status;
  if (isUsageError(e)) {
    const status: 400 | 409 | 410 | 413 | 422 | 500 | 501 = e.status;
    const type: string | undefined = e.detail[0]?.type;
    void [status, type];
  }
}

// Streaming: push chunks as they arrive, then finish (any number of times).
const acc = new UsageAccumulator();
acc.push(new Uint8Array(0));
// Chunks are what the bytes path takes: bytes, an ArrayBuffer or text.
acc.push(new ArrayBuffer(0));
acc.push('{"id":"root","trace_id":"t"}\n');
const progress: number = acc.calls + acc.bytesRead + wasmMemoryBytes();
const streamed: CallsUsageRes = acc.finish(request);
acc.finish({ project_id: 'p', call_ids: [] }, {});
void [progress, streamed];

// Options: prices (a /costs/query row as it comes), reprice, rollup, diagnostics.
const prices: PriceRow[] = [
  { llm_id: 'gpt-4o', prompt_token_cost: 2.5e-6, completion_token_cost: 1e-5, effective_date: '2024-01-01T00:00:00Z' },
  { id: 'row-1', llm_id: 'gpt-4o', prompt_token_cost: '3e-6', effective_date: new Date(), pricing_level: 'default', provider_id: 'openai', prompt_token_cost_unit: 'USD' },
  { llm_id: 'claude', cache_read_input_token_cost: null, effective_date: 1704067200, pricing_level: 'project', pricing_level_id: 'acme/agents' },
];
const options: UsageOptions = { prices, reprice: true, rollup: 'dedupe', diagnostics: true, limit: 'per-batch' };
const withDiagnostics: CallsUsageRes = callsUsage(calls, request, options);
const diagnostics: UsageDiagnostics | undefined = withDiagnostics.diagnostics;
const orphans: string[] | undefined = diagnostics?.orphan_call_ids;
const unreadable: string | undefined = diagnostics?.unreadable_values[0]?.field;
const unpriced: string[] | undefined = diagnostics?.unpriced_models;
const negative: string | undefined = diagnostics?.negative_costs[0]?.field;
callsUsage(calls, request, { limit: 'cut' });
callsUsageFromJson('', request, { rollup: 'reference' });
callsUsageFromJson('', request, { prices: null });

// /trace/usage: objects, bytes, the accumulator.
const traceRequest: TraceUsageReq = { project_id: 'acme/agents', filter: { trace_ids: ['t'] }, include_costs: true, limit: 100 };
const traced: TraceUsageRes = traceUsage(calls, traceRequest, options);
const perCall: LLMAggregatedUsage | undefined = traced.call_usage['root']?.['gpt-4o'];
traceUsageFromJson(new Uint8Array(0), { project_id: 'p' });
traceUsageFromJson('', { project_id: 'p', filter: null }, null);
const tracedStream: TraceUsageRes = acc.finishTrace(traceRequest);
acc.free();
void [diagnostics, orphans, unreadable, unpriced, negative, perCall, tracedStream];

// Stats are in weave-usage/stats (stats.ts): here they throw a 501 and
// are typed so.
const noStats: never = usageStats(calls, { project_id: 'p' });
const noStatsFromJson: never = usageStatsFromJson('', { project_id: 'p' });
const noStatsStreamed: never = acc.finishStats({ project_id: 'p' });
const noListing: never = acc.finishCalls({ project_id: 'p' });
const noProjects: never = acc.finishProjects();
void [noStats, noStatsFromJson, noStatsStreamed, noListing, noProjects];

// ---- Misuse the compiler must refuse. ----

// @ts-expect-error: the field is call_ids, not callIds
callsUsage(calls, { project_id: 'p', callIds: ['root'] });
// @ts-expect-error: project_id is required
callsUsage(calls, { call_ids: ['root'] });
// @ts-expect-error: include_costs is a boolean
callsUsage(calls, { project_id: 'p', call_ids: [], include_costs: 'yes' });
// @ts-expect-error: the result has no `usage` field
res.usage;
// @ts-expect-error: usage entries have no `cost` field
usage?.cost;
// @ts-expect-error: a cost may be null (without include_costs)
const n: number = (usage as LLMAggregatedUsage).prompt_tokens_total_cost;
// @ts-expect-error: the body is bytes or text
callsUsageFromJson(42, request);
// @ts-expect-error: a call needs an id
const nameless: Call = { trace_id: 't' };
// @ts-expect-error: options has no such key
callsUsage(calls, request, { includeCosts: true });
// @ts-expect-error: push takes bytes or text, not a number
acc.push(42);
// @ts-expect-error: nor another typed array (only a Uint8Array is bytes)
acc.push(new Uint16Array(1));
// @ts-expect-error: finish needs a request
acc.finish();
// @ts-expect-error: the rollup is "reference" or "dedupe"
callsUsage(calls, request, { rollup: 'dedup' });
// @ts-expect-error: the limit rule is "cut" or "per-batch", not a number (that is the request's limit)
callsUsage(calls, request, { limit: 100 });
// @ts-expect-error: a price row needs an effective_date
const undated: PriceRow = { llm_id: 'gpt-4o', prompt_token_cost: 1e-6 };
// @ts-expect-error: prices is a list of rows
callsUsage(calls, request, { prices: { 'gpt-4o': 1e-6 } });
// @ts-expect-error: pricing_level is "project" or "default"
callsUsage(calls, request, { prices: [{ llm_id: 'm', effective_date: '2024-01-01', pricing_level: 'org' }] });
// @ts-expect-error: diagnostics are only there when asked for, so possibly undefined
const calls_in_scope: number = callsUsage(calls, request).diagnostics.calls_in_scope;
// @ts-expect-error: a trace request has no call_ids (use filter.call_ids)
traceUsage(calls, { project_id: 'p', call_ids: ['root'] });
// @ts-expect-error: the trace filter takes trace_ids and call_ids only
traceUsage(calls, { project_id: 'p', filter: { op_names: ['x'] } });
// @ts-expect-error: finishTrace needs a request
acc.finishTrace();
void [n, nameless, undated, calls_in_scope];
