// Supabase Edge Function entrypoint: everything lives in shared/handlers/schedule_tick.ts.
import { createScheduleTickHandler } from "../../shared/handlers/schedule_tick.ts";
import { serveFunction } from "../../shared/runtime/edge.ts";

serveFunction(createScheduleTickHandler);
