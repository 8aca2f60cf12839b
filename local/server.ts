// Serve the function handlers the way Supabase does locally:
// http://127.0.0.1:54321/functions/v1/<name>[/...]. Node's http server,
// adapted to the Fetch API Request/Response the handlers speak. Every path
// first passes the Host check (local/host_guard.ts: DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { errorResponse, notFound as notFoundError } from "../shared/http/errors.ts";
import type { Handler } from "../shared/http/route.ts";
import { checkHost, LOOPBACK_HOSTS } from "./host_guard.ts";

export type Routes = Record<string, Handler>;

function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v !== undefined) headers.set(k, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // Node's fetch needs this to stream a request body.
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    headers[k] = k === "set-cookie" ? response.headers.getSetCookie() : v;
  });
  res.writeHead(response.status, headers);
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

const notFound = (name: string) => errorResponse(notFoundError(`no function named "${name}"`));

export interface ServerOptions {
  /** Host names answered (allowedHosts(env)); loopback names only by default. */
  allowedHosts?: readonly string[];
}

/** Route /functions/v1/<name>/... to routes[name]; `extra` handles any other path (e.g. /_local). */
export function createFunctionsServer(routes: Routes, extra?: (req: Request) => Promise<Response | null>, opts: ServerOptions = {}): Server {
  const allowed = opts.allowedHosts ?? LOOPBACK_HOSTS;
  return createServer((req, res) => {
    const refused = checkHost(req.headers.host, allowed);
    if (refused) {
      // The body is not read: the request goes no further than this.
      res.writeHead(refused.status, { "content-type": "application/json", connection: "close" });
      res.end(refused.body);
      return;
    }
    const origin = `http://${req.headers.host}`;
    void (async () => {
      try {
        const request = toRequest(req, origin);
        const path = new URL(request.url).pathname;
        const m = /^\/functions\/v1\/([^/]+)/.exec(path);
        let response: Response | null = null;
        if (m) response = routes[m[1]!] ? await routes[m[1]!]!(request) : notFound(m[1]!);
        else if (extra) response = await extra(request);
        await send(res, response ?? notFound(path));
      } catch (err) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "internal", message: String(err) } }));
      }
    })();
  });
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(new Error(`port ${port} on ${host} is already in use: stop the other process or start with PORT=<free port>`));
      } else reject(err);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
