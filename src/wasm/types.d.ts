/** A call as Weave's `/calls/stream_query` returns it. Only the fields
 * below are read; any others (`inputs`, `output`, `attributes`, …) are
 * allowed and never looked at. */
export interface Call {
  id: string;
  trace_id: string;
  parent_id?: string | null;
  /** Absent means the request's project. */
  project_id?: string | null;
  /** RFC 3339 with any offset (or a `Date`); missing or unreadable sorts last. */
  started_at?: string | Date | null;
  /** Absent or `null`: the call has not ended. */
  ended_at?: string | Date | null;
  /** Set: the call is deleted and ignored. */
  deleted_at?: string | Date | null;
  summary?: CallSummary | null;
  /** Read by stats only: `weave:///entity/project/op/NAME:digest` (grouped by `NAME`). */
  op_name?: string | null;
  /** Read by stats only. */
  wb_user_id?: string | null;
  /** Read by stats only. */
  thread_id?: string | null;
  /** Read by stats only: any value but `null` (or absent) makes the call an error. */
  exception?: unknown;
  [field: string]: unknown;
}

export interface CallSummary {
  /** Token usage per model. */
  usage?: { [model: string]: LLMUsage };
  weave?: {
    /** Cost per model, as `/calls/stream_query` returns it with `include_costs`. */
    costs?: { [model: string]: LLMCost };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** Counters are read as Python's `int()` reads them; unreadable ones count as 0. */
export interface LLMUsage {
  requests?: number | null;
  prompt_tokens?: number | null;
  /** Added to `prompt_tokens`. */
  input_tokens?: number | null;
  completion_tokens?: number | null;
  /** Added to `completion_tokens`. */
  output_tokens?: number | null;
  /** 0 or absent: prompt + completion. */
  total_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  [field: string]: unknown;
}

/** Costs are read as Python's `float()` reads them; unreadable ones count as 0. */
export interface LLMCost {
  prompt_tokens_total_cost?: number | null;
  completion_tokens_total_cost?: number | null;
  cache_read_input_tokens_total_cost?: number | null;
  cache_creation_input_tokens_total_cost?: number | null;
  [field: string]: unknown;
}

/** The body of `POST /calls/usage`. Validated as the server does (pydantic,
 * lax: `"5"` is a valid `limit`, `"yes"` a valid `include_costs`). */
export interface CallsUsageReq {
  project_id: string;
  /** Root calls to report; each result key is one of these. */
  call_ids: string[];
  /** Default `false`: the cost fields of the result are `null`. */
  include_costs?: boolean;
  /** Default 10000, at least 1: how many calls of the requested traces to
   * aggregate, in (`started_at`, `id`) order. */
  limit?: number;
}

/** The body of Weave's `POST /trace/usage`: every call of the project (as
 * narrowed by `filter`) with its own rolled-up usage. Validated like
 * `CallsUsageReq`. */
export interface TraceUsageReq {
  project_id: string;
  /** Only `trace_ids` and `call_ids` (each: empty or null means no filter);
   * the server's other filters need fields calls are not read for (422
   * `not_supported`). */
  filter?: { trace_ids?: string[] | null; call_ids?: string[] | null } | null;
  /** Default `false`: the cost fields of the result are `null`. */
  include_costs?: boolean;
  /** Default 10000, at least 1: how many calls to aggregate, in
   * (`started_at`, `id`) order. */
  limit?: number;
}

/** A price row, as Weave's `/costs/query` returns it or as stored: rates are
 * per token, in USD. Validated like a pydantic model (lax: numeric strings
 * are read); a bad row is a 422 at `["options", "prices", index, field]`. */
export interface PriceRow {
  llm_id: string;
  prompt_token_cost?: number | string | null;
  completion_token_cost?: number | string | null;
  cache_read_input_token_cost?: number | string | null;
  cache_creation_input_token_cost?: number | string | null;
  /** When the price takes effect: ISO 8601 / RFC 3339 (no offset: UTC), a
   * `Date`, or a Unix timestamp (seconds, or milliseconds beyond 2e10). */
  effective_date: string | Date | number;
  /** Default `"project"`. */
  pricing_level?: 'project' | 'default';
  /** Default: the request's project for a project row, `"default"` for a
   * default row. Rows of another project (or a default row with another id)
   * never apply. */
  pricing_level_id?: string | null;
  provider_id?: string | null;
  /** Carried by `/costs/query` and stored rows; accepted, not read. */
  id?: unknown;
  prompt_token_cost_unit?: unknown;
  completion_token_cost_unit?: unknown;
  created_at?: unknown;
  created_by?: unknown;
}

/** What the library adds to the endpoint. Omitted, `null` or `{}`: the
 * reference's answer exactly. Unknown keys are refused (422). */
export interface UsageOptions {
  /** With `include_costs`: a model without costs in `summary.weave.costs`
   * is priced from these rows, as the Weave server picks them. */
  prices?: PriceRow[] | null;
  /** Price every model from `prices`, ignoring `summary.weave.costs`. */
  reprice?: boolean;
  /** `"reference"` (default): every call adds its children's totals.
   * `"dedupe"` (provider-true totals): a call whose own usage covers its
   * children's own usage (every model, every token counter at least as
   * large) counts as its own usage plus what its children's subtrees hold
   * beyond their own usage. */
  rollup?: 'reference' | 'dedupe';
  /** Add a `diagnostics` object to the result. */
  diagnostics?: boolean;
  /** What `/calls/usage`'s `limit` means. `"cut"` (default, Weave 0.53.0):
   * the requested traces' calls are cut to the first `limit`.
   * `"per-batch"` (Weave 0.53.12): whole traces, in batches of at most
   * `limit` calls; a single trace over `limit` throws 413, a `limit` below 1
   * throws 400. `/trace/usage` cuts either way, as 0.53.12 does. */
  limit?: 'cut' | 'per-batch';
}

/** One model's usage, summed over a root call and all its descendants. */
export interface LLMAggregatedUsage {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** `null` unless the request had `include_costs: true`. */
  prompt_tokens_total_cost: number | null;
  completion_tokens_total_cost: number | null;
  cache_read_input_tokens_total_cost: number | null;
  cache_creation_input_tokens_total_cost: number | null;
}

/** The response of `POST /calls/usage`: plain objects, own keys only. */
export interface CallsUsageRes {
  /** Requested root id → model → usage. An id not found maps to `{}`. */
  call_usage: { [callId: string]: { [model: string]: LLMAggregatedUsage } };
  /** Ids of the calls aggregated that have not ended, sorted by code point. */
  unfinished_call_ids: string[];
  /** Only with `options.diagnostics: true`. */
  diagnostics?: UsageDiagnostics;
}

/** The response of `POST /trace/usage`: every call in scope, in the
 * server's order, with its usage and its descendants'. (The keys are added
 * in that order; a JavaScript object lists keys that look like array
 * indices, such as `"42"`, first. Weave's UUID ids never do.) */
export interface TraceUsageRes {
  /** Call id → model → usage (`{}` for a call without any). */
  call_usage: { [callId: string]: { [model: string]: LLMAggregatedUsage } };
  /** Ids of the calls in scope that have not ended, sorted by code point. */
  unfinished_call_ids: string[];
  /** Only with `options.diagnostics: true`. */
  diagnostics?: UsageDiagnostics;
}

/** `options.diagnostics: true`: what in the calls in scope could make the
 * totals surprising. Id lists are sorted by code point. */
export interface UsageDiagnostics {
  calls_in_scope: number;
  /** Calls of the traces in scope left out by `limit`. */
  calls_cut_by_limit: number;
  /** `parent_id` names no call in scope: counted as roots. */
  orphan_call_ids: string[];
  /** On a parent cycle: never added to their parents. */
  cycle_call_ids: string[];
  /** Ids given by several live calls: the last one counted. */
  duplicate_call_ids: string[];
  /** Values present but unreadable, read as 0 (cost fields only when costs
   * were read from the calls). */
  unreadable_values: { call_id: string; model: string; field: string }[];
  /** Entries with both `prompt_tokens` and `input_tokens` non-zero (they
   * are added, which double counts if both hold the same tokens), except
   * entries that a child in scope has usage of the same model under: those
   * are the client's sums of children (one Chat API call, one Responses API
   * call), not one call's report. */
  prompt_and_input_tokens: { call_id: string; model: string }[];
  /** Stored costs (`summary.weave.costs`) below zero, field by field; only
   * when costs were read from the calls (`include_costs`, not repriced). */
  negative_costs: { call_id: string; model: string; field: string }[];
  /** Only with `options.prices`: models with token usage in an entry that
   * has neither stored costs to use nor a row for the project or the
   * default level. */
  unpriced_models?: string[];
  /** Only with `options.rollup: "dedupe"`: calls whose own usage covers
   * their children's own usage, so counted with their children's extras
   * only. */
  deduped_call_ids?: string[];
}

/** A time bucket's size: ISO weeks start on Monday; months are calendar
 * months; all in the request's `timezone`. */
export type StatsGranularity = 'hour' | 'day' | 'week' | 'month';

/** What stats rows may be grouped by. */
export type StatsGroupKey = 'model' | 'op_name' | 'wb_user_id' | 'thread_id' | 'root_op_name';

/** The request of `usageStats` (this library's own; vocabulary of Weave's
 * `CallStatsReq`). docs/stats.md has the rules. */
export interface UsageStatsReq {
  project_id: string;
  /** Inclusive, RFC 3339 with an offset (or a `Date`); absent: the first counted call's. */
  start?: string | Date | null;
  /** Exclusive; absent: just after the last counted call. */
  end?: string | Date | null;
  /** Default `"day"`. */
  granularity?: StatsGranularity | null;
  /** An IANA name (`"America/New_York"`) or a fixed offset (`"+05:30"`); default `"UTC"`. */
  timezone?: string | null;
  filter?: UsageStatsFilter | null;
  /** Any of the keys, in any order (a repeated key counts once). */
  group_by?: StatsGroupKey[] | null;
  /** The top N groups (by cost with `include_costs`, else total tokens); the rest in one `other` group. */
  limit?: number | string | null;
  include_costs?: boolean | string | number | null;
}

/** `CallsFilter`'s fields that stats apply; any other is refused (422). */
export interface UsageStatsFilter {
  /** An op's `NAME` or its full ref. */
  op_names?: string[] | null;
  wb_user_ids?: string[] | null;
  thread_ids?: string[] | null;
  /** Count only roots, each with its whole tree's usage at its own start. */
  trace_roots_only?: boolean | string | number | null;
}

/** The group keys of a row: those of `group_by` but model, `null` where a
 * call has none (and in the `other` row). */
export interface StatsGroupFields {
  op_name?: string | null;
  wb_user_id?: string | null;
  thread_id?: string | null;
  root_op_name?: string | null;
  /** Present (true) on the row of the groups merged past `limit`. */
  other?: true;
}

/** Usage of one bucket, group and (with `group_by` model) model: each
 * call's own usage counted once. */
export interface StatsUsageBucket extends StatsGroupFields, LLMAggregatedUsage {
  /** The bucket's start, RFC 3339 in the zone's offset there. */
  timestamp: string;
  /** Only with `group_by` model (`null` in the `other` row). */
  model?: string | null;
}

/** Calls of one bucket and group (not by model). */
export interface StatsCallBucket extends StatsGroupFields {
  timestamp: string;
  call_count: number;
  /** Calls whose `exception` is not null. */
  error_count: number;
  /** Calls without `ended_at`. */
  unfinished_count: number;
  /** LLM requests of those calls' own usage. */
  requests: number;
}

/** The answer of `usageStats`: every bucket from `start` to `end`, empty
 * ones included, times every group (and model). */
export interface UsageStatsRes {
  /** The first bucket's start; `null` when no call counted and no range was given. */
  start: string | null;
  /** The last bucket's end. */
  end: string | null;
  granularity: StatsGranularity;
  timezone: string;
  group_by: StatsGroupKey[];
  usage_buckets: StatsUsageBucket[];
  call_buckets: StatsCallBucket[];
  /** Calls that passed the filters but have no readable `started_at` (not counted). */
  undated_calls: number;
}

/** The request of `UsageAccumulator.finishCalls` (this library's subset of
 * Weave's `CallsQueryReq`; docs/stats.md, "Listing the calls"). */
export interface CallsQueryReq {
  project_id: string;
  /** `trace_ids` and `call_ids` (empty or null: no filter) and
   * `trace_roots_only` (calls without a parent); any other filter is
   * refused (422 `not_supported`). */
  filter?: {
    trace_ids?: string[] | null;
    call_ids?: string[] | null;
    trace_roots_only?: boolean | string | number | null;
  } | null;
  /** At least 1: the first N calls, in (`started_at`, `id`) order; absent or null: all. */
  limit?: number | string | null;
}

/** A call as `finishCalls` lists it: what its record holds. */
export interface ListedCall {
  id: string;
  trace_id: string;
  parent_id: string | null;
  project_id: string | null;
  /** The op's full ref, as the call gives it. */
  op_name: string | null;
  /** `null` when absent, null or not a string. */
  display_name: string | null;
  /** RFC 3339 in UTC (`2025-01-01T12:00:00.250000Z`); `null` when absent or unreadable. */
  started_at: string | null;
  /** `ended_at` is given. */
  ended: boolean;
  /** `exception` is given (not null). */
  has_exception: boolean;
  /** The calls of its trace that count for the project, itself included. */
  trace_calls: number;
}

/** The answer of `finishCalls`: the live calls of the project (those every
 * answer counts), filtered, in (`started_at`, `id`) order. */
export interface CallsQueryRes {
  calls: ListedCall[];
}

/** The answer of `finishProjects`: every project the calls name, with how
 * many of the calls counted for it name it, most first, then by id. */
export interface ProjectsRes {
  projects: { project_id: string; calls: number }[];
}

/** `new UsageAccumulator(options?)`. */
export interface UsageAccumulatorOptions {
  /** Also read the fields `finishStats` and `finishCalls` need (op name,
   * user, thread, exception, display name); without it they are skipped
   * and those are a 409.
   * Only in `weave-usage/stats`: the main entry refuses it (501). */
  stats?: boolean | null;
}

/** One entry of a FastAPI `HTTPValidationError`. */
export interface ValidationErrorDetail {
  /** Where: `["body", field, …]` for the request, `["calls", index, field]`
   * for a call, `["options", key, …]`, `["body", byteOffset]` for bad JSON,
   * `["accumulator"]` for a `UsageAccumulator` that cannot be used, or
   * `["response"]`, `["stack"]`, `["internal"]` for a 500 (`["body"]`,
   * `["calls"]` or `["options"]` for a 413: input too large for memory). */
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** What every export throws: an `Error` with the HTTP status the server
 * would answer and its `detail` list. */
export interface CallsUsageError extends Error {
  /** 422: invalid request, options or call, or a `UsageAccumulator` method
   * called on a copy of one. 400: the body is not JSON. 409: a
   * `UsageAccumulator` called from inside a call on it, or `finishStats` or
   * `finishCalls` on one not made with `{ stats: true }`. 410: a
   * `UsageAccumulator` used after `free()`. 413: the calls, or the request,
   * do not fit in the module's memory. 500: the answer is too large for one
   * JavaScript string (or for the memory left), too little stack is left to
   * run the call, or an internal error. 501: stats asked of the main
   * entry (`weave-usage`, `weave-usage/init`), whose module is built
   * without them: import them from `weave-usage/stats`. */
  status: 400 | 409 | 410 | 413 | 422 | 500 | 501;
  detail: ValidationErrorDetail[];
}
