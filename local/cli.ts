// `npm run automations -- <command>` / `npx automations <command>`: everyday
// work against the local runtime (or DATABASE_URL). --json on every listing.
import { parseArgs } from "node:util";
import { enqueueRun } from "../shared/engine/sql/enqueue.ts";
import { isTerminal, type RunStatus } from "../shared/engine/types.ts";
import { cliDb } from "./cli_db.ts";
import { DEMO, signedCurl } from "./demo.ts";
import { printTable } from "./cli_table.ts";
import { projectRoot } from "./root.ts";
import { signWebhook } from "../shared/triggers/webhook_signature.ts";
import { curlOf, signDelivery } from "./sign_webhook.ts";
import { testCommand } from "./cli_dry_run.ts";

const HELP = `usage: automations <command> [options]

  list                         automations with trigger, status, run count
  runs [--limit N] [--automation ID] [--status S]
                               recent runs: status, duration, the failing step's error
  show <run_id>                one run with its steps
  run <automation_id> [--payload JSON] [--wait]
                               start a manual run now (drafts allowed); --wait follows it to the end
  sign-webhook <automation_id> [--payload JSON] [--secret S] [--scheme NAME | --verify JSON]
                               a curl command signed as the sender signs (standard, github, stripe,
                               slack, shopify; twilio, hmac, token need --verify with their options)
  rotate-secret <automation_id>
                               new webhook signing secret (shown once)
  test <automation_id> [--payload JSON | --payload-file F]
                               dry run: what each step would do with this payload (default: the last
                               run's); nothing is sent or written; exit 1 if a step would fail

  --json                       machine-readable output
Environment: DATABASE_URL (connect directly) or PORT / AUTOMATIONS_URL (the local runtime; its keys
and CLI token are read from beside AUTOMATIONS_DATA_DIR, as \`npm start\` wrote them).`;

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: "boolean", default: false },
    limit: { type: "string", default: "20" },
    automation: { type: "string" },
    status: { type: "string" },
    payload: { type: "string" },
    "payload-file": { type: "string" },
    secret: { type: "string" },
    scheme: { type: "string" },
    verify: { type: "string" },
    wait: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
const [cmd, arg] = positionals;

function out(rows: Record<string, unknown>[], columns: string[]) {
  if (o.json) console.log(JSON.stringify(rows, null, 2));
  else printTable(rows, columns);
}

function payload(): unknown {
  try {
    return JSON.parse(o.payload ?? "{}");
  } catch (e) {
    throw new Error(`--payload is not valid JSON: ${(e as Error).message}`);
  }
}

function need(what: string): string {
  if (!arg) throw new Error(`${cmd} needs ${what}; see --help`);
  return arg;
}

async function main() {
  if (o.help || !cmd) return console.log(HELP);
  if (cmd === "sign-webhook") {
    const id = need("an automation id");
    const secret = o.secret ?? process.env.AUTOMATIONS_WEBHOOK_SECRET ?? (id === DEMO.webhookAutomationId ? DEMO.webhookSecret : undefined);
    if (!secret) throw new Error("pass --secret (from rotate-secret, or the one set with set_webhook_secret) or set AUTOMATIONS_WEBHOOK_SECRET");
    const body = JSON.stringify(payload());
    const base = process.env.AUTOMATIONS_URL ?? `http://127.0.0.1:${process.env.PORT ?? 54321}`;
    if (o.scheme || o.verify) {
      const d = signDelivery({ automationId: id, baseUrl: base, secret, payload: payload(), scheme: o.scheme, verify: o.verify });
      return console.log(o.json ? JSON.stringify(d, null, 2) : curlOf(d));
    }
    if (o.json) return console.log(JSON.stringify({ headers: signWebhook(secret, `msg_${Date.now()}`, body), body }, null, 2));
    return console.log(signedCurl(base, id, secret, body));
  }
  const { db } = await cliDb(process.env, projectRoot(import.meta.url));
  try {
    await run(db);
  } finally {
    await db.close?.();
  }
}

