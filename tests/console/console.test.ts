// The run console in a real browser (Debian's chromium through playwright-core)
// against a real local runtime on a clone of the test database: the page
// calls automations-api as the signed-in user, so RLS decides what it shows.
// Every scenario also asserts that the page logged no error and threw nothing.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../local/runtime.ts";
import { createAutomation, runRow } from "../helpers/automations.ts";
import { userJwt } from "../helpers/app_deps.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createOrg, createUser, type TestUser } from "../helpers/fixtures.ts";
import { horizontalOverflow, launchBrowser, startConsoleRuntime, startHookServer, unlabelledControls, watchErrors, type Browser } from "./support.ts";

let t: TestDatabase;
let rt: Runtime;
let browser: Browser;
let hooks: Awaited<ReturnType<typeof startHookServer>>;
let alice: TestUser;
let automationId: string;
let failedRunId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  hooks = await startHookServer();
  const a = await createOrg(t.db, "Org A");
  await createOrg(t.db, "Org B");
  alice = await createUser(t.db, a, "member");
  automationId = await createAutomation(t.db, a, {
    name: "Notify the CRM",
    trigger_type: "webhook",
    max_attempts: 1,
    actions: [
      { type: "webhook", name: "notify", config: { url: `${hooks.url}/flaky`, method: "POST", body: { lead: "{{trigger.payload.name}}" } } },
      { type: "webhook", name: "confirm", config: { url: `${hooks.url}/ok`, method: "POST", body: { crm_id: "{{steps.notify.output.body.id}}" } } },
    ],
  });
  rt = await startConsoleRuntime(t.url);
  // A real run through automations-run: the CRM answers 500, the run fails (one attempt).
  const res = await fetch(`${rt.url}/functions/v1/automations-run`, {
    method: "POST",
    headers: { authorization: `Bearer ${await userJwt(alice.claims)}`, "content-type": "application/json" },
    body: JSON.stringify({ automation_id: automationId, payload: { name: "Ada Lovelace" }, wait: true }),
  });
  const run = (await res.json()) as { id?: string; run_id?: string; status: string };
  failedRunId = (run.id ?? run.run_id)!;
  expect((await runRow(t.db, failedRunId)).status).toBe("failed");
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  await hooks?.close();
  await t?.drop();
});

/** A fresh tab (so a fresh sessionStorage) that records errors. */
async function tab(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  return { page, errors: watchErrors(page) };
}

