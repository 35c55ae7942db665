// Compiled by `tsc --strict` in the test suite: the API used as the README
// shows it must type-check, and each @ts-expect-error line must fail to.
import {
  callsUsage,
  callsUsageFromJson,
  UsageAccumulator,
  wasmMemoryBytes,
  type Call,
  type CallsUsageError,
  type CallsUsageReq,
  type CallsUsageRes,
  type LLMAggregatedUsage,
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
  const status: 400 | 422 | 500 = err.status;
  // @ts-expect-error: a 500 is possible too (an answer too big for one string)
  const narrow: 400 | 422 = err.status;
  void narrow;
  const first: ValidationErrorDetail | undefined = err.detail[0];
  const where: (string | number)[] | undefined = first?.loc;
  const message: string = err.message;
  void [status, where, message];
}
void [total, cost, unfinished];

// Streaming: push chunks as they arrive, then finish (any number of times).
const acc = new UsageAccumulator();
acc.push(new Uint8Array(0));
const progress: number = acc.calls + acc.bytesRead + wasmMemoryBytes();
const streamed: CallsUsageRes = acc.finish(request);
acc.finish({ project_id: 'p', call_ids: [] }, {});
acc.free();
void [progress, streamed];

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
// @ts-expect-error: push takes bytes, not text
acc.push('{}');
// @ts-expect-error: finish needs a request
acc.finish();
void [n, nameless];
