// Fire times for schedule triggers: the DST table, missed-run policies and macros.
import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dueFireTimes, nextFireTime } from "../../shared/triggers/schedule_times.ts";
import type { MissedPolicy, ScheduleSpec } from "../../shared/triggers/schedule_times.ts";

const NY = "America/New_York";
const MIN = 60_000;
const d = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((x) => x.toISOString());
const spec = (cron: string, timezone: string, missed: MissedPolicy = "all", maxCatchUp = 1000): ScheduleSpec => ({ cron, timezone, missed, maxCatchUp });

/** Every fire time in (from, to], via one catch-up call. */
const between = (cron: string, timezone: string, from: string, to: string) =>
  isos(dueFireTimes(spec(cron, timezone), { lastFireAt: d(from), since: d(from), now: d(to) }));

/** What a scheduler ticking every minute (each tick `lateMs` late) enqueues over [from, to). */
function simulateTicks(s: ScheduleSpec, from: string, to: string, lateMs = 0): string[] {
  const fired: Date[] = [];
  let lastFireAt: Date | null = null;
  for (let t = Date.parse(from); t < Date.parse(to); t += MIN) {
    const due = dueFireTimes(s, { lastFireAt, since: d(from), now: new Date(t + lateMs) });
    fired.push(...due);
    lastFireAt = due.at(-1) ?? lastFireAt;
  }
  return isos(fired);
}

/** Instants every `stepMin` minutes in [from, to). */
function every(stepMin: number, from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += stepMin * MIN) out.push(new Date(t).toISOString());
  return out;
}

