// Everything a handler may use, built once by the entrypoint (edge function
// or local runtime) and passed in. Nothing below creates its own.
import type { Db } from "../db/types.ts";
import type { ActionDefinition } from "../engine/action_contract.ts";
import type { AuthConfig } from "../http/auth_config.ts";
import type { Logger } from "../logger.ts";
import type { Settings } from "../settings.ts";

export interface AppDeps {
  db: Db;
  settings: Settings;
  logger: Logger;
  now: () => Date;
  fetch: typeof fetch;
  auth: AuthConfig;
  getAction: (type: string) => ActionDefinition<unknown> | undefined;
  /** Start executing soon after an enqueue: wake the local worker, or EdgeRuntime.waitUntil(drain). */
  kick: () => void;
  /** Lease length for claimed runs, seconds. */
  leaseSeconds: number;
  /** A worker silent this long (no heartbeat) is dead and its runs are released, seconds (AUTOMATIONS_WORKER_TIMEOUT_SECONDS, default 10). */
  workerTimeoutSeconds?: number;
  /** Largest webhook/event body accepted, bytes. */
  maxBodyBytes: number;
}
