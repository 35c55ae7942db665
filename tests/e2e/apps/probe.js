// What the browser entry tests run in the page, however the package was
// imported: the README's browser example (fetch → arrayBuffer →
// callsUsageFromJson), the objects path, and an error. The test compares
// `window.probe` with the package's answers in Node.
export async function probe({ callsUsage, callsUsageFromJson }, sampleUrl) {
  const body = await (await fetch(sampleUrl)).arrayBuffer();
  const text = new TextDecoder().decode(body);
  const calls = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const request = { project_id: 'acme/agents', call_ids: calls.filter((c) => !c.parent_id).map((c) => c.id), include_costs: true };
  const fromBytes = callsUsageFromJson(body, request);
  const fromObjects = callsUsage(calls, request);
  let error = null;
  try {
    callsUsageFromJson('{"id": "a",\n oops}', request);
  } catch (e) {
    error = { isError: e instanceof Error, status: e.status, detail: e.detail, message: e.message };
  }
  return { request, fromBytes, fromObjects, error };
}

/** Runs the probe and publishes the outcome for the test (and a person) to read. */
export async function report(weave, sampleUrl) {
  try {
    window.probe = await probe(weave, sampleUrl);
    document.body.textContent = `ok: ${Object.keys(window.probe.fromBytes.call_usage).length} roots`;
  } catch (e) {
    window.probe = { failed: String(e?.stack ?? e) };
    document.body.textContent = `failed: ${e}`;
  }
  document.body.dataset.done = 'true';
}
