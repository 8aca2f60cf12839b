// The run console's page, served by the local runtime (and by `npm run
// console` for a hosted project): index.html for /, /automations/<id> and
// /runs/<id> (so deep links work on reload), the bundle under /assets/,
// and /config.json, which tells the page which project to talk to.
// The page itself holds no data: it calls the project's automations-api
// with the signed-in user's JWT, so RLS decides what it shows.
// dist/console is built by scripts/build_console.ts (prestart, npm run console).
import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { errorResponse, methodNotAllowed, notFound } from "../shared/http/errors.ts";

export interface ConsoleConfig {
  /** The project URL the page calls (…/functions/v1/automations-api, …/auth/v1); null: the page's own origin. */
  url: string | null;
  anonKey: string;
  /** How the page offers to sign in: the demo button (local runtime with the demo seed) or email + password (Supabase Auth). */
  signIn: "demo" | "password" | "token";
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Paths that answer with the page: the router in the page takes it from there. */
const PAGE_PATH = /^\/(?:(?:automations|runs)\/[^/]+\/?)?$/;
const ASSET_PATH = /^\/assets\/([A-Za-z0-9_.-]+)$/;

/** The page may load from itself only, and talk to itself and the project only. */
function securityHeaders(projectUrl: string | null): Record<string, string> {
  const connect = projectUrl ? `'self' ${new URL(projectUrl).origin}` : "'self'";
  return {
    "content-security-policy":
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; ` +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The page with /config.json's content in a <meta>: the script reads it at
 * once instead of waiting for one more request (~50 ms of the run page's
 * time to content on a loaded machine, bench/console.ts).
 */
function withConfig(html: string, config: ConsoleConfig): string {
  return html.replace("<head>", `<head>\n<meta name="automations-console-config" content="${escapeAttr(JSON.stringify(config))}">`);
}

export interface ConsoleRoutesOptions {
  /** dist/console of the project. */
  dir: string;
  config: ConsoleConfig;
}

/** A handler for the console's paths; null for any other path (the caller answers those). */
export function createConsoleRoutes(opts: ConsoleRoutesOptions): (req: Request) => Promise<Response | null> {
  const headers = securityHeaders(opts.config.url);
  const file = (name: string): Buffer | null => {
    const p = join(opts.dir, name);
    return existsSync(p) ? readFileSync(p) : null;
  };
  const missing = () =>
    new Response(`The console is not built: run \`npx tsx scripts/build_console.ts\` (npm start does it first).\n`, {
      status: 503,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  return async (req) => {
    const path = new URL(req.url).pathname;
    const page = PAGE_PATH.test(path);
    const asset = ASSET_PATH.exec(path);
    if (!page && !asset && path !== "/config.json") return null;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return errorResponse(methodNotAllowed("GET, HEAD"));
    }
    const body = (b: Buffer | string, type: string, cache: string) =>
      new Response(req.method === "HEAD" ? null : (b as BodyInit), {
        headers: { ...headers, "content-type": type, "cache-control": cache },
      });
    if (path === "/config.json") return body(JSON.stringify(opts.config), "application/json; charset=utf-8", "no-store");
    if (page) {
      const html = file("index.html");
      return html ? body(withConfig(html.toString("utf8"), opts.config), TYPES[".html"]!, "no-cache") : missing();
    }
    const name = asset![1]!;
    const data = name.startsWith(".") ? null : file(join("assets", name));
    if (!data) return errorResponse(notFound(`no asset ${name}`));
    // Chunks carry a content hash in their names; main.js and console.css do not.
    const hashed = /-[A-Z0-9]{8}\.js$/.test(name);
    return body(data, TYPES[extname(name)] ?? "application/octet-stream", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  };
}
