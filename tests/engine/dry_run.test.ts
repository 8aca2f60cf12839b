// dryRun() over the built-in actions: conditions, stop/skip, values that
// depend on earlier steps, type-specific previews, and the same budgets and
// config checks a real run applies. Pure: no database, nothing executed.
import { describe, expect, it } from "vitest";
import { getAction } from "../../shared/actions/registry.ts";
import { dryRun, unknownMarker, type DryRunInput } from "../../shared/engine/dry_run.ts";
import type { SnapshotAction } from "../../shared/engine/types.ts";

type Spec = Partial<SnapshotAction> & { action_type: string };

function plan(specs: Spec[], payload: unknown, extra: Partial<DryRunInput> = {}) {
  const actions: SnapshotAction[] = specs.map((s, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    name: null,
    action_config: {},
    condition: null,
    position: i,
    ...s,
  }));
  return dryRun({
    automation: { id: "a1", name: "Test", org_id: "o1" },
    actions,
    trigger: { type: "webhook", payload },
    maxOutputChars: 1_048_576,
    getAction,
    ...extra,
  });
}

const log = (extra: Partial<Spec> = {}): Spec => ({ action_type: "log", action_config: { message: "hi" }, ...extra });
const U = unknownMarker;

describe("dry run: conditions", () => {
  const rule = { "==": [{ var: "trigger.payload.kind" }, "lead"] };

  it("a true condition runs the step, a false one skips it", () => {
    const yes = plan([log({ condition: { if: rule } })], { kind: "lead" }).steps[0]!;
    expect(yes).toMatchObject({ would: "run", condition: { if: rule, outcome: true, else: "skip" }, error: null });
    const no = plan([log({ condition: { if: rule } })], { kind: "spam" }).steps[0]!;
    expect(no).toMatchObject({ would: "skip", condition: { outcome: false, else: "skip" }, error: null });
  });

  it("a condition reading an earlier step's output is unknown, and so is the step", () => {
    const steps = plan(
      [log({ name: "fetch" }), log({ condition: { if: { "==": [{ var: "steps.fetch.output.ok" }, true] } } })],
      {},
    ).steps;
    expect(steps[1]).toMatchObject({ would: "unknown", condition: { outcome: "unknown" }, unknown: ["steps.fetch.output.ok"] });
    // By position too, and through an operator that would otherwise swallow the value.
    const byIndex = plan([log(), log({ condition: { if: { "??": [{ var: "steps.0.output" }, 1] } } })], {}).steps[1]!;
    expect(byIndex.would).toBe("unknown");
  });

  it("after a stopped step the rest is not reached; a skipped step's output is known to be null", () => {
    const steps = plan(
      [
        log({ name: "gate", condition: { if: { var: "trigger.payload.go" }, else: "skip" } }),
        log({ condition: { if: { "==": [{ var: "steps.gate.output" }, null] } }, action_config: { data: "{{steps.gate.output}}" } }),
        log({ condition: { if: false, else: "stop" } }),
        { action_type: "send_email", action_config: { to: "{{trigger.payload.missing}}", subject: "x", text: "y" } },
      ],
      { go: false },
    ).steps;
    expect(steps.map((s) => s.would)).toEqual(["skip", "run", "stop", "skip"]);
    expect(steps[1]!.condition!.outcome).toBe(true);
    expect(steps[1]!.config).toEqual({ data: null });
    expect(steps[1]!.unknown).toEqual([]);
    // Not reached, so its missing template is no error.
    expect(steps[3]!.error).toBeNull();
  });

  it("an invalid condition is the step's error", () => {
    const [s] = plan([log({ condition: { if: { eval: ["1"] } } })], {}).steps;
    expect(s!.error).toMatch(/invalid condition/);
  });
});

