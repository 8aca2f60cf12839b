// trigger_config validation: every message a user can get back when saving an automation.
import { describe, expect, it } from "vitest";
import { parseTriggerConfig, scheduleSpecOf, validateTriggerConfig } from "../../shared/triggers/config.ts";

const schedule = (config: Record<string, unknown>) => validateTriggerConfig("schedule", { cron: "* * * * *", ...config });

describe("schedule trigger_config", () => {
  it("accepts the brief's example and fills defaults", () => {
    const r = parseTriggerConfig("schedule", { cron: "*/5 * * * *", timezone: "Europe/Berlin", missed: "all" });
    expect(r).toEqual({ ok: true, config: { cron: "*/5 * * * *", timezone: "Europe/Berlin", missed: "all", max_catch_up: 100 } });
    const d = parseTriggerConfig("schedule", { cron: "0 9 * * 1-5" });
    expect(d.ok && d.config).toEqual({ cron: "0 9 * * 1-5", timezone: "UTC", missed: "skip", max_catch_up: 100 });
    expect(d.ok && scheduleSpecOf(d.config)).toEqual({ cron: "0 9 * * 1-5", timezone: "UTC", missed: "skip", maxCatchUp: 100 });
  });

  it.each(["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "0 0 L * *", "0 9 * * MON-FRI", "0 0 * * 1#2", " 0  9 * * * ", "0 0 29 2 *"])(
    "accepts %j",
    (cron) => expect(validateTriggerConfig("schedule", { cron })).toEqual([]),
  );

  it.each([
    ["* * *", 'trigger_config.cron: invalid cron "* * *": expected 5 fields (minute hour day-of-month month day-of-week), got 3'],
    ["", 'trigger_config.cron: invalid cron "": expected 5 fields (minute hour day-of-month month day-of-week), got 0'],
    ["0 0 * * * *", 'trigger_config.cron: invalid cron "0 0 * * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6; a seconds field is not supported'],
    ["61 * * * *", 'trigger_config.cron: invalid cron "61 * * * *": Constraint error, got value 61 expected range 0-59'],
    ["*/0 * * * *", 'trigger_config.cron: invalid cron "*/0 * * * *": Constraint error, cannot repeat at every 0 time.'],
    ["* 24 * * *", 'trigger_config.cron: invalid cron "* 24 * * *": Constraint error, got value 24 expected range 0-23'],
    ["every day at noon", 'trigger_config.cron: invalid cron "every day at noon": expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ["hello world foo bar baz", 'trigger_config.cron: invalid cron "hello world foo bar baz": Invalid characters, got value: hello'],
    ["H * * * *", 'trigger_config.cron: invalid cron "H * * * *": hashed values (H) are not supported'],
    ["@midnight", 'trigger_config.cron: invalid cron "@midnight": unknown macro (supported: @yearly, @annually, @monthly, @weekly, @daily, @hourly)'],
    ["@minutely", 'trigger_config.cron: invalid cron "@minutely": unknown macro (supported: @yearly, @annually, @monthly, @weekly, @daily, @hourly)'],
    ["0 0 30 2 *", 'trigger_config.cron: invalid cron "0 0 30 2 *": Invalid explicit day of month definition'],
  ])("rejects cron %j", (cron, message) => {
    expect(validateTriggerConfig("schedule", { cron })).toEqual([message]);
  });

  it("does not mistake day names containing H for hashes", () => {
    expect(validateTriggerConfig("schedule", { cron: "0 9 * * THU" })).toEqual([]);
  });

  it("requires a string cron", () => {
    expect(validateTriggerConfig("schedule", {})).toEqual(["trigger_config.cron: is required"]);
    expect(validateTriggerConfig("schedule", null)).toEqual(["trigger_config.cron: is required"]);
    expect(validateTriggerConfig("schedule", { cron: 5 })).toEqual(["trigger_config.cron: must be a string, got 5"]);
  });

  it.each([
    ["Mars/Olympus", 'trigger_config.timezone: unknown timezone "Mars/Olympus"; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"'],
    ["", 'trigger_config.timezone: unknown timezone ""; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"'],
    ["local", 'trigger_config.timezone: unknown timezone "local"; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"'],
    ["UTC+3", 'trigger_config.timezone: unknown timezone "UTC+3"; for a fixed offset use "Etc/GMT-3" style names (sign inverted)'],
  ])("rejects timezone %j", (timezone, message) => {
    expect(schedule({ timezone })).toEqual([message]);
  });

  it.each(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/GMT-3", "Australia/Lord_Howe"])("accepts timezone %j", (timezone) => {
    expect(schedule({ timezone })).toEqual([]);
  });

  it("checks missed, max_catch_up and unknown keys, all at once", () => {
    expect(schedule({ missed: "sometimes", max_catch_up: 0, timezon: "UTC" })).toEqual([
      'trigger_config.missed: must be one of "skip", "once", "all"; got "sometimes"',
      "trigger_config.max_catch_up: must be at least 1",
      'trigger_config: unknown key "timezon" (allowed: cron, timezone, missed, max_catch_up)',
    ]);
    expect(schedule({ max_catch_up: 1001 })).toEqual(["trigger_config.max_catch_up: must be at most 1000"]);
    expect(schedule({ max_catch_up: 1.5 })).toEqual(["trigger_config.max_catch_up: must be an integer, got 1.5"]);
    expect(schedule({ max_catch_up: "10" })).toEqual(['trigger_config.max_catch_up: must be a number, got "10"']);
    expect(schedule({ timezone: 3 })).toEqual(["trigger_config.timezone: must be a string, got 3"]);
  });
});

describe("event trigger_config", () => {
  const event = (config: unknown) => validateTriggerConfig("event", config);

  it("normalises table events: schema split off, all operations by default", () => {
    expect(parseTriggerConfig("event", { table: "deals" })).toEqual({
      ok: true,
      config: { schema: "public", table: "deals", operations: ["INSERT", "UPDATE", "DELETE"] },
    });
    const filter = { changed: "status", to: "won" };
    expect(parseTriggerConfig("event", { table: "sales.deals", operations: ["UPDATE"], filter })).toEqual({
      ok: true,
      config: { schema: "sales", table: "deals", operations: ["UPDATE"], filter },
    });
  });

  it("accepts application events with a JsonLogic filter over payload", () => {
    const filter = { ">": [{ var: "payload.amount" }, 100] };
    expect(parseTriggerConfig("event", { event: "invoice.paid", filter })).toEqual({ ok: true, config: { event: "invoice.paid", filter } });
    expect(event({ event: "billing:invoice-paid_v2" })).toEqual([]);
  });

  it("requires exactly one of table and event", () => {
    const msg = 'trigger_config: give exactly one of "table" (database events) or "event" (application events)';
    expect(event({})).toEqual([msg]);
    expect(event(null)).toEqual([msg]);
    expect(event({ table: "deals", event: "deal.won" })).toEqual([`${msg}, not both`]);
  });

  it("checks table names and operations", () => {
    const tableMsg = 'trigger_config.table: must be a table name, optionally with its schema ("deals" or "public.deals")';
    expect(event({ table: "deals; drop table x" })).toEqual([tableMsg]);
    expect(event({ table: "a.b.c" })).toEqual([tableMsg]);
    expect(event({ table: "" })).toEqual([tableMsg]);
    expect(event({ table: "deals", operations: [] })).toEqual(["trigger_config.operations: must not be empty"]);
    expect(event({ table: "deals", operations: ["insert"] })).toEqual([
      'trigger_config.operations[0]: must be one of "INSERT", "UPDATE", "DELETE"; got "insert"',
    ]);
    expect(event({ table: "deals", operations: ["INSERT", "UPDATE", "UPDATE"] })).toEqual([
      'trigger_config.operations[2]: "UPDATE" is listed twice',
    ]);
    expect(event({ table: "deals", operations: "INSERT" })).toEqual(['trigger_config.operations: must be an array, got "INSERT"']);
    expect(event({ event: "deal.won", operations: ["INSERT"] })).toEqual(["trigger_config.operations: applies to table events only"]);
  });

  it("checks event names", () => {
    expect(event({ event: "" })).toEqual(["trigger_config.event: must not be empty"]);
    expect(event({ event: "x".repeat(201) })).toEqual(["trigger_config.event: must be at most 200 characters"]);
    expect(event({ event: "invoice paid!" })).toEqual([
      'trigger_config.event: may contain only letters, digits and _ . : - (like "invoice.paid")',
    ]);
  });

  it("reports filter problems under trigger_config.filter", () => {
    expect(event({ table: "deals", filter: [] })).toEqual([
      'trigger_config.filter: must be a JSON object: a JsonLogic rule or {"changed": "<column>", "to": ...}',
    ]);
    expect(event({ table: "deals", filter: { foo: 1 } })).toEqual(['trigger_config.filter.foo: unknown JsonLogic operator "foo"']);
    expect(event({ table: "deals", filter: { and: [{ "==": [{ var: "status" }, "won"] }, { a: 1, b: 2 }] } })).toEqual([
      'trigger_config.filter.and[0].==[0].var: "status" is not in the filter context (record, old_record, payload, operation); did you mean "record.status" or "payload.status"?',
      'trigger_config.filter.and[1]: a JsonLogic operation has exactly one key, the operator; got 2 (a, b); wrap literal objects in {"preserve": ...}',
    ]);
    expect(event({ event: "invoice.paid", filter: { changed: "status", to: "won" } })).toEqual([
      "trigger_config.filter.changed: the changed shorthand applies to table events only; for application events write a JsonLogic rule over payload",
    ]);
    expect(event({ table: "deals", filter: { changed: "", too: "won" } })).toEqual([
      "trigger_config.filter.changed: must be a column name (1 to 63 characters)",
      'trigger_config.filter: unknown key "too" in the changed shorthand (allowed: changed, from, to)',
    ]);
  });

  it("rejects unknown keys", () => {
    expect(event({ table: "deals", operation: ["INSERT"] })).toEqual([
      'trigger_config: unknown key "operation" (allowed: table, operations, event, filter)',
    ]);
  });
});

describe("webhook and manual trigger_config", () => {
  it("accepts {} and null", () => {
    expect(parseTriggerConfig("webhook", {})).toEqual({ ok: true, config: {} });
    expect(parseTriggerConfig("manual", null)).toEqual({ ok: true, config: {} });
    expect(validateTriggerConfig("webhook", { content_types: ["application/json"], max_body_bytes: 65536 })).toEqual([]);
    expect(validateTriggerConfig("manual", {})).toEqual([]);
  });

  it("checks webhook settings", () => {
    expect(validateTriggerConfig("webhook", { content_types: ["text/plain"], max_body_bytes: 2_000_000 })).toEqual([
      'trigger_config.content_types[0]: must be one of "application/json", "application/x-www-form-urlencoded"; got "text/plain"',
      "trigger_config.max_body_bytes: must be at most 1048576",
    ]);
    expect(validateTriggerConfig("webhook", { content_types: [] })).toEqual(["trigger_config.content_types: must not be empty"]);
    expect(validateTriggerConfig("webhook", { max_body_bytes: 0 })).toEqual(["trigger_config.max_body_bytes: must be at least 1"]);
    expect(validateTriggerConfig("webhook", { secret: "x" })).toEqual([
      'trigger_config: unknown key "secret" (allowed: content_types, max_body_bytes, verify, headers, filter)',
    ]);
  });

  it("checks manual settings", () => {
    expect(validateTriggerConfig("manual", { x: 1 })).toEqual(['trigger_config: unknown key "x" (allowed: none)']);
  });
});

describe("any trigger type", () => {
  it("requires a JSON object", () => {
    expect(validateTriggerConfig("webhook", [])).toEqual(["trigger_config: must be a JSON object, got an array"]);
    expect(validateTriggerConfig("schedule", "*/5 * * * *")).toEqual(['trigger_config: must be a JSON object, got "*/5 * * * *"']);
  });

  it("names an unknown trigger type", () => {
    expect(validateTriggerConfig("cron", {})).toEqual([
      'trigger_type: unknown trigger type "cron" (expected event, schedule, webhook, manual)',
    ]);
  });
});
