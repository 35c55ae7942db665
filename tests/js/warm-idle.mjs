// Run by tests/js/boundary.test.mjs in a process of its own: the package is
// imported and left alone; once the process is idle it must have warmed up
// (guard.js's warmUp and the tier-up call ran) without any call being made.
// Prints {warmUp, calls} as JSON: how often each ran.
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
await import('weave-usage');
await new Promise((resolve) => setTimeout(resolve, 500));
const { result } = await session.post('Profiler.takePreciseCoverage');
session.disconnect();
const guard = result.find((s) => s.url.endsWith('/guard.js'));
const count = (name) => guard?.functions.filter((f) => f.functionName === name).reduce((n, f) => n + f.ranges[0].count, 0) ?? null;
console.log(JSON.stringify({ warmUp: count('warmUp'), calls: count('callsUsageFromJson') }));
