// The package's public types: both entries (index.js, node.js) export this.
export { callsUsage, callsUsageFromJson, UsageAccumulator, wasmMemoryBytes } from './weave_usage.js';
export type {
  Call,
  CallSummary,
  LLMUsage,
  LLMCost,
  CallsUsageReq,
  UsageOptions,
  LLMAggregatedUsage,
  CallsUsageRes,
  ValidationErrorDetail,
  CallsUsageError,
} from './weave_usage.js';
