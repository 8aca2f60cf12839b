// delay computes the resume time from the injected clock; the engine sleeps.
import { describe, expect, it } from "vitest";
import { delayAction, MAX_DELAY_SECONDS } from "../../shared/actions/delay.ts";
import { FIXED_NOW, makeContext } from "./context.ts";

const run = (raw: Record<string, unknown>) => delayAction.execute(delayAction.schema.parse(raw), makeContext());
const problems = (raw: unknown) => delayAction.schema.safeParse(raw).error?.issues.map((i) => i.message) ?? [];

describe("delay action", () => {
  it("waits a number of seconds from now", async () => {
    const res = await run({ seconds: 90 });
    const until = new Date(FIXED_NOW.getTime() + 90_000);
    expect(res.waitUntil).toEqual(until);
    expect(res.output).toEqual({ waited: true, until: until.toISOString() });
  });

  it("accepts fractional seconds", async () => {
    const res = await run({ seconds: 1.5 });
    expect(res.waitUntil!.getTime() - FIXED_NOW.getTime()).toBe(1500);
  });

  it("waits until a time with an offset", async () => {
    const res = await run({ until: "2026-01-15T14:30:00+01:00" });
    expect(res.waitUntil!.toISOString()).toBe("2026-01-15T13:30:00.000Z");
  });

  it("does not wait for a time already past, and says so", async () => {
    const res = await run({ until: "2026-01-01T00:00:00Z" });
    expect(res.waitUntil).toBeUndefined();
    expect(res.output).toEqual({ waited: false, until: "2026-01-01T00:00:00.000Z", reason: "until is already in the past" });
  });

  it("refuses an until more than a year away at run time", async () => {
    await expect(run({ until: "2030-01-01T00:00:00Z" })).rejects.toMatchObject({ code: "invalid_config", retryable: false });
  });

  it("validates: exactly one of seconds/until, positive, bounded, ISO with offset", () => {
    expect(problems({})).toEqual(["give exactly one of seconds or until"]);
    expect(problems({ seconds: 5, until: "2026-01-01T00:00:00Z" })).toEqual(["give exactly one of seconds or until"]);
    expect(problems({ seconds: 0 })[0]).toMatch(/>0|greater than 0|too small/i);
    expect(problems({ seconds: -5 })).toHaveLength(1);
    expect(problems({ seconds: MAX_DELAY_SECONDS + 1 })[0]).toMatch(/365 days/);
    expect(problems({ until: "tomorrow" })[0]).toMatch(/datetime/i);
    expect(problems({ until: "2026-01-01T00:00:00" })[0]).toMatch(/datetime/i);
  });

  it("accepts placeholders for either field", () => {
    expect(problems({ seconds: "{{trigger.payload.wait}}" })).toEqual([]);
    expect(problems({ until: "{{ trigger.payload.remind_at }}" })).toEqual([]);
  });
});
