// Fire times of schedule triggers: which instants a tick must enqueue, and the next one.
//
// Why not simply `CronExpressionParser.parse(cron, { tz }).next()/.prev()`: cron-parser 5.10
// is path-dependent around DST changes (measured in America/New_York and Europe/Berlin, 2026):
//   - prev() skips the shifted fire of `30 2 * * *` on the spring-forward day and returns
//     `30 1 * * *` twice (01:30 EDT and 01:30 EST) on the fall-back day;
//   - next() from a start inside the transition disagrees with next() run through it, e.g.
//     `30 1 * * *` from 01:00 EST returns 01:30 EST although 01:30 EDT already fired
//     (a second run that day), and `30 2 * * *` from 03:00 EDT skips to the following day.
// A tick starts from "last fire" or "now", i.e. exactly from such points, so we use
// cron-parser only in UTC (no DST: a reliable generator of wall-clock times) and map wall
// times to instants here with Intl, with one rule set for both directions:
//   - a schedule whose hour field covers all 24 hours (`*/15 * * * *`, `@hourly`) follows
//     absolute time: a wall time that does not exist is skipped, a wall time that happens
//     twice fires twice, so the spacing in absolute time never changes;
//   - any other schedule fires once per matching wall time: a nonexistent one is shifted
//     forward by the gap (02:30 → 03:30 EDT, what cron-parser's next() and luxon do), a
//     repeated one fires at its first occurrence (01:30 EDT). Identical instants are merged.
// Assumes a zone's offset moves by at most 3 hours at a time and changes at most once in two
// days and once in 20 days, true of every zone in use today.
import { CronExpressionParser } from "cron-parser";
import type { CronExpression } from "cron-parser";

export type MissedPolicy = "skip" | "once" | "all";

/** A validated schedule (see shared/triggers/config.ts for the stored trigger_config). */
export interface ScheduleSpec {
  cron: string;
  timezone: string;
  missed: MissedPolicy;
  maxCatchUp: number;
}

export interface DueWindow {
  /** Fire time of the last enqueued run, or null if it never fired. */
  lastFireAt: Date | null;
  /** Activation or creation time: the window starts here when lastFireAt is null. */
  since: Date;
  now: Date;
  /** "skip" still fires a fire time this recent, so a late tick does not lose it. */
  graceMs?: number;
}

/** Two minutes: a once-a-minute tick that runs late, or misses one beat, still fires. */
export const SKIP_GRACE_MS = 120_000;
/** The macros of standard cron that cron-parser supports; others (@minutely, @secondly) are not cron. */
export const CRON_MACROS: readonly string[] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"];

const HOUR = 3_600_000;
const DAY = 86_400_000;
const SLACK = 3 * HOUR; // largest offset move assumed (see header)
const EXACT_SPAN = 20 * DAY; // windows this short hold at most one offset change

interface Compiled {
  expr: CronExpression; // parsed in UTC; callers reset() it before every walk
  allHours: boolean;
}

// Parsing costs ~0.2 ms; a tick evaluates the same few expressions every minute.
const compiled = new Map<string, Compiled>();

