// The package's public types: both entries (index.js, node.js) export this.
export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator, wasmMemoryBytes } from './weave_usage.js';
export type {
  Call,
  CallSummary,
  LLMUsage,
  LLMCost,
  CallsUsageReq,
  TraceUsageReq,
  PriceRow,
  UsageOptions,
  LLMAggregatedUsage,
  CallsUsageRes,
  TraceUsageRes,
  UsageDiagnostics,
  ValidationErrorDetail,
  CallsUsageError,
} from './weave_usage.js';
