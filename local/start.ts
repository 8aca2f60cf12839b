// `npm start`: the whole backend on this machine. Embedded PGlite in .data/
// unless DATABASE_URL names a PostgreSQL / Supabase database.
// `npm start -- --demo` also loads the demo seed into DATABASE_URL (it has a
// public webhook secret, so only when asked; the embedded database gets it).
// `npm start` runs this file bundled (scripts/build_runtime.ts, dist/start/).
import { parseArgs } from "node:util";
import { DEMO, signedCurl } from "./demo.ts";
import { userJwt } from "./keys.ts";
import { projectRoot } from "./root.ts";
import { localWorkerEnabled, startRuntime } from "./runtime.ts";

const root = projectRoot(import.meta.url);

async function main() {
  const t0 = Date.now();
  const { values: args } = parseArgs({ options: { demo: { type: "boolean", default: false } } });
  console.log("Starting the automations backend…");
  const rt = await startRuntime({ env: process.env, root, demo: args.demo });
  const fns = `${rt.url}/functions/v1`;
  const demoJwt = await userJwt(rt.keys.jwtSecret, DEMO.authId, DEMO.email);
  const [demo] = await rt.deps.db.query("select 1 from public.automations where id = $1", [DEMO.webhookAutomationId]);
  const lines = [
    "",
    `✔ Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    `  Database:   ${rt.database}`,
    `  Migrations: ${rt.migrations.applied.length ? `applied ${rt.migrations.applied.length}` : "up to date"}${rt.migrations.seeded ? " + demo seed" : ""}`,
    `  Functions:  ${fns}/{automations-webhook,automations-run,automations-api,automations-event,automations-schedule-tick,automations-worker}`,
    `  Console:    ${rt.url}/${demo && (rt.embedded || args.demo) ? "   (\"Sign in as the demo user\")" : "   (open it with #access_token=<user JWT>)"}`,
    `  Anon key:   ${rt.keys.anonKey}`,
    `  Service key:${" "}${rt.keys.serviceRoleKey}`,
    `  Keys:       ${rt.keys.created ? "generated for this database, " : ""}signed with the JWT secret ${rt.keys.fromEnv ? `from ${rt.keys.source}` : `in ${rt.keys.source} (mode 0600)`}`,
  ];
  if (!localWorkerEnabled(process.env)) {
    lines.push("  Hosted mode (AUTOMATIONS_LOCAL_WORKER=off): no worker, tick or retention loop; only function calls do work (pg_cron + pg_net, or you).");
  }
  if (!demo && !rt.embedded) {
    lines.push("  Demo:       not loaded into DATABASE_URL (its webhook secret is public); `npm start -- --demo` loads it");
  }
  if (demo) {
    lines.push(
      "",
      "Demo (org 'Demo Org', admin admin@demo.test):",
      `  Webhook URL: ${fns}/automations-webhook/${DEMO.webhookAutomationId}`,
      "  Send a signed webhook (headers valid 5 minutes; `npm run automations -- sign-webhook` makes fresh ones):",
      "",
      signedCurl(rt.url, DEMO.webhookAutomationId, DEMO.webhookSecret, JSON.stringify({ name: "Ada", email: "ada@example.com", message: "Call me" }))
        .split("\n").map((l) => `    ${l}`).join("\n"),
      "",
      `  Demo user JWT (7 days): ${demoJwt}`,
      `  Run it by hand:  curl -sS -X POST ${fns}/automations-run -H "authorization: Bearer $JWT" -H 'content-type: application/json' -d '{"automation_id":"${DEMO.webhookAutomationId}","wait":true}'`,
      "  Run history:     npm run automations -- runs      (one run: npm run automations -- show <run_id>)",
    );
  }
  lines.push("", "Ctrl-C stops (in-flight runs finish or go back to the queue).");
  console.log(lines.join("\n"));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping: no new runs are claimed; waiting for in-flight runs…`);
    await rt.stop();
    console.log("Stopped cleanly.");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(`\n✖ Could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
