// `npm run console`: the run console for a hosted project, served on this
// machine's loopback (Supabase Edge Functions do not serve text/html on the
// default domain, so the page cannot live there; its data API can). The page
// talks straight to the project: automations-api with the user's JWT, and
// Supabase Auth (/auth/v1) for the email + password sign-in. Nothing of the
// project passes through this server; it only serves the page and its
// /config.json (the project URL and its public anon key).
import type { Server } from "node:http";
import { join } from "node:path";
import { buildConsole } from "../scripts/build_console.ts";
import { createConsoleRoutes } from "./console_routes.ts";
import { createFunctionsServer, listen } from "./server.ts";

export interface ConsoleServerOptions {
  /** The project URL, e.g. https://<ref>.supabase.co. */
  url: string;
  anonKey: string;
  port: number;
  /** Loopback only: 127.0.0.1 (default), localhost or ::1. */
  host?: string;
  root: string;
  /** Build dist/console first (default true). */
  build?: boolean;
}

/** The project URL as the page will use it: http(s), no path, no trailing slash; else an error saying what is wrong. */
export function projectUrlOption(raw: string | undefined): string {
  if (!raw) throw new Error("--url is required: the project URL, e.g. --url https://<ref>.supabase.co");
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`--url ${JSON.stringify(raw)} is not a URL; expected e.g. https://<ref>.supabase.co`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`--url must be http(s), not ${u.protocol}`);
  if (u.username || u.password || u.search || u.hash) throw new Error("--url must be the bare project URL (no credentials, query or fragment)");
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

export async function startConsoleServer(opts: ConsoleServerOptions): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const host = opts.host ?? "127.0.0.1";
  if (!["127.0.0.1", "localhost", "::1"].includes(host)) throw new Error(`the console listens on loopback only (127.0.0.1, localhost, ::1), not ${host}`);
  if (!opts.anonKey.trim()) throw new Error("--anon-key is required: the project's anon (publishable) key, from the dashboard's API settings");
  const url = projectUrlOption(opts.url);
  if (opts.build !== false) await buildConsole();
  const page = createConsoleRoutes({ dir: join(opts.root, "dist/console"), config: { url, anonKey: opts.anonKey.trim(), signIn: "password" } });
  // No functions here: /functions/v1/* answers 404, the Host guard applies as in the runtime.
  const server = createFunctionsServer({}, page);
  await listen(server, opts.port, host);
  const shown = host === "::1" ? "[::1]" : host;
  return {
    url: `http://${shown}:${opts.port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
