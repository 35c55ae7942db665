// Shared by the Node tests: the reference fixtures and result comparison.
import { readFileSync, readdirSync } from 'node:fs';

const dir = new URL('../fixtures/conformance/', import.meta.url);

/** Every conformance fixture, in name order. */
export function fixtures() {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
}

/**
 * The fixture files were written with sorted keys, losing the order in which
 * the reference received the request's keys; pydantic reports unknown keys in
 * that order. Rebuild the order a client sends: the model's fields, then
 * unknown keys in the order the reference reported them.
 */
export function requestAsSent(fixture) {
  const req = fixture.request;
  if (req === null || typeof req !== 'object' || Array.isArray(req)) return req;
  const fields = ['project_id', 'call_ids', 'include_costs', 'limit'];
  const reported = (fixture.expected_error?.detail ?? [])
    .filter((d) => d.type === 'extra_forbidden')
    .map((d) => d.loc[1]);
  const rank = (k) => {
    const f = fields.indexOf(k);
    if (f >= 0) return f;
    const r = reported.indexOf(k);
    return r >= 0 ? fields.length + r : Infinity;
  };
  const keys = Object.keys(req).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((k) => [k, req[k]]));
}

/** Throws unless `got` matches `want`: integers exactly, other numbers within
 * 1e-9 relative, null only as null, same keys. */
export function assertMatches(got, want, path = '$') {
  if (typeof want === 'number') {
    if (typeof got !== 'number') throw new Error(`${path}: got ${JSON.stringify(got)}, want ${want}`);
    const ok = Number.isInteger(want) && Number.isInteger(got) ? got === want : Math.abs(got - want) <= 1e-9 * Math.max(Math.abs(got), Math.abs(want));
    if (!ok) throw new Error(`${path}: got ${got}, want ${want}`);
    return;
  }
  if (want === null || typeof want !== 'object') {
    if (got !== want) throw new Error(`${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    return;
  }
  if (Array.isArray(want) !== Array.isArray(got) || got === null || typeof got !== 'object') {
    throw new Error(`${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  const gk = Object.keys(got).sort();
  const wk = Object.keys(want).sort();
  if (JSON.stringify(gk) !== JSON.stringify(wk)) throw new Error(`${path}: keys ${JSON.stringify(gk)}, want ${JSON.stringify(wk)}`);
  for (const k of wk) assertMatches(got[k], want[k], `${path}.${k}`);
}

/** The calls in every body form callsUsageFromJson takes. */
export function bodies(calls) {
  const array = JSON.stringify(calls);
  const lines = calls.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const enc = new TextEncoder();
  return {
    'JSON array string': array,
    'JSON array bytes': enc.encode(array),
    'JSONL string': lines,
    'JSONL bytes': enc.encode(lines),
  };
}

/**
 * Runs `run`, which must throw the contract's error: an `Error` whose
 * `status` and `detail` are exactly these and whose `message` spells them
 * (`422: body.limit: msg; …`). Returns the error.
 */
export function expectError(run, status, detail) {
  let error;
  try {
    run();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error)) throw new Error(`expected an Error with status ${status}, got ${error === undefined ? 'no error' : String(error)}`);
  const message = `${status}: ` + detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; ');
  if (error.status !== status || JSON.stringify(error.detail) !== JSON.stringify(detail) || error.message !== message) {
    throw new Error(`expected ${message}\n     got ${error.message} (status ${error.status}, detail ${JSON.stringify(error.detail)})`);
  }
  return error;
}

/** The 400 a body gets for bad JSON at byte `at`, on `line` and `column`. */
export const badJson = (at, line, column, what) => [{ loc: ['body', at], msg: `Invalid JSON at line ${line}, column ${column} (byte ${at}): ${what}`, type: 'json_invalid' }];

/** Concatenated bytes of strings (UTF-8) and byte arrays. */
export function bytesOf(...parts) {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** `bytes` pushed into a new UsageAccumulator in chunks of `size`, then
 * finished with `request` (and `options`); the accumulator is freed
 * whatever happens. */
export function accumulate(UsageAccumulator, bytes, request, size, options) {
  const acc = new UsageAccumulator();
  try {
    for (let at = 0; at < bytes.length; at += size) acc.push(bytes.subarray(at, at + size));
    return acc.finish(request, options);
  } finally {
    acc.free();
  }
}
