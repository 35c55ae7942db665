// Resolved as a bundler (moduleResolution bundler) or as old Node (node10)
// resolves it.
import { callsUsage, UsageAccumulator, isUsageError, type CallsUsageRes } from 'weave-usage';
import { init } from 'weave-usage/init';
import { usageStats, type UsageStatsRes } from 'weave-usage/stats';

export const stats = (): UsageStatsRes => usageStats([], { project_id: 'p' });

export async function main(): Promise<CallsUsageRes> {
  await init();
  const acc = new UsageAccumulator();
  acc.push('');
  acc.free();
  try {
    return callsUsage([], { project_id: 'p', call_ids: [] });
  } catch (e) {
    if (isUsageError(e)) throw new Error(String(e.status));
    throw e;
  }
}
