// Bundles an entry point of the local runtime into plain JavaScript, so the
// process runs on `node` alone instead of `node --import tsx`: tsx's loader
// thread costs about 30 MB of memory for the whole life of the process
// (docs/performance.md, "Memory"). `npm start` builds local/start.ts before
// it starts (package.json `prestart`); the bench builds its runtime child.
// Dependencies stay in node_modules (external); the embedded PGlite stays a
// separate chunk, loaded only when no DATABASE_URL is set. Without arguments
// (prestart) it also builds the run console the runtime serves at /
// (scripts/build_console.ts).
//   npx tsx scripts/build_runtime.ts [entry.ts] [outdir]
import { readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { projectRoot } from "../local/root.ts";
import { buildConsole } from "./build_console.ts";

const ROOT = projectRoot(import.meta.url);

/** Builds `entry` (relative to the project) into `outdir`; returns the bundle's path. */
export async function buildRuntime(entry = "local/start.ts", outdir = "dist/start"): Promise<string> {
  const out = join(ROOT, outdir);
  // Files are overwritten in place, not deleted first: a second `npm start`
  // building while the first is still loading its chunks writes the same
  // bytes. Chunks of an earlier build (other names) are removed afterwards.
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry)],
    outdir: out,
    entryNames: "[name]",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    logLevel: "warning",
    metafile: true,
  });
  const written = new Set(Object.keys(result.metafile.outputs).map((f) => resolve(ROOT, f)));
  for (const f of readdirSync(out)) {
    if (!written.has(join(out, f))) rmSync(join(out, f), { recursive: true, force: true });
  }
  return join(out, entry.replace(/^.*\//, "").replace(/\.ts$/, ".mjs"));
}

// Run as a script (not imported): build what the arguments name.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry, outdir] = process.argv.slice(2);
  await buildRuntime(entry, outdir);
  if (entry === undefined) await buildConsole();
}
