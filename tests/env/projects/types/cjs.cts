// A CommonJS module (.cts, or .ts without "type": "module").
import { callsUsage, isUsageError, type CallsUsageRes } from 'weave-usage';
import usage = require('weave-usage');
import { init } from 'weave-usage/init';
import stats = require('weave-usage/stats');

const perDay: stats.UsageStatsRes = stats.usageStats([], { project_id: 'p', granularity: 'day' });
void perDay;

const res: CallsUsageRes = callsUsage([], { project_id: 'p', call_ids: [] });
const again: CallsUsageRes = usage.callsUsageFromJson('', { project_id: 'p', call_ids: [] });
void init().then(() => [res, again, isUsageError]);
