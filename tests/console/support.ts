// The browser tests' set-up: Debian's chromium driven by playwright-core, a
// real local runtime on a clone of the test database, and a loopback HTTP
// server that an automation's webhook step calls (it fails first, then
// succeeds, so Retry has something to fix).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startRuntime, type Runtime } from "../../local/runtime.ts";
import { freePort } from "../../scripts/pg_cluster.ts";
import { buildConsole } from "../../scripts/build_console.ts";
import { silentLogger } from "../../shared/logger.ts";
import { TEST_AUTH } from "../helpers/app_deps.ts";

export const ROOT = join(import.meta.dirname, "../..");
export const CHROMIUM = "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium headless with a fresh profile; close() closes what this call launched and removes the profile. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: \`npm test\` installs it as root or with sudo; else run: sudo apt-get install -y chromium`);
  }
  const profile = mkdtempSync(join(tmpdir(), "automations-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Every console error and uncaught exception of a page, to assert none happened. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  // Well inside the test's own timeout, so a missing element fails with its locator.
  page.setDefaultTimeout(15_000);
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** A loopback server for webhook steps: /flaky answers 500 the first time, then 200; /ok always 200. */
export async function startHookServer(): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  let flaky = 0;
  const server: Server = createServer((req, res) => {
    calls.push(req.url ?? "");
    req.resume();
    req.on("end", () => {
      if (req.url === "/flaky" && flaky++ === 0) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "the CRM is down" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, id: 42 }));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** The runtime as `npm start` runs it, on the given database, with the console built. */
export async function startConsoleRuntime(databaseUrl: string, opts: { demo?: boolean } = {}): Promise<Runtime> {
  await buildConsole();
  return startRuntime({
    root: ROOT,
    logger: silentLogger,
    demo: opts.demo,
    tickSeconds: 3600,
    env: {
      DATABASE_URL: databaseUrl,
      PORT: String(await freePort()),
      AUTOMATIONS_JWT_SECRET: TEST_AUTH.jwtSecret,
      AUTOMATIONS_ALLOW_PRIVATE_NETWORK: "true",
    },
  });
}

/** No part of the page is wider than the viewport (nothing to scroll sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Form controls without a label and buttons or links without a name: what a screen reader could not announce. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll<HTMLInputElement>("input, textarea, select")) {
      if ((el.labels?.length ?? 0) === 0 && !el.getAttribute("aria-label")) bad.push(el.outerHTML.slice(0, 120));
    }
    for (const el of document.querySelectorAll<HTMLElement>("button, a[href]")) {
      if (!(el.textContent ?? "").trim() && !el.getAttribute("aria-label")) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}
