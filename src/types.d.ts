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

/** No options exist yet: `{}` only; unknown keys are refused (422). */
export interface UsageOptions {
  [option: string]: never;
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
}

/** One entry of a FastAPI `HTTPValidationError`. */
export interface ValidationErrorDetail {
  /** Where: `["body", field, …]` for the request, `["calls", index, field]`
   * for a call, `["options", key]`, or `["body", byteOffset]` for bad JSON. */
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** What every export throws: an `Error` with the HTTP status the server
 * would answer and its `detail` list. */
export interface CallsUsageError extends Error {
  /** 422: invalid request, options or call. 400: the body is not JSON.
   * 500: the answer is too large for the engine to hold as one string. */
  status: 400 | 422 | 500;
  detail: ValidationErrorDetail[];
}
