// Supabase Edge Function entrypoint: everything lives in shared/handlers/run.ts.
import { createRunHandler } from "../../shared/handlers/run.ts";
import { serveFunction } from "../../shared/runtime/edge.ts";

serveFunction(createRunHandler);
