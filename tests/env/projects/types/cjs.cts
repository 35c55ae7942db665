// A CommonJS module (.cts, or .ts without "type": "module").
import { callsUsage, isUsageError, type CallsUsageRes } from 'weave-usage';
import usage = require('weave-usage');
import { init } from 'weave-usage/init';

const res: CallsUsageRes = callsUsage([], { project_id: 'p', call_ids: [] });
const again: CallsUsageRes = usage.callsUsageFromJson('', { project_id: 'p', call_ids: [] });
void init().then(() => [res, again, isUsageError]);
