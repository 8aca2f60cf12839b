// Reproduction, not a test: does the app's postgres.js pool (shared/db/postgres.ts)
// recover by itself when PostgreSQL restarts under load?
//
//   node --import tsx scripts/chaos/pool_restart_repro.ts
//
// Starts its own cluster (scripts/chaos/pg_process.ts), keeps 16 callers
// issuing small queries on a pool of 8, restarts PostgreSQL, and reports how
// long the callers wait for an answer afterwards. Exit 1 when a query has not
// settled 40 s after the restart (longer than postgres.js' 30 s connect_timeout).
//
// Measured with postgres 3.4.9 (see docs/reliability.md): some callers wait
// 10–20 s (the pool-wide reconnect backoff grows to 20 s after a burst of
// errors) and some never get an answer. Cause, found by instrumenting
// src/connection.js: a caller that retries as soon as its query is rejected
// (the socket's 'error' event) reaches the same connection before its 'close'
// event; the stale `query` (never cleared, cf. porsager/postgres#1130) makes
// execute() queue it in `sent`, and closed(hadError = true) neither rejects
// `sent` nor clears it. After the reconnect, ReadyForQuery takes that query
// as the one in flight and waits for an answer that never comes; the
// connection stays in `connecting` for good. Rejecting `query` and `sent` in
// closed() whatever hadError is (and clearing `query`) fixed it here.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createPostgresDb } from "../../shared/db/postgres.ts";

const root = join(import.meta.dirname, "../..");
const pg = spawn(process.execPath, ["--import", "tsx", join(root, "scripts/chaos/pg_process.ts")], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
let out = "";
pg.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitOut = async (re: RegExp) => {
  while (!re.test(out)) await sleep(50);
  return re.exec(out)!;
};

const url = (await waitOut(/ready (\S+)\n/))[1]!;
const db = createPostgresDb(url, { max: 8 });
await db.query("select 1");
const t0 = Date.now();
const results: Array<{ ms: number; code: string }> = [];
let pending = 0;
let go = true;
const callers = Array.from({ length: 16 }, async () => {
  while (go) {
    const s = Date.now();
    pending++;
    const code = await db.query("select pg_sleep(0.01)").then(() => "ok", (e: { code?: string }) => e.code ?? "?");
    pending--;
    results.push({ ms: Date.now() - s, code });
  }
});
await sleep(1_000);
pg.stdin.write("restart\n");
await waitOut(/restarted (\d+)\n/);
const back = Date.now();
console.log(`PostgreSQL restarted; back ${back - t0} ms after the start`);
await sleep(2_000);
go = false;

const probe = await Promise.all(
  Array.from({ length: 8 }, () => Promise.race([db.query("select 1").then(() => "ok", (e: { code?: string }) => e.code ?? "?"), sleep(5_000).then(() => "no answer in 5 s")])),
);
console.log("fresh queries 2 s after the restart:", probe.join(", "));
while (pending > 0 && Date.now() - back < 40_000) await sleep(500);
const codes: Record<string, number> = {};
for (const r of results) codes[r.code] = (codes[r.code] ?? 0) + 1;
console.log("answers:", codes, "slowest:", Math.max(...results.map((r) => r.ms)), "ms");
const stuck = pending;
console.log(`callers still waiting ${Math.round((Date.now() - back) / 1000)} s after the restart: ${stuck}`);
pg.stdin.end("stop\n");
void Promise.race([Promise.all(callers), sleep(1_000)]).then(() => process.exit(stuck > 0 ? 1 : 0));