describe("the run console in chromium", () => {
  it("signs in by #access_token, removes it from the address bar, and lists the org's automations", async () => {
    const { page, errors } = await tab();
    const token = await userJwt(alice.claims);
    await page.goto(`${rt.url}/#access_token=${token}&token_type=bearer`);
    await page.getByRole("heading", { name: "Automations", level: 1 }).waitFor();
    const row = page.getByRole("row", { name: /Notify the CRM/ });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toMatch(/1 of 1 recent runs failed \(100%\)/);
    expect(page.url()).toBe(`${rt.url}/`);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([token]);
    expect(await page.getByText(alice.claims.email).count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("opens the failed run from the automation, reads the failing step's error, retries it and watches it complete", async () => {
    const { page, errors } = await tab();
    await page.goto(`${rt.url}/#access_token=${await userJwt(alice.claims)}`);
    await page.getByRole("link", { name: "Notify the CRM" }).click();
    await page.getByRole("heading", { name: /Notify the CRM/, level: 1 }).waitFor();
    expect(page.url()).toBe(`${rt.url}/automations/${automationId}`);
    // The ordered actions with their configs, and the webhook's test command.
    expect(await page.locator("ol.actions > li h3").allTextContents()).toEqual([
      "notify (webhook, position 0)",
      "confirm (webhook, position 1)",
    ]);
    await expect.poll(() => page.locator("pre.command").textContent()).toContain(`sign-webhook ${automationId}`);
    // The runs list, filtered by status.
    await page.getByLabel("Status").selectOption("completed");
    await page.getByText("No completed runs.").waitFor();
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("link", { name: failedRunId.slice(0, 8) }).click();
    await page.getByRole("heading", { name: /^Run .* failed$/, level: 1 }).waitFor();
    const failedStep = page.locator("li.step-failed");
    expect(await failedStep.locator("h3").textContent()).toMatch(/^1\. notify \(webhook\) failed$/);
    expect(await failedStep.locator(".step-error").textContent()).toMatch(/^Error: .*500/);
    expect(await page.locator(".tl-row").count()).toBe(1);
    // Retry resumes from the failed step; the CRM answers 200 now. Pressed from the keyboard.
    await page.getByRole("button", { name: "Retry" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: /^Run .* completed$/, level: 1 }).waitFor({ timeout: 20_000 });
    expect(await page.locator("ol.steps > li h3").allTextContents()).toEqual([
      "1. notify (webhook) completed",
      "2. confirm (webhook) completed",
    ]);
    expect(await page.locator(".tl-row").count()).toBe(2);
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(0);
    expect((await runRow(t.db, failedRunId)).status).toBe("completed");
    expect(hooks.calls).toEqual(["/flaky", "/flaky", "/ok"]);
    // A deep link survives a reload (the token stays for the tab).
    await page.reload();
    await page.getByRole("heading", { name: /^Run .* completed$/, level: 1 }).waitFor();
    // Readable at 360 px: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await horizontalOverflow(page)).toBe(0);
    await page.goto(`${rt.url}/automations/${automationId}`);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("runs a dry run of the automation with the last run's payload: rendered config, unknown values, nothing sent", async () => {
    const { page, errors } = await tab();
    await page.goto(`${rt.url}/automations/${automationId}#access_token=${await userJwt(alice.claims)}`);
    const payload = page.getByLabel("Trigger payload (JSON object)");
    await expect.poll(async () => JSON.parse(await payload.inputValue())).toEqual({ name: "Ada Lovelace" });
    const callsBefore = hooks.calls.length;
    const runsBefore = await t.db.query("select id from public.automation_runs");
    await payload.fill(JSON.stringify({ name: "Grace Hopper" }));
    await page.getByRole("button", { name: "Run the dry run" }).click();
    // The result or the error, whichever comes: an error fails here with its text.
    await page.locator("#dry-result li.dry-step, #dry-result [role=alert]").first().waitFor();
    expect(await page.locator("#dry-result [role=alert]").allTextContents()).toEqual([]);
    const steps = page.locator("#dry-result li.dry-step");
    expect(await steps.count()).toBe(2);
    expect(await steps.nth(0).textContent()).toContain('"Grace Hopper"');
    expect(await steps.nth(1).textContent()).toContain("steps.notify.output.body.id");
    expect(hooks.calls.length).toBe(callsBefore);
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await t.db.query("select id from public.automation_runs")).toEqual(runsBefore);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("does not offer a restricted run's redaction marker as the sample payload", async () => {
    // A table event's run is restricted; alice is not its acting member, so
    // the API shows her the marker, and the dry-run box keeps its empty object.
    const other = await createAutomation(t.db, alice.orgId, { name: "Table watcher", actions: [{ type: "log", config: { message: "hi" } }] });
    await t.db.query(
      `insert into public.automation_runs (org_id, automation_id, status, trigger_type, trigger_payload, started_at, completed_at)
       select org_id, id, 'completed', 'event', '{"table": "deals", "record": {"amount": 1}}', now(), now() from public.automations where id = $1`,
      [other],
    );
    const { page, errors } = await tab();
    await page.goto(`${rt.url}/automations/${other}#access_token=${await userJwt(alice.claims)}`);
    await page.locator("a[href^='/runs/']").first().waitFor();
    await page.waitForLoadState("networkidle");
    expect(JSON.parse(await page.getByLabel("Trigger payload (JSON object)").inputValue())).toEqual({});
    expect(errors).toEqual([]);
    await page.close();
  });

  it("cancels a run that waits in a delay step: Cancel shows while it is pending, then the run is cancelled", async () => {
    const { page, errors } = await tab();
    const waiting = await createAutomation(t.db, alice.orgId, { name: "Wait an hour", actions: [{ type: "delay", name: "wait", config: { seconds: 3600 } }] });
    const res = await fetch(`${rt.url}/functions/v1/automations-run`, {
      method: "POST",
      headers: { authorization: `Bearer ${await userJwt(alice.claims)}`, "content-type": "application/json" },
      body: JSON.stringify({ automation_id: waiting, payload: {} }),
    });
    const { run_id } = (await res.json()) as { run_id: string };
    await page.goto(`${rt.url}/runs/${run_id}#access_token=${await userJwt(alice.claims)}`);
    await page.getByRole("heading", { name: /^Run .* pending$/, level: 1 }).waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: /^Run .* cancelled$/, level: 1 }).waitFor();
    expect(await page.locator(".run-error").textContent()).toMatch(/^Error: cancelled by /);
    expect(await page.getByRole("button", { name: /Cancel|Retry/ }).count()).toBe(1); // a cancelled run is failed: Retry
    expect((await runRow(t.db, run_id)).status).toBe("failed");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("another org's user opening the run URL sees not found, and nothing of the run", async () => {
    const { page, errors } = await tab();
    const b = await createUser(t.db, (await createOrg(t.db, "Org C")), "admin");
    await page.goto(`${rt.url}/runs/${failedRunId}#access_token=${await userJwt(b.claims)}`);
    await page.getByRole("heading", { name: "Run not found", level: 1 }).waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("your organization cannot see it");
    expect(await page.locator("body").textContent()).not.toContain("Notify the CRM");
    expect(errors.filter((e) => !isExpectedStatus(e, 404))).toEqual([]);
    await page.close();
  });

  it("an expired token goes back to sign-in with the reason", async () => {
    const { page, errors } = await tab();
    await page.goto(`${rt.url}/runs/${failedRunId}#access_token=${await userJwt(alice.claims, { expiresInSec: -60 })}`);
    await page.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();
    expect(await page.getByRole("alert").first().textContent()).toMatch(/session has expired or was rejected/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.getByLabel("Access token (a user's JWT)").count()).toBe(1);
    expect(await unlabelledControls(page)).toEqual([]);
    expect(errors.filter((e) => !isExpectedStatus(e, 401))).toEqual([]);
    await page.close();
  });
});

/** Chromium logs every 4xx fetch as "Failed to load resource"; the one status a scenario expects is not a page error. */
function isExpectedStatus(error: string, status: number): boolean {
  return error.startsWith(`console.error: Failed to load resource: the server responded with a status of ${status} `);
}
