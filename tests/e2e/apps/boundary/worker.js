// The same checks in a module worker (the dashboard runs the package in one).
import { run } from './run.js';

try {
  postMessage(await run('/sample/traces.jsonl'));
} catch (e) {
  postMessage({ failed: `${e?.status ?? ""} ${JSON.stringify(e?.detail ?? null)} ${String(e?.message ?? e)}\n${e?.stack ?? ""}` });
}
