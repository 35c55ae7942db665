// A worker thread for tests/js/workers.test.mjs: its own instance of the
// package (its own wasm memory), driven by messages. Every reply carries
// the worker's clock, so the test can see that two workers really ran at
// the same time.
import { parentPort, workerData } from 'node:worker_threads';
import { callsUsage, callsUsageFromJson, UsageAccumulator } from 'weave-usage';

const now = () => performance.timeOrigin + performance.now();
let acc = null;

parentPort.on('message', (m) => {
  const started = now();
  try {
    let result;
    if (m.op === 'open') acc = new UsageAccumulator();
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
        for (let at = 0; at < m.body.length; at += 65536) a.push(m.body.subarray(at, at + 65536));
        result.push(a.finish(m.request));
        a.free();
      }
    }
    parentPort.postMessage({ name: workerData.name, result, started, ended: now() });
  } catch (e) {
    if (acc) acc.free();
    acc = null;
    parentPort.postMessage({ name: workerData.name, error: { isError: e instanceof Error, status: e.status, detail: e.detail, message: e.message }, started, ended: now() });
  }
});
