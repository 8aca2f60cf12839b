// npm run console -- --url https://<ref>.supabase.co --anon-key <key> [--port 54323]
// Serves the run console on http://127.0.0.1:<port>/ against that project
// (local/console_server.ts). Sign in with email + password (Supabase Auth), or
// open the page with #access_token=<user JWT>.
import { parseArgs } from "node:util";
import { startConsoleServer } from "./console_server.ts";
import { projectRoot } from "./root.ts";

const HELP = `npm run console -- --url https://<ref>.supabase.co --anon-key <anon key> [--port 54323] [--host 127.0.0.1]
  Serves the run console on this machine's loopback against a hosted project.
  --url        the project URL (Settings → API)
  --anon-key   the project's anon / publishable key (public; the page sends it as apikey)
  --port       where to listen (default 54323; PORT also works)
  --host       127.0.0.1 (default), localhost or ::1`;

async function main() {
  const { values: o } = parseArgs({
    options: {
      url: { type: "string" },
      "anon-key": { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (o.help) return console.log(HELP);
  const port = Number(o.port ?? process.env.PORT ?? 54323);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number, not ${o.port}`);
  const c = await startConsoleServer({
    url: o.url ?? process.env.SUPABASE_URL ?? "",
    anonKey: o["anon-key"] ?? process.env.SUPABASE_ANON_KEY ?? "",
    port,
    host: o.host,
    root: projectRoot(import.meta.url),
  });
  console.log(`Run console for ${o.url ?? process.env.SUPABASE_URL}: ${c.url}/\n  Sign in with your email and password, or open ${c.url}/#access_token=<user JWT>.\nCtrl-C stops.`);
  const stop = () => void c.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(`✖ ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
  process.exit(1);
});
