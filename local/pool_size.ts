// The local runtime's pool for its HTTP handlers (with DATABASE_URL): two
// connections per CPU core, at least 4. The handlers' statements are short;
// more backends than that only take CPU from the worker's own connections
// (docs/performance.md: on 2 cores, pool 10 completed ~700 webhook runs/s
// during the load, pool 4 ~915, with the same number of requests accepted).
import { availableParallelism } from "node:os";

export const localPoolSize = (): number => Math.max(4, 2 * availableParallelism());
