// The registry and save-time validation (templates unresolved).
import { describe, expect, it } from "vitest";
import { actionRegistry, actionTypes, getAction, validateActionConfig } from "../../shared/actions/registry.ts";
import { logAction } from "../../shared/actions/log.ts";
import { makeContext } from "./context.ts";

describe("action registry", () => {
  it("has the core actions, each under its own type", () => {
    expect(actionTypes).toEqual(["create_task", "delay", "log", "send_email", "update_field", "webhook"]);
    for (const [type, def] of Object.entries(actionRegistry)) {
      expect(def.type).toBe(type);
      expect(def.description.length).toBeGreaterThan(10);
    }
  });

  it("does not treat object prototype names as actions", () => {
    expect(getAction("constructor")).toBeUndefined();
    expect(getAction("__proto__")).toBeUndefined();
    expect(getAction("webhook")?.type).toBe("webhook");
  });

  it("names the known types when the type is unknown", () => {
    expect(validateActionConfig("send_sms", {})).toEqual([
      'unknown action type "send_sms"; known types: create_task, delay, log, send_email, update_field, webhook',
    ]);
  });

  it("accepts each core config shape from the contract, with placeholders", () => {
    const valid: [string, unknown][] = [
      ["webhook", { url: "https://hooks.example.com/{{trigger.payload.id}}", method: "POST", headers: { "x-token": "{{trigger.payload.token}}" }, body: { deal: "{{trigger.payload.deal}}" }, timeout_ms: 5000 }],
      ["webhook", { url: "{{steps.lookup.output.body.callback}}", timeout_ms: "{{trigger.payload.timeout}}" }],
      ["send_email", { to: "{{trigger.payload.email}}", subject: "Welcome {{trigger.payload.name}}", text: "Hi", html: "<p>Hi</p>" }],
      ["update_field", { table: "deals", id: "{{trigger.payload.id}}", field: "stage", value: "{{steps.0.output.body.stage}}" }],
      ["update_field", { table: "public.tasks", id: 42, field: "metadata", value: { a: [1, 2] } }],
      ["create_task", { title: "Call {{trigger.payload.name}}", description: "d", assignee_id: "{{trigger.payload.owner_id}}", due_at: "{{trigger.payload.due}}", priority: "{{trigger.payload.p}}" }],
      ["create_task", { title: "t", assignee_id: "7f0c1c2e-9a39-4a27-9d6c-1b1f9d1f2a3b", due_at: "2026-03-01T09:00:00Z", priority: "high" }],
      ["delay", { seconds: 3600 }],
      ["delay", { until: "{{trigger.payload.at}}" }],
      ["log", { message: "hello {{trigger.payload.x}}", data: "{{trigger.payload}}" }],
      ["log", {}],
    ];
    for (const [type, config] of valid) expect(validateActionConfig(type, config), `${type} ${JSON.stringify(config)}`).toEqual([]);
  });

  it("reports problems as path: message lines", () => {
    expect(validateActionConfig("webhook", { method: "POST" })).toEqual(["url: Invalid input: expected string, received undefined"]);
    expect(validateActionConfig("create_task", { title: "", priority: "critical" })).toEqual([
      "title: title must not be empty",
      'priority: Invalid option: expected one of "low"|"medium"|"high"|"urgent" (or a {{...}} placeholder)',
    ]);
    expect(validateActionConfig("create_task", { title: "t", assignee_id: "bob" })[0]).toMatch(/^assignee_id: Invalid UUID/);
    expect(validateActionConfig("update_field", { table: "users", id: "x", field: "org_id", value: 1 })).toEqual([
      "table: identity tables (organizations, users, memberships) cannot be changed by automations",
      "field: column org_id cannot be set: id, org_id, created_at and updated_at are maintained by the database",
    ]);
    expect(validateActionConfig("update_field", { table: "automation_runs", id: "x", field: "status" })).toEqual([
      "table: automation tables change only through the automations API",
      "value: value is required (any JSON; null clears the column)",
    ]);
    expect(validateActionConfig("delay", "60")).toEqual(["Invalid input: expected object, received string"]);
  });

  it("log echoes its message and data through the logger", async () => {
    const ctx = makeContext();
    const config = logAction.schema.parse({ message: "hi", level: "warn", data: { n: 1 } });
    const res = await logAction.execute(config, ctx);
    expect(res.output).toEqual({ logged: true, level: "warn", message: "hi", data: { n: 1 } });
    expect(ctx.logger.lines).toEqual([{ level: "warn", msg: "hi", fields: expect.objectContaining({ data: { n: 1 }, runId: ctx.runId }) }]);
  });
});
