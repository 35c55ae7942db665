// Bucket boundaries for usage stats in a time zone (imported by the wasm
// glue, see src/wasm/mod.rs; docs/stats.md has the rules). wasm has no
// time-zone database; the engine's Intl has one. The module asks for the
// boundaries once per request, after the calls are read, and bins each call
// by binary search over them.
//
// Buckets follow the zone's wall clock: an hour, a day, an ISO week (from
// Monday) or a calendar month starts at its local 00 minutes. Where the
// clock jumps forward past a boundary (a day starting at a gap), the bucket
// starts where the clock resumes; the hour that repeats when clocks go back
// belongs to one bucket (its wall-clock hour), which is then two hours long.
//
// Self-contained: wasm-bindgen copies this file alone into the package.

const UNITS = { hour: 1, day: 2, week: 3, month: 4 };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const Formatter = Intl.DateTimeFormat;
const utc = Date.UTC;
const FIXED = /^([+-])(\d\d):(\d\d)$/;

/** A function giving the zone's offset (minutes east of UTC) at an
 * instant, or null for a zone the engine does not know. Fixed offsets
 * ("+05:30", "-08:00") and "UTC"/"Z" are read here (older engines' Intl
 * refuses offsets). */
function offsets(timeZone) {
  if (timeZone === 'UTC' || timeZone === 'Z') return () => 0;
  const fixed = FIXED.exec(timeZone);
  if (fixed !== null) {
    const h = Number(fixed[2]);
    const m = Number(fixed[3]);
    if (h > 23 || m > 59) return null;
    const off = (fixed[1] === '-' ? -1 : 1) * (h * 60 + m);
    return () => off;
  }
  let format;
  try {
    format = new Formatter('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
  } catch {
    return null;
  }
  return (t) => {
    const f = {};
    for (const p of format.formatToParts(t)) f[p.type] = p.value;
    let year = Number(f.year);
    if (f.era === 'BC' || f.era === 'B') year = 1 - year;
    const wall = utc(year, Number(f.month) - 1, Number(f.day), Number(f.hour), Number(f.minute), Number(f.second));
    // The wall clock is read to the second; old local mean times have
    // offsets of odd seconds, rounded to the minute here.
    return Math.round((wall - Math.floor(t / 1000) * 1000) / MINUTE);
  };
}

/** The instant whose wall clock reads `wall` (ms, as if UTC); in a gap,
 * where the clock resumes. */
function instantOf(wall, offsetAt) {
  let t = wall - offsetAt(wall) * MINUTE;
  const o = offsetAt(t);
  t = wall - o * MINUTE;
  const o2 = offsetAt(t);
  return o2 === o ? t : Math.max(t, wall - o2 * MINUTE);
}

/** `wall` (ms as if UTC) truncated to the start of its `unit`. */
function floorWall(wall, unit) {
  const d = new Date(wall);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (unit) {
    case 1:
      return utc(y, m, d.getUTCDate(), d.getUTCHours());
    case 2:
      return utc(y, m, d.getUTCDate());
    case 3:
      return utc(y, m, d.getUTCDate()) - ((d.getUTCDay() + 6) % 7) * DAY;
    default:
      return utc(y, m, 1);
  }
}

/** `wall` (the start of a unit) plus one unit. */
function nextWall(wall, unit) {
  if (unit === 1) return wall + HOUR;
  if (unit === 2) return wall + DAY;
  if (unit === 3) return wall + 7 * DAY;
  const d = new Date(wall);
  return utc(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The boundaries of the buckets from `start` through `end` (ms since the
 * epoch, `end` exclusive): `[t0, offset0, t1, offset1, …]`, the first at or
 * before `start`, the last at or after `end`, each with the zone's offset
 * there in minutes; null for an unknown zone. Stops after `max` + 2
 * boundaries (the module then refuses the range).
 */
export function bucketBounds(start, end, granularity, timeZone, max) {
  const unit = UNITS[granularity];
  const offsetAt = offsets(timeZone);
  if (offsetAt === null || unit === undefined) return null;
  const out = [];
  let wall = floorWall(start + offsetAt(start) * MINUTE, unit);
  let t = instantOf(wall, offsetAt);
  // The wall clock may read the bucket's start after `start` (a gap).
  while (t > start) {
    wall = floorWall(wall - 1, unit);
    t = instantOf(wall, offsetAt);
  }
  for (;;) {
    out.push(t, offsetAt(t));
    if (t >= end || out.length >= 2 * (max + 2)) return out;
    let next = t;
    while (next <= t) {
      wall = nextWall(wall, unit);
      next = instantOf(wall, offsetAt);
    }
    t = next;
  }
}
