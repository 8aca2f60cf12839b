// Supabase Edge Function entrypoint: everything lives in shared/handlers/event.ts.
import { createEventHandler } from "../../shared/handlers/event.ts";
import { serveFunction } from "../../shared/runtime/edge.ts";

serveFunction(createEventHandler);
