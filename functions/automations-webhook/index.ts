// Supabase Edge Function entrypoint: everything lives in shared/handlers/webhook.ts.
import { createWebhookHandler } from "../../shared/handlers/webhook.ts";
import { serveFunction } from "../../shared/runtime/edge.ts";

serveFunction(createWebhookHandler);