describe("dry run: templates and unknowns", () => {
  it("values that depend on earlier outputs render as unknown markers and pass the config check", () => {
    const steps = plan(
      [
        { action_type: "webhook", name: "fetch", action_config: { url: "https://crm.example.com/lookup", method: "GET" } },
        {
          action_type: "send_email",
          action_config: {
            to: "{{steps.fetch.output.body.email}}",
            subject: "Hi {{ steps.fetch.output.body.name }}, about {{trigger.payload.topic}}",
            text: "Run {{run.id}}; {{steps[0].output.body.email}}",
          },
        },
      ],
      { topic: "pricing" },
    ).steps;
    const email = steps[1]!;
    expect(email.error).toBeNull();
    expect(email.unknown).toEqual(["steps.fetch.output.body.email", "steps.fetch.output.body.name", "run.id", "steps.0.output.body.email"]);
    expect(email.config).toEqual({
      to: U("steps.fetch.output.body.email"),
      subject: `Hi ${U("steps.fetch.output.body.name")}, about pricing`,
      text: `Run ${U("run.id")}; ${U("steps.0.output.body.email")}`,
    });
    const config = email.config as { subject: string; text: string };
    expect(email.preview).toEqual({ to: [U("steps.fetch.output.body.email")], subject: config.subject, body: config.text });
  });

  it("a missing payload path is the same error a run would record", () => {
    const [s] = plan([{ action_type: "log", action_config: { message: "{{trigger.payload.name}}" } }], {}).steps;
    expect(s!.error).toMatch(/"name" is not present in trigger\.payload/);
    expect(s!.config).toBeNull();
  });

  it("a reference to a step that is not earlier is an error, not an unknown", () => {
    const [s] = plan([{ action_type: "log", action_config: { message: "{{steps.later.output}}" } }, log({ name: "later" })], {}).steps;
    expect(s!.error).toMatch(/"later" is not present in steps/);
    expect(s!.unknown).toEqual([]);
  });

  it("respects the template output budget", () => {
    const big = "x".repeat(500);
    const [s] = plan([{ action_type: "log", action_config: { message: "{{trigger.payload.big}}" } }], { big }, { maxOutputChars: 100 }).steps;
    expect(s!.error).toMatch(/would produce more than 100 characters/);
    const [ok] = plan([{ action_type: "log", action_config: { message: "{{trigger.payload.big}}" } }], { big }, { maxOutputChars: 1000 }).steps;
    expect(ok!.error).toBeNull();
  });

  it("a config that fails validation after rendering is the step's error", () => {
    const steps = plan(
      [
        { action_type: "send_email", action_config: { to: "{{trigger.payload.to}}", subject: "s", text: "t" } },
        { action_type: "webhook", action_config: { url: "{{trigger.payload.url}}" } },
        { action_type: "delay", action_config: { seconds: "{{trigger.payload.wait}}" } },
      ],
      { to: "not an address", url: "ftp://files.example.com/x", wait: -5 },
    ).steps;
    expect(steps[0]!.error).toMatch(/^invalid config after templates: to: /);
    expect(steps[1]!.error).toMatch(/^invalid config after templates: url: must be an absolute http/);
    expect(steps[2]!.error).toMatch(/^invalid config after templates: seconds: /);
    expect(steps.every((s) => s.preview === null)).toBe(true);
  });

  it("a custom action type shows its rendered config only", () => {
    const [s] = plan([{ action_type: "crm.sync", action_config: { id: "{{trigger.payload.id}}", n: "{{trigger.payload.n}}" } }], { id: "c1", n: 3 }).steps;
    expect(s).toMatchObject({ type: "crm.sync", would: "run", config: { id: "c1", n: 3 }, preview: null, error: null });
  });
});

describe("dry run: previews", () => {
  it("webhook: the request as it would be sent, credentials redacted", () => {
    const [s] = plan(
      [
        {
          action_type: "webhook",
          name: "notify",
          action_config: {
            url: "https://hooks.example.com/in?api_key={{trigger.payload.key}}&team=7",
            headers: { Authorization: "Bearer {{trigger.payload.token}}", "X-Trace": "t-{{trigger.payload.id}}" },
            body: { id: "{{trigger.payload.id}}", note: "new lead" },
          },
        },
      ],
      { id: 42, token: "sk_live_secret", key: "k123" },
    ).steps;
    expect(s!.error).toBeNull();
    const p = s!.preview as any;
    expect(p.method).toBe("POST");
    expect(p.url).toBe("https://hooks.example.com/in?api_key=\u2039redacted\u203a&team=7");
    expect(p.headers).toMatchObject({
      authorization: "\u2039redacted\u203a",
      "x-trace": "t-42",
      "content-type": "application/json",
      "idempotency-key": "\u2039run id\u203a:0",
    });
    expect(p.body).toEqual({ id: 42, note: "new lead" });
    // The rendered config never shows the credential either.
    expect(JSON.stringify(s)).not.toContain("sk_live_secret");
    expect(JSON.stringify(s)).not.toContain("k123");
    expect((s!.config as any).headers["X-Trace"]).toBe("t-42");
  });

  it("update_field, create_task, delay and log", () => {
    const steps = plan(
      [
        { action_type: "update_field", action_config: { table: "deals", id: "{{trigger.payload.id}}", field: "stage", value: "{{trigger.payload.stage}}" } },
        { action_type: "create_task", action_config: { title: "Call {{trigger.payload.name}}", priority: "high" } },
        { action_type: "delay", action_config: { seconds: "{{trigger.payload.wait}}" } },
        { action_type: "log", action_config: { level: "warn", message: "m", data: "{{trigger.payload}}" } },
      ],
      { id: 7, stage: "won", name: "Ada", wait: 90 },
    ).steps;
    expect(steps.map((s) => s.error)).toEqual([null, null, null, null]);
    expect(steps[0]!.preview).toEqual({ table: "deals", id: 7, field: "stage", value: "won" });
    expect(steps[1]!.preview).toMatchObject({ table: "public.tasks", title: "Call Ada", priority: "high", assignee_id: null });
    expect(steps[2]!.preview).toEqual({ seconds: 90 });
    expect(steps[3]!.preview).toEqual({ level: "warn", message: "m", data: { id: 7, stage: "won", name: "Ada", wait: 90 } });
  });

  it("send_email: recipients as a list, the text as body, html and copies when given", () => {
    const [s] = plan(
      [{ action_type: "send_email", action_config: { to: "{{trigger.payload.to}}", cc: ["b@example.com"], subject: "S", text: "T", html: "<p>T</p>" } }],
      { to: "a@example.com" },
    ).steps;
    expect(s!.preview).toEqual({ to: ["a@example.com"], subject: "S", body: "T", html: "<p>T</p>", cc: ["b@example.com"] });
  });

  it("an unknown value in a typed field stays unknown in the preview", () => {
    const steps = plan(
      [log({ name: "calc" }), { action_type: "delay", action_config: { seconds: "{{steps.calc.output.data.wait}}" } }],
      {},
    ).steps;
    expect(steps[1]).toMatchObject({ error: null, preview: { seconds: U("steps.calc.output.data.wait") } });
  });
});
