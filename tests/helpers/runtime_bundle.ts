// Run the bundle `npm start` runs (scripts/build_runtime.ts) as a child
// process, the way a user starts it, and wait until it says it is ready.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");

/** How long a start may take: a fresh PGlite applies every migration, ~15 s alone but minutes on a shared, loaded machine. */
export const READY_MS = 180_000;

/**
 * Spawn `node <bundle> ...args` with `env` over this process's environment;
 * every byte it prints goes to `onOutput`. Resolves once it printed
 * "Ctrl-C stops"; rejects with what it printed when it exits or takes longer
 * than READY_MS.
 */
export async function startRuntimeBundle(
  bundle: string,
  args: string[],
  env: Record<string, string>,
  onOutput: (chunk: string) => void,
): Promise<ChildProcess> {
  let seen = "";
  const child = spawn(process.execPath, ["--enable-source-maps", bundle, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const take = (d: Buffer) => {
    seen += String(d);
    onOutput(String(d));
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const end = Date.now() + READY_MS;
  while (!seen.includes("Ctrl-C stops")) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${seen}`);
    if (Date.now() > end) throw new Error(`npm start not ready in ${READY_MS / 1000} s:\n${seen}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}
