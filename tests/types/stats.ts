// Compiled by `tsc --strict` in the test suite: weave-usage/stats, the
// main entry's API with stats, used as docs/stats.md shows it; each line
// marked @ts-expect-error must fail to type-check.
import {
  callsUsage,
  usageStats,
  usageStatsFromJson,
  UsageAccumulator,
  isUsageError,
  type Call,
  type CallsUsageRes,
  type PriceRow,
  type UsageStatsReq,
  type UsageStatsRes,
  type StatsUsageBucket,
  type StatsCallBucket,
  type CallsQueryRes,
  type ListedCall,
  type ProjectsRes,
} from 'weave-usage/stats';

const calls: Call[] = [{ id: 'root', trace_id: 't', op_name: 'weave:///acme/agents/op/research_agent:1', started_at: '2025-03-02T00:00:00Z' }];
const prices: PriceRow[] = [];
// The rest of the API is there too.
const usage: CallsUsageRes = callsUsage(calls, { project_id: 'acme/agents', call_ids: ['root'] });
void usage;

// Stats: objects, bytes, an accumulator made for them.
const statsRequest: UsageStatsReq = {
  project_id: 'acme/agents',
  start: '2025-03-01T00:00:00Z',
  end: new Date(),
  granularity: 'day',
  timezone: 'America/New_York',
  filter: { op_names: ['research_agent'], trace_roots_only: true },
  group_by: ['model', 'op_name', 'root_op_name'],
  limit: 5,
  include_costs: true,
};
const stats: UsageStatsRes = usageStats(calls, statsRequest, { prices });
const row: StatsUsageBucket | undefined = stats.usage_buckets[0];
const rowCost: number | null | undefined = row?.prompt_tokens_total_cost;
const opName: string | null | undefined = row?.op_name;
const callRow: StatsCallBucket | undefined = stats.call_buckets[0];
const errors: number | undefined = callRow?.error_count;
const other: true | undefined = callRow?.other;
usageStatsFromJson('', { project_id: 'p' }, null);
const statsAcc = new UsageAccumulator({ stats: true });
const statsStreamed: UsageStatsRes = statsAcc.finishStats({ project_id: 'p', granularity: 'week' });
const listing: CallsQueryRes = statsAcc.finishCalls({ project_id: 'p', filter: { trace_roots_only: true, trace_ids: null }, limit: 10 });
const listed: ListedCall | undefined = listing.calls[0];
const listedName: string | null | undefined = listed?.display_name ?? listed?.op_name;
const listedSize: number | undefined = listed?.trace_calls;
const projects: ProjectsRes = statsAcc.finishProjects();
const projectCalls: number | undefined = projects.projects[0]?.calls;
statsAcc.free();
void [rowCost, opName, errors, other, statsStreamed, listedName, listedSize, projectCalls];

try {
  usageStats(calls, { project_id: 'p', timezone: 'Mars/Olympus' });
} catch (e: unknown) {
  if (isUsageError(e)) {
    const status: 400 | 409 | 410 | 413 | 422 | 500 | 501 = e.status;
    void status;
  }
}

// ---- Misuse the compiler must refuse. ----

const acc = new UsageAccumulator();
// @ts-expect-error: granularity is hour, day, week or month
usageStats(calls, { project_id: 'p', granularity: 'year' });
// @ts-expect-error: group_by names the keys it knows
usageStats(calls, { project_id: 'p', group_by: ['cost'] });
// @ts-expect-error: stats filter by op name, user, thread and roots only
usageStats(calls, { project_id: 'p', filter: { trace_ids: ['t'] } });
// @ts-expect-error: the accumulator's options have no such key
new UsageAccumulator({ stat: true });
// @ts-expect-error: finishStats needs a request
acc.finishStats();
// @ts-expect-error: a listing's filter has no op_names
acc.finishCalls({ project_id: 'p', filter: { op_names: ['f'] } });
acc.free();