async function run(db: Awaited<ReturnType<typeof cliDb>>["db"]) {
  switch (cmd) {
    case "list": {
      const rows = await db.query(
        `select a.id, a.name, a.trigger_type as trigger, a.status, a.run_count as runs, a.last_run_at,
                (select count(*)::int from automation_actions x where x.automation_id = a.id) as actions
           from automations a order by a.created_at desc`,
      );
      return out(rows, ["id", "name", "trigger", "status", "actions", "runs", "last_run_at"]);
    }
    case "runs": {
      const rows = await db.query(
        `select r.id, a.name as automation, r.status, r.trigger_type as trigger, r.created_at, r.attempt,
                round(extract(epoch from (r.completed_at - r.started_at)) * 1000)::int as duration_ms,
                coalesce((select format('step %s (%s): %s', s.step_index, s.action_type, s.error_message)
                            from automation_run_steps s where s.run_id = r.id and s.status = 'failed'
                           order by s.step_index limit 1), r.error_message) as error
           from automation_runs r join automations a on a.id = r.automation_id
          where ($1::uuid is null or r.automation_id = $1::uuid) and ($2::text is null or r.status::text = $2)
          order by r.created_at desc limit $3`,
        [o.automation ?? null, o.status ?? null, Number(o.limit)],
      );
      return out(rows, ["id", "automation", "status", "trigger", "created_at", "duration_ms", "attempt", "error"]);
    }
    case "show": {
      const id = need("a run id");
      const [r] = await db.query("select * from automation_runs where id = $1", [id]);
      if (!r) throw new Error(`no run ${id}`);
      const steps = await db.query(
        `select step_index, name, action_type, status, attempt,
                round(extract(epoch from (completed_at - started_at)) * 1000)::int as duration_ms, error_message, output
           from automation_run_steps where run_id = $1 order by step_index`,
        [id],
      );
      if (o.json) return console.log(JSON.stringify({ ...r, steps }, null, 2));
      const x = r as Record<string, unknown>;
      console.log(`run ${x.id}  ${x.status}  attempt ${x.attempt}  trigger ${x.trigger_type}`);
      console.log(`created ${x.created_at}  started ${x.started_at ?? "-"}  completed ${x.completed_at ?? "-"}`);
      if (x.error_message) console.log(`error: ${x.error_message}`);
      return printTable(steps, ["step_index", "name", "action_type", "status", "attempt", "duration_ms", "error_message", "output"]);
    }
    case "run": {
      const id = need("an automation id");
      const { runId } = await enqueueRun(db, { automationId: id, triggerType: "manual", payload: payload(), allowDraft: true });
      if (!o.wait) return console.log(o.json ? JSON.stringify({ run_id: runId }) : `queued run ${runId}`);
      return follow(db, runId);
    }
    case "test": {
      const id = need("an automation id");
      process.exitCode = await testCommand(db, id, { payload: o.payload, payloadFile: o["payload-file"], json: o.json, env: process.env });
      return;
    }
    case "rotate-secret": {
      const [r] = await db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [need("an automation id")]);
      return console.log(o.json ? JSON.stringify({ secret: r!.s }) : `new secret (shown once): ${r!.s}`);
    }
    default:
      throw new Error(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

/** Progress until the run ends: status and steps done, on one line. */
async function follow(db: Awaited<ReturnType<typeof cliDb>>["db"], runId: string) {
  const started = Date.now();
  for (;;) {
    const [r] = await db.query<{ status: string; done: number; total: number; error_message: string | null }>(
      `select r.status, r.error_message,
              (select count(*)::int from automation_run_steps s where s.run_id = r.id and s.status in ('completed','skipped')) as done,
              coalesce(jsonb_array_length(v.actions), 0) as total
         from automation_runs r left join automation_versions v on v.id = r.version_id where r.id = $1`,
      [runId],
    );
    const line = `run ${runId}: ${r!.status}, ${r!.done}/${r!.total} steps, ${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (isTerminal(r!.status as RunStatus)) {
      if (o.json) console.log(JSON.stringify({ run_id: runId, status: r!.status, error: r!.error_message }));
      else console.log(`\r${line}${r!.error_message ? `\nerror: ${r!.error_message}` : ""}`);
      process.exitCode = r!.status === "failed" ? 1 : 0;
      return;
    }
    if (!o.json) process.stdout.write(`\r${line}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
