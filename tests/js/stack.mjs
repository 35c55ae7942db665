// Calling the package with the stack all but exhausted: shared by the Node
// test (tests/js/boundary.test.mjs) and the page that runs it in Chromium
// (tests/e2e/apps/boundary). Plain ES module, no Node APIs.

/**
 * Runs each of `ops` (`[name, fn]`) at every depth from the engine's stack
 * limit back up `span` frames, `rounds` times; each round shifts the frames
 * by one more argument (8 bytes, up to 15), so that calls start at every
 * offset from the limit. `fn` gets the outcome list so far and returns a
 * value or throws. Outcomes are recorded as they come and judged later by
 * `judge`: near the limit even comparing them could overflow.
 * Returns `{ outcomes, overflows }`, overflows counting every stack
 * overflow caught on the way down.
 */
export function nearLimit(ops, { span, rounds }) {
  const outcomes = [];
  let overflows = 0;
  for (let round = 0; round < rounds; round++) {
    let left = span;
    // Keep this frame free of calls but the ones it must make: anything it
    // calls may itself overflow, and must then land in an outcome.
    const nearLimitCall = function nearLimitCall() {
      try {
        nearLimitCall();
      } catch {
        overflows++;
      }
      if (left <= 0) return;
      left--;
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        try {
          outcomes[outcomes.length] = { op: op[0], ok: true, value: op[1]() };
        } catch (error) {
          outcomes[outcomes.length] = { op: op[0], ok: false, error };
        }
      }
    };
    Reflect.apply(nearLimitCall, null, new Array(round % 16).fill(0));
  }
  return { outcomes, overflows };
}

/** Whether `e` is what the package throws: an Error with a numeric status
 * and a detail list. */
export const isUsageError = (e) => e instanceof Error && typeof e.status === 'number' && Array.isArray(e.detail);

/** A stack frame in the package (pkg/, as Node and the browser tests load it). */
const inPackage = /\/pkg\//;
/** A frame of one of the package's public functions (V8's naming). Each
 * catches whatever its body throws, so a RangeError whose first frame is
 * one of them came from its prologue: no room to enter it at all. */
const publicFrame = /^\s*at (new UsageAccumulator|UsageAccumulator\.(push|finish|finishTrace|free|get calls|get bytesRead)|(Module\.)?(callsUsage|callsUsageFromJson|traceUsage|traceUsageFromJson)|get (calls|bytesRead)) .*\/pkg\/guard\.js:/;

/** The same in SpiderMonkey's naming (`name@url:line:column`). */
const publicFrameSM = /^(UsageAccumulator|push|finish|finishTrace|free|(get )?calls|(get )?bytesRead|callsUsage|callsUsageFromJson|traceUsage|traceUsageFromJson)@.*\/pkg\/guard\.js:/;

const notEntered = (frame) => !inPackage.test(frame) || publicFrame.test(frame) || publicFrameSM.test(frame);

/** A stack overflow: V8's RangeError, SpiderMonkey's InternalError. */
const overflow = (e) => e instanceof RangeError || (typeof InternalError === 'function' && e instanceof InternalError);

/** The first frame of an error's stack: V8's stack opens with the error's
 * name and message, SpiderMonkey's with the frame itself. */
function firstFrame(e) {
  const lines = String(e.stack).split('\n');
  return /^\w*Error\b/.test(lines[0]) ? lines[1] : lines[0];
}

/**
 * The outcomes `nearLimit` recorded, each judged: a value `want(op)`
 * accepts; the package's 500 `stack_exhausted` (refused before anything
 * ran); or a RangeError thrown before the package was even entered (the
 * call itself found no room: its first frame is the caller's, or the
 * prologue of the package's function). Returns the
 * count of each, and the first outcome that is none of these.
 */
export function judge(outcomes, want) {
  const counts = { answers: 0, refused: 0, notEntered: 0 };
  for (const o of outcomes) {
    if (o.ok) {
      if (!want(o.op, o.value)) return { counts, bad: { op: o.op, value: o.value } };
      counts.answers++;
    } else if (isUsageError(o.error) && o.error.status === 500 && o.error.detail[0]?.type === 'stack_exhausted') {
      counts.refused++;
    } else if (overflow(o.error) && notEntered(firstFrame(o.error))) {
      counts.notEntered++;
    } else {
      return { counts, bad: { op: o.op, error: String(o.error?.stack ?? o.error) } };
    }
  }
  return { counts, bad: null };
}
