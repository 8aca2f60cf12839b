// `npx tsx bench/local_latency.ts`: the local runtime on embedded PGlite (what
// `npm start` runs), a one-step webhook automation, 50 sequential signed
// deliveries: time from sending the request to seeing the run completed.
// Issue 5 asks for "about 100 ms locally". Uses port 54399 and a temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRuntime } from "../local/runtime.ts";
import { DEMO } from "../local/demo.ts";
import { signWebhook } from "../shared/triggers/webhook_signature.ts";
import { silentLogger } from "../shared/logger.ts";
const dir = mkdtempSync(join(tmpdir(), "lat-"));
const rt = await startRuntime({ env: { PORT: "54399", AUTOMATIONS_DATA_DIR: dir }, root: join(import.meta.dirname, ".."), logger: silentLogger });
// a one-step log automation
const [{ id }] = (await rt.deps.db.query<{ id: string }>(`select public.create_automation('one step', 'webhook', '{}'::jsonb, '[{"action_type":"log","action_config":{"message":"hi"}}]'::jsonb, 'active', null, '{}'::jsonb, $1) as id`, [DEMO.orgId])) as [{ id: string }];
const [{ s }] = (await rt.deps.db.query<{ s: string }>("select public.rotate_webhook_secret($1) as s", [id])) as [{ s: string }];
const times: number[] = [];
for (let i = 0; i < 50; i++) {
  const body = JSON.stringify({ i });
  const t0 = performance.now();
  const res = await fetch(`${rt.url}/functions/v1/automations-webhook/${id}`, { method: "POST", headers: { "content-type": "application/json", ...signWebhook(s, `m${i}`, body) }, body });
  const { run_id } = (await res.json()) as { run_id: string };
  for (;;) {
    const [r] = await rt.deps.db.query<{ status: string }>("select status from automation_runs where id = $1", [run_id]);
    if (r!.status === "completed") break;
    await new Promise((r) => setTimeout(r, 2));
  }
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`PGlite: request → run completed (one log step), 50 sequential: p50 ${times[25]!.toFixed(1)} ms, p95 ${times[47]!.toFixed(1)} ms, max ${times[49]!.toFixed(1)} ms`);
await rt.stop();
rmSync(dir, { recursive: true, force: true });
