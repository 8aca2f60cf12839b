// Supabase Edge Function entrypoint: everything lives in shared/handlers/api.ts.
import { createApiHandler } from "../../shared/handlers/api.ts";
import { serveFunction } from "../../shared/runtime/edge.ts";

serveFunction(createApiHandler);
