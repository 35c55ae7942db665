// weave-usage/init: init() takes what a page or a server can hold of the
// module, and the entry exports the same API as the main one.
import { init, callsUsage, UsageAccumulator, isUsageError, type InitInput, type CallsUsageRes } from 'weave-usage/init';

declare const bytes: Uint8Array;
await init();
await init('/assets/weave_usage_bg.wasm');
await init(bytes);
await init(bytes.buffer as ArrayBuffer);
await init(Promise.resolve(bytes));
const done: Promise<void> = init();
const res: CallsUsageRes = callsUsage([], { project_id: 'p', call_ids: [] });
const acc = new UsageAccumulator();
acc.free();
const input: InitInput = 'weave_usage_bg.wasm';
void [done, res, input, isUsageError];
