// Supabase Edge Function entrypoint: everything lives in shared/handlers/worker.ts.
import { createWorkerHandler } from "../../shared/handlers/worker.ts";
import { serveFunction } from "../../shared/runtime/edge.ts";

serveFunction(createWorkerHandler);