function compile(cron: string): Compiled | string {
  const hit = compiled.get(cron);
  if (hit) return hit;
  const text = cron.trim();
  if (text.startsWith("@")) {
    if (!CRON_MACROS.includes(text)) return `unknown macro (supported: ${CRON_MACROS.join(", ")})`;
  } else {
    // cron-parser pads short expressions (`* * *`, even ``) with `*`: we insist on all five.
    const fields = text === "" ? [] : text.split(/\s+/);
    if (fields.length !== 5) {
      const seconds = fields.length === 6 ? "; a seconds field is not supported" : "";
      return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}${seconds}`;
    }
    // `H` picks a random value at every parse without a seed: the schedule would move each tick.
    if (fields.some((f) => /(^|,)H(?![a-z])/i.test(f))) return "hashed values (H) are not supported";
  }
  let expr: CronExpression;
  try {
    expr = CronExpressionParser.parse(text, { tz: "UTC", currentDate: 0 });
    expr.next(); // `0 0 31 2,4 *` parses but never fires; cron-parser throws here
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const entry = { expr, allHours: expr.fields.hour.values.length === 24 };
  if (compiled.size >= 500) compiled.clear();
  compiled.set(cron, entry);
  return entry;
}

/** Why `cron` is not an acceptable schedule, quoting it, or null when it is fine. */
export function cronProblem(cron: string): string | null {
  const result = compile(cron);
  return typeof result === "string" ? `invalid cron ${JSON.stringify(cron)}: ${result}` : null;
}

function mustCompile(cron: string): Compiled {
  const result = compile(cron);
  if (typeof result === "string") throw new Error(`invalid cron ${JSON.stringify(cron)}: ${result}`);
  return result;
}

/** True for IANA names (and aliases) the runtime's Intl knows; the offsets below come from Intl. */
export function isValidTimeZone(timezone: string): boolean {
  if (timezone === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    if (!isValidTimeZone(timezone)) throw new Error(`unknown timezone ${JSON.stringify(timezone)}`);
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone, hourCycle: "h23", year: "numeric", month: "numeric",
      day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Offset of `timezone` at instant `t` in ms (wall clock minus UTC). */
function offsetAt(timezone: string, t: number): number {
  if (timezone === "UTC") return 0;
  const p: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(t)) p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return wall - Math.floor(t / 1000) * 1000;
}

/** Instants at which wall time `w` (its fields read as UTC) fires, per the rules in the header. */
function instantsOf(w: number, timezone: string, allHours: boolean): number[] {
  const before = offsetAt(timezone, w - DAY);
  const after = offsetAt(timezone, w + DAY);
  if (before === after) return [w - before];
  const valid = [before, after].filter((o) => offsetAt(timezone, w - o) === o).map((o) => w - o);
  if (valid.length === 0) return allHours ? [] : [w - before]; // a gap: shifted forward by it
  valid.sort((x, y) => x - y);
  return allHours ? valid : valid.slice(0, 1); // an overlap: both, or the first
}

/**
 * Bounds on the offset that maps a wall time to a fire time in (a, b]: exact for short windows,
 * padded for long ones. Read before `a` too: a wall time in a gap that closed just before `a`
 * is shifted with the offset from before the gap and can still land after `a`.
 */
function offsetBounds(timezone: string, a: number, b: number): [number, number] {
  const oa = offsetAt(timezone, a - SLACK);
  const ob = offsetAt(timezone, b);
  const pad = b - a > EXACT_SPAN ? SLACK : 0;
  return [Math.min(oa, ob) - pad, Math.max(oa, ob) + pad];
}

function step(expr: CronExpression, dir: "next" | "prev"): number | null {
  try {
    return (dir === "next" ? expr.next() : expr.prev()).getTime();
  } catch {
    return null; // cron-parser gives up (loop limit) when no fire time is near
  }
}

/**
 * The latest `limit` fire times in (a, b], ascending. Walks wall times backwards from b and
 * stops once no earlier wall time can beat what it holds, so cost is ~limit steps.
 */
function latestIn(c: Compiled, timezone: string, a: number, b: number, limit: number): number[] {
  const [lo, hi] = offsetBounds(timezone, a, b);
  const found = new Set<number>();
  c.expr.reset(new Date(b + hi + 1)); // prev() is strictly before: walls ≤ b + hi
  for (;;) {
    const w = step(c.expr, "prev");
    if (w === null || w < a + lo) break;
    for (const t of instantsOf(w, timezone, c.allHours)) if (t > a && t <= b) found.add(t);
    // Every earlier wall time fires before w - lo: stop once `limit` found ones are at or past that.
    if (found.size >= limit && [...found].filter((t) => t >= w - lo).length >= limit) break;
  }
  return [...found].sort((x, y) => x - y).slice(-limit);
}

/** The earliest fire time in (a, b], or null. */
function firstIn(c: Compiled, timezone: string, a: number, b: number): number | null {
  const [lo, hi] = offsetBounds(timezone, a, b);
  let best: number | null = null;
  c.expr.reset(new Date(a + lo)); // fire times after a have walls after a + lo
  for (;;) {
    const w = step(c.expr, "next");
    if (w === null || w > b + hi || (best !== null && w - hi >= best)) return best;
    for (const t of instantsOf(w, timezone, c.allHours)) {
      if (t > a && t <= b && (best === null || t < best)) best = t;
    }
  }
}

/**
 * Fire times in (lastFireAt ?? since, now] to enqueue now, ascending:
 *   "all"  every one, but at most maxCatchUp: the most recent ones (older ones are dropped, so
 *          a long outage ends with the newest runs rather than a backlog that is still stale);
 *   "once" only the latest one;
 *   "skip" the latest one if it is at most graceMs old, else none.
 * The caller enqueues each idempotently per (automation, fire time) and stores the last one.
 */
export function dueFireTimes(spec: ScheduleSpec, range: DueWindow): Date[] {
  const c = mustCompile(spec.cron);
  const end = range.now.getTime();
  let start = (range.lastFireAt ?? range.since).getTime();
  if (spec.missed === "skip") start = Math.max(start, end - (range.graceMs ?? SKIP_GRACE_MS));
  if (!(end > start)) return [];
  const limit = spec.missed === "all" ? Math.max(1, Math.floor(spec.maxCatchUp)) : 1;
  // The tail first (exact offsets, no padding); only sparse schedules need the whole range.
  let times = latestIn(c, spec.timezone, Math.max(start, end - EXACT_SPAN), end, limit);
  if (times.length < limit && start < end - EXACT_SPAN) times = latestIn(c, spec.timezone, start, end, limit);
  return times.map((t) => new Date(t));
}

/** The first fire time strictly after `after`. Throws if the schedule never fires again. */
export function nextFireTime(spec: Pick<ScheduleSpec, "cron" | "timezone">, after: Date): Date {
  const c = mustCompile(spec.cron);
  let a = after.getTime();
  for (let attempt = 0; attempt < 8; attempt++) {
    // The first wall time after a's bounds the window: its instant lies within SLACK of it.
    const offset = offsetAt(spec.timezone, a);
    c.expr.reset(new Date(a + offset));
    const w = step(c.expr, "next");
    if (w === null) break;
    const b = w - offset + SLACK;
    const t = firstIn(c, spec.timezone, a, b);
    if (t !== null) return new Date(t);
    a = b; // only its repeated (skipped) occurrence was after `a`: look further
  }
  throw new Error(`cron ${JSON.stringify(spec.cron)} has no fire time after ${after.toISOString()}`);
}
