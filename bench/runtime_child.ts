// The local runtime in its own process, so its memory (VmHWM) and CPU are
// measured without the load generator's. Started by bench/runtime_proc.ts
// with DATABASE_URL + PORT; prints "READY <url>" when serving; stops on
// SIGTERM, when the parent goes away (IPC disconnect), or after
// BENCH_CHILD_MAX_SECONDS whatever happens.
import { startRuntime } from "../local/runtime.ts";
import { ROOT } from "./env.ts";

const maxSeconds = Number(process.env.BENCH_CHILD_MAX_SECONDS ?? 600);
const rt = await startRuntime({ env: process.env, root: ROOT });
process.stdout.write(`READY ${rt.url}\n`);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await Promise.race([rt.stop(), new Promise((r) => setTimeout(r, 15_000))]);
  process.exit(code);
}
process.on("SIGTERM", () => void stop(0));
// The parent asks where the memory is (V8 heap vs the rest).
process.on("message", (m) => {
  if (m === "memoryUsage") process.send?.({ memoryUsage: process.memoryUsage() });
});
process.on("disconnect", () => void stop(0));
setTimeout(() => void stop(3), maxSeconds * 1000).unref();
