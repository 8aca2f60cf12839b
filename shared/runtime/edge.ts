// The composition root of every edge function: build deps from Deno.env on
// the first request, serve the handler, and after an enqueue drain the queue
// in the background with EdgeRuntime.waitUntil so a run starts at once rather
// than at the next worker tick.
import type { Handler } from "../http/route.ts";
import { Worker } from "../engine/worker.ts";
import type { AppDeps } from "./deps.ts";
import { depsFromEnv } from "./env.ts";
import { DEFAULT_MAX_RUNS } from "../handlers/worker.ts";

interface DenoLike {
  env: { toObject(): Record<string, string> };
  serve(
    options: { port?: number; hostname?: string; onListen?: (addr: { port: number }) => void },
    handler: (req: Request) => Response | Promise<Response>,
  ): unknown;
}
interface EdgeRuntimeLike {
  waitUntil(p: Promise<unknown>): void;
}

/** How long a background drain may run after answering (Edge Functions allow ~150 s wall clock). */
const KICK_BUDGET_MS = 20_000;

export function serveFunction(factory: (deps: AppDeps) => Handler): void {
  const g = globalThis as unknown as { Deno?: DenoLike; EdgeRuntime?: EdgeRuntimeLike };
  if (!g.Deno) throw new Error("serveFunction runs on Deno / Supabase Edge Runtime; in Node use the local runtime");
  const env = g.Deno.env.toObject();
  let handler: Handler | null = null;
  let draining: Promise<unknown> | null = null;
  let deps: AppDeps;

  const kick = () => {
    if (draining || !g.EdgeRuntime) return; // one background drain per isolate is enough
    const worker = new Worker({ ...deps, concurrency: 4 });
    // Same CPU budget as a worker call (the isolate's request pays for it).
    draining = worker.drain(KICK_BUDGET_MS, DEFAULT_MAX_RUNS).finally(() => (draining = null));
    g.EdgeRuntime.waitUntil(draining);
  };

  // The Edge Runtime decides where to listen; plain `deno run` (tests,
  // self-hosting) may pick with AUTOMATIONS_FUNCTION_PORT.
  const port = env.AUTOMATIONS_FUNCTION_PORT ? Number(env.AUTOMATIONS_FUNCTION_PORT) : undefined;
  const options = port === undefined ? {} : { port, hostname: "127.0.0.1" };
  g.Deno.serve(options, (req) => {
    if (!handler) {
      deps = depsFromEnv(env, { kick });
      handler = factory(deps);
    }
    return handler(req);
  });
}
