// One run of bench/first-call.mjs, in whatever engine imports this (a Node
// child process, or bench/first-call.html in a fresh Chromium context): the
// body is made before the package is imported, every timed step starts
// from a settled heap (the body's generation leaves garbage that would
// otherwise be collected inside the first call), then the first
// callsUsageFromJson and five more. `load` imports the package; `gc` is the
// engine's forced collection; `idle`: the milliseconds between the import
// and the first call (the others: 200 each, after a collection).
import { generate } from './data.mjs';

export async function firstCallRun(n, load, gc, idle = 200) {
  const { body, roots, count } = generate(n);
  const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: count + 1 };
  const settle = async (ms = 200) => {
    gc();
    await new Promise((resolve) => setTimeout(resolve, ms));
  };
  await settle();
  let t = performance.now();
  const lib = await load();
  const imported = performance.now() - t;
  const timed = async (ms) => {
    await settle(ms);
    t = performance.now();
    lib.callsUsageFromJson(body, request);
    return performance.now() - t;
  };
  const first = await timed(idle);
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push(await timed());
  warm.sort((a, b) => a - b);
  return { imported, first, warm: warm[2], bytes: body.length };
}
