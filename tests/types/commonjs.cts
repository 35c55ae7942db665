// A CommonJS TypeScript file (.cts) importing the package: `require` at run
// time, the .d.cts types (TS1479 with ESM-only types).
import { callsUsage, isUsageError, type CallsUsageRes } from 'weave-usage';
import usage = require('weave-usage');
import { init } from 'weave-usage/init';

const res: CallsUsageRes = callsUsage([], { project_id: 'p', call_ids: [] });
const again: CallsUsageRes = usage.callsUsageFromJson('', { project_id: 'p', call_ids: [] });
void [res, again, isUsageError, init];
