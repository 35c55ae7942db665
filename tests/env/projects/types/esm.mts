// An ES module (.mts, or .ts under "type": "module"): both entries, the
// type guard, every kind of chunk push takes, `using` where the libs know
// Symbol.dispose (@types/node does).
import { callsUsage, callsUsageFromJson, UsageAccumulator, isUsageError, type CallsUsageRes } from 'weave-usage';
import { init, type InitInput } from 'weave-usage/init';
import { usageStatsFromJson, type UsageStatsRes } from 'weave-usage/stats';

const stats: UsageStatsRes = usageStatsFromJson('', { project_id: 'p', granularity: 'day' });
void stats;

await init();
const input: InitInput = new Uint8Array(0);
await init(input);
const res: CallsUsageRes = callsUsage([], { project_id: 'p', call_ids: [] });
try {
  callsUsageFromJson('{', { project_id: 'p', call_ids: [] });
} catch (e) {
  if (isUsageError(e)) console.log(e.status, e.detail[0]?.loc);
}
{
  using acc = new UsageAccumulator();
  acc.push(new Uint8Array(0));
  acc.push(new ArrayBuffer(0));
  acc.push(Buffer.from(''));
  acc.push('');
  // @ts-expect-error: not a chunk
  acc.push(1);
}
void res;
