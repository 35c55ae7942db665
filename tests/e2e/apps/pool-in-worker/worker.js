// A weave-usage/parallel pool inside a Web Worker whose page makes its shard
// workers (tests/e2e/parallel.test.mjs): each is asked for with a port
// ({ type: 'shard', shard, port }), ended with { type: 'end-shard', shard },
// and the page tells of one that failed with { type: 'shard-failed' }.
// Given { lines, request }, answers { type: 'done', result, last }. The
// package is imported in the handler: its entry instantiates the module
// with a top-level await, during which a message to a worker whose handler
// is not installed yet would be lost.
let seq = 0;
const failures = new Map();
self.onmessage = async ({ data }) => {
  if (data.type === 'shard-failed') return failures.get(data.shard)?.(data.message);
  const { createUsagePool } = await import('/pkg/parallel.js');
  const pool = createUsagePool({
    workers: 2,
    connect: () => {
      const shard = ++seq;
      const { port1, port2 } = new MessageChannel();
      self.postMessage({ type: 'shard', shard, port: port2 }, [port2]);
      return { port: port1, close: () => self.postMessage({ type: 'end-shard', shard }), onFailure: (fail) => failures.set(shard, fail) };
    },
  });
  const result = await pool.callsUsage(new TextEncoder().encode(data.lines), data.request);
  self.postMessage({ type: 'done', result, last: pool.last });
  await pool.close();
};
