// Deno type-checks TypeScript: `using` frees the accumulator.
import { UsageAccumulator, isUsageError, callsUsageFromJson } from 'weave-usage';

let calls = 0;
{
  using acc = new UsageAccumulator();
  acc.push('{"id":"r","trace_id":"t","project_id":"p"}\n');
  calls = acc.calls;
}
try {
  callsUsageFromJson('{', { project_id: 'p', call_ids: [] });
} catch (e) {
  if (isUsageError(e)) console.log(JSON.stringify({ calls, status: e.status }));
}
