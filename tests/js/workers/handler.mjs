// What a test worker does with each message, for Node worker threads
// (usage-worker.mjs) and browser Web Workers (tests/e2e/apps/workers/):
// each holds its own instance of the package (its own wasm memory). Every
// reply carries the worker's clock, so a test can see that two workers
// really ran at the same time.

const now = () => performance.timeOrigin + performance.now();

/** A message handler over the package `lib`; `burst` pushes its body in
 * chunks of `chunk` bytes. Returns the reply to post. */
export function usageHandler(lib, chunk) {
  const { callsUsage, callsUsageFromJson, UsageAccumulator } = lib;
  let acc = null;
  return (m) => {
    const started = now();
    try {
      let result;
      if (m.op === 'ping') {
        // Nothing: the reply says the worker has loaded the package.
      } else if (m.op === 'open') acc = new UsageAccumulator();
      else if (m.op === 'push') acc.push(m.bytes);
      else if (m.op === 'finish') {
        result = acc.finish(m.request);
        acc.free();
        acc = null;
      } else if (m.op === 'burst') {
        // The same work again and again, through every entry point.
        const calls = new TextDecoder().decode(m.body).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
        for (let i = 0; i < m.times; i++) {
          result = [callsUsageFromJson(m.body, m.request), callsUsage(calls, m.request)];
          const a = new UsageAccumulator();
          for (let at = 0; at < m.body.length; at += chunk) a.push(m.body.subarray(at, at + chunk));
          result.push(a.finish(m.request));
          a.free();
        }
      }
      return { result, started, ended: now() };
    } catch (e) {
      if (acc) acc.free();
      acc = null;
      return { error: { isError: e instanceof Error, status: e.status, detail: e.detail, message: e.message }, started, ended: now() };
    }
  };
}