describe("DST in America/New_York", () => {
  // 2026-03-08: 02:00 EST → 03:00 EDT (07:00Z). That local day is 05:00Z..04:00Z next day.
  it("30 2 * * * fires exactly once on the spring-forward day, at 03:30 EDT", () => {
    expect(between("30 2 * * *", NY, "2026-03-07T12:00:00Z", "2026-03-09T12:00:00Z")).toEqual([
      "2026-03-08T07:30:00.000Z", // 02:30 does not exist: shifted by the gap
      "2026-03-09T06:30:00.000Z",
    ]);
  });

  // 2026-11-01: 02:00 EDT → 01:00 EST (06:00Z); 01:30 happens at 05:30Z and 06:30Z.
  it("30 1 * * * fires exactly once on the fall-back day, at the first 01:30", () => {
    expect(between("30 1 * * *", NY, "2026-10-31T12:00:00Z", "2026-11-02T12:00:00Z")).toEqual([
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
  });

  it("*/15 * * * * keeps 15-minute spacing in absolute time across both changes", () => {
    // The 23-hour and the 25-hour local day: 92 and 100 fire times, none missing or doubled.
    expect(between("*/15 * * * *", NY, "2026-03-08T04:59:00Z", "2026-03-09T03:59:00Z")).toEqual(every(15, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"));
    expect(between("*/15 * * * *", NY, "2026-11-01T03:59:00Z", "2026-11-02T04:59:00Z")).toEqual(every(15, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"));
    expect(every(15, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z")).toHaveLength(92);
    expect(every(15, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z")).toHaveLength(100);
  });

  it.each(["skip", "once", "all"] as const)("a minute-by-minute tick (%s) enqueues the same instants", (missed) => {
    const late = 30_000; // ticks arrive 30 s late
    expect(simulateTicks(spec("30 2 * * *", NY, missed), "2026-03-08T00:00:00Z", "2026-03-08T12:00:00Z", late)).toEqual(["2026-03-08T07:30:00.000Z"]);
    expect(simulateTicks(spec("30 1 * * *", NY, missed), "2026-11-01T00:00:00Z", "2026-11-01T12:00:00Z", late)).toEqual(["2026-11-01T05:30:00.000Z"]);
    expect(simulateTicks(spec("*/15 * * * *", NY, missed), "2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z", late)).toEqual(every(15, "2026-11-01T04:15:00Z", "2026-11-01T08:00:00Z")); // since is exclusive
  });

  it("nextFireTime agrees from inside the transitions (where cron-parser alone does not)", () => {
    // cron-parser: 01:30 EST (a second run); ours: the next day.
    expect(nextFireTime(spec("30 1 * * *", NY), d("2026-11-01T06:00:00Z")).toISOString()).toBe("2026-11-02T06:30:00.000Z");
    // cron-parser: skips to 2026-03-09; ours: the shifted 03:30 EDT that day.
    expect(nextFireTime(spec("30 2 * * *", NY), d("2026-03-08T07:00:00Z")).toISOString()).toBe("2026-03-08T07:30:00.000Z");
    expect(nextFireTime(spec("*/15 * * * *", NY), d("2026-11-01T05:50:00Z")).toISOString()).toBe("2026-11-01T06:00:00.000Z");
    expect(nextFireTime(spec("0 * * * *", NY), d("2026-11-01T05:00:00Z")).toISOString()).toBe("2026-11-01T06:00:00.000Z");
  });

  it("a fixed-hour schedule whose times collide in the gap fires once for them", () => {
    // 02:30 shifts to 03:30 EDT, which 30 3 also names: one instant, one run.
    expect(between("30 2,3 * * *", NY, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z")).toEqual(["2026-03-08T07:30:00.000Z"]);
  });
});

describe("Europe/Berlin", () => {
  it("follows CET/CEST for a daily time", () => {
    expect(between("0 9 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-30T12:00:00Z")).toEqual([
      "2026-03-28T08:00:00.000Z", // CET
      "2026-03-29T07:00:00.000Z", // CEST
      "2026-03-30T07:00:00.000Z",
    ]);
  });

  it("handles both transitions", () => {
    expect(between("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z")).toEqual(["2026-03-29T01:30:00.000Z"]);
    expect(between("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z")).toEqual(["2026-10-25T00:30:00.000Z"]);
    expect(between("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:59:00Z", "2026-10-25T02:59:00Z")).toEqual(every(30, "2026-10-25T00:00:00Z", "2026-10-25T03:00:00Z"));
  });
});

describe("macros", () => {
  const after = d("2026-06-10T12:34:56Z");
  it.each([
    ["@hourly", "UTC", "2026-06-10T13:00:00.000Z"],
    ["@daily", "UTC", "2026-06-11T00:00:00.000Z"],
    ["@daily", "Europe/Berlin", "2026-06-10T22:00:00.000Z"],
    ["@weekly", "UTC", "2026-06-14T00:00:00.000Z"], // Sunday
    ["@monthly", "America/New_York", "2026-07-01T04:00:00.000Z"],
    ["@yearly", "UTC", "2027-01-01T00:00:00.000Z"],
    ["@annually", "Europe/Berlin", "2026-12-31T23:00:00.000Z"],
  ])("%s in %s", (cron, timezone, expected) => {
    expect(nextFireTime(spec(cron, timezone), after).toISOString()).toBe(expected);
  });
});

describe("missed policies", () => {
  const weekAgo = d("2026-06-03T12:00:30Z");
  const now = d("2026-06-10T12:00:30Z");
  const window = { lastFireAt: weekAgo, since: d("2026-01-01T00:00:00Z"), now };

  it("all: a week of * * * * * yields the most recent max_catch_up fire times", () => {
    const due = dueFireTimes(spec("* * * * *", "UTC", "all", 100), window);
    expect(due).toHaveLength(100);
    expect(due[0]!.toISOString()).toBe("2026-06-10T10:21:00.000Z");
    expect(due.at(-1)!.toISOString()).toBe("2026-06-10T12:00:00.000Z");
    expect(due.every((t, i) => i === 0 || t.getTime() - due[i - 1]!.getTime() === MIN)).toBe(true);
  });

  it("all: fewer fire times than the cap are all returned, oldest first", () => {
    expect(isos(dueFireTimes(spec("0 */6 * * *", "UTC", "all", 100), { ...window, lastFireAt: d("2026-06-09T11:00:00Z") }))).toEqual([
      "2026-06-09T12:00:00.000Z", "2026-06-09T18:00:00.000Z", "2026-06-10T00:00:00.000Z", "2026-06-10T06:00:00.000Z", "2026-06-10T12:00:00.000Z",
    ]);
  });

  it("once: only the latest", () => {
    expect(isos(dueFireTimes(spec("* * * * *", "UTC", "once"), window))).toEqual(["2026-06-10T12:00:00.000Z"]);
    expect(isos(dueFireTimes(spec("0 9 * * *", NY, "once"), window))).toEqual(["2026-06-09T13:00:00.000Z"]);
  });

  it("skip: the latest only while it is within the grace window", () => {
    expect(isos(dueFireTimes(spec("* * * * *", "UTC", "skip"), window))).toEqual(["2026-06-10T12:00:00.000Z"]);
    const at = (iso: string, graceMs?: number) => isos(dueFireTimes(spec("*/5 * * * *", "UTC", "skip"), { ...window, now: d(iso), graceMs }));
    expect(at("2026-06-10T12:01:59Z")).toEqual(["2026-06-10T12:00:00.000Z"]); // a late tick still fires
    expect(at("2026-06-10T12:02:01Z")).toEqual([]); // too late: skipped
    expect(at("2026-06-10T12:02:01Z", 5 * MIN)).toEqual(["2026-06-10T12:00:00.000Z"]);
  });

  it("the window is (lastFireAt ?? since, now]", () => {
    const s = spec("*/5 * * * *", "UTC", "all");
    const win = (lastFireAt: string | null, since: string, nowIso: string) => isos(dueFireTimes(s, { lastFireAt: lastFireAt ? d(lastFireAt) : null, since: d(since), now: d(nowIso) }));
    expect(win("2026-06-10T12:00:00Z", "2020-01-01T00:00:00Z", "2026-06-10T12:05:00Z")).toEqual(["2026-06-10T12:05:00.000Z"]);
    expect(win(null, "2026-06-10T11:57:00Z", "2026-06-10T12:04:59Z")).toEqual(["2026-06-10T12:00:00.000Z"]);
    expect(win(null, "2026-06-10T12:00:00Z", "2026-06-10T12:04:59Z")).toEqual([]);
    expect(win("2026-06-10T12:05:00Z", "2020-01-01T00:00:00Z", "2026-06-10T12:01:00Z")).toEqual([]); // clock behind
  });

  it("stays fast over long gaps", () => {
    const started = performance.now();
    expect(dueFireTimes(spec("* * * * *", NY, "all", 1000), { ...window, lastFireAt: d("2025-06-10T00:00:00Z") })).toHaveLength(1000);
    expect(isos(dueFireTimes(spec("0 0 29 2 *", "UTC", "once"), { lastFireAt: null, since: d("2010-01-01T00:00:00Z"), now }))).toEqual(["2024-02-29T00:00:00.000Z"]);
    expect(isos(dueFireTimes(spec("@yearly", NY, "all", 3), { lastFireAt: null, since: d("2016-01-01T00:00:00Z"), now }))).toEqual([
      "2024-01-01T05:00:00.000Z", "2025-01-01T05:00:00.000Z", "2026-01-01T05:00:00.000Z",
    ]);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe("bad input", () => {
  it("throws with the cron or timezone named", () => {
    const w = { lastFireAt: null, since: d("2026-01-01T00:00:00Z"), now: d("2026-01-02T00:00:00Z") };
    expect(() => dueFireTimes(spec("61 * * * *", "UTC"), w)).toThrow('invalid cron "61 * * * *": Constraint error, got value 61 expected range 0-59');
    expect(() => dueFireTimes(spec("* * * * *", "Mars/Olympus"), w)).toThrow('unknown timezone "Mars/Olympus"');
    expect(() => nextFireTime(spec("* * *", "UTC"), w.now)).toThrow('invalid cron "* * *"');
    expect(() => nextFireTime(spec("* * * * *", ""), w.now)).toThrow('unknown timezone ""');
  });
});

describe("properties", () => {
  const crons = ["* * * * *", "*/7 * * * *", "0 * * * *", "30 1 * * *", "30 2 * * *", "15 1-3 * * *", "0 0 * * 0", "45 23 L * *"];
  const zones = ["UTC", NY, "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"];
  // Windows around the 2026 transitions of those zones, where mistakes would show.
  const anchors = ["2026-03-08T06:00:00Z", "2026-11-01T05:00:00Z", "2026-03-29T00:30:00Z", "2026-10-25T00:30:00Z", "2026-04-04T14:00:00Z", "2026-10-03T15:00:00Z", "2026-04-05T02:00:00Z", "2026-09-06T03:00:00Z"].map(Date.parse);

  it("catch-up and next agree, increase strictly and stay in the window", () => {
    fc.assert(
      fc.property(fc.constantFrom(...crons), fc.constantFrom(...zones), fc.constantFrom(...anchors), fc.integer({ min: -6 * 60, max: 6 * 60 }), fc.integer({ min: 1, max: 12 * 60 }), (cron, tz, anchor, offMin, lenMin) => {
        const from = anchor + offMin * MIN;
        const to = from + lenMin * MIN;
        const all = dueFireTimes(spec(cron, tz, "all", 1000), { lastFireAt: new Date(from), since: new Date(from), now: new Date(to) }).map((x) => x.getTime());
        const chain: number[] = [];
        for (let t = nextFireTime(spec(cron, tz), new Date(from)).getTime(); t <= to; t = nextFireTime(spec(cron, tz), new Date(t)).getTime()) chain.push(t);
        expect(all).toEqual(chain);
        expect(all.every((t, i) => t > from && t <= to && (i === 0 || t > all[i - 1]!))).toBe(true);
        const once = dueFireTimes(spec(cron, tz, "once"), { lastFireAt: new Date(from), since: new Date(from), now: new Date(to) });
        expect(once.map((x) => x.getTime())).toEqual(all.slice(-1));
      }),
      { numRuns: 100 },
    );
  });

  it("all-hours schedules fire exactly at the instants whose wall clock matches (brute force)", () => {
    const formats = new Map(zones.map((tz) => [tz, new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })]));
    const wallOf = (t: number, tz: string) => {
      const f = formats.get(tz)!;
      const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
      return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
    };
    fc.assert(
      fc.property(fc.constantFrom("*/7 * * * *", "10,40 * * * *", "*/20 * * * 0"), fc.constantFrom(...zones), fc.constantFrom(...anchors), fc.integer({ min: -4 * 60, max: 4 * 60 }), (cron, tz, anchor, offMin) => {
        const from = anchor + offMin * MIN;
        const to = from + 4 * 60 * MIN;
        const matcher = CronExpressionParser.parse(cron, { tz: "UTC" });
        const expected: number[] = [];
        for (let t = from - (from % MIN) + MIN; t <= to; t += MIN) if (matcher.includesDate(new Date(wallOf(t, tz)))) expected.push(t);
        const got = dueFireTimes(spec(cron, tz, "all", 1000), { lastFireAt: new Date(from), since: new Date(from), now: new Date(to) });
        expect(got.map((x) => x.getTime())).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
