// Bundles the run console (console/, plain TypeScript + DOM) into
// dist/console: index.html, assets/main.js (+ lazily loaded chunks, e.g.
// supabase-js for the email sign-in) and assets/console.css. esbuild, the
// bundler `npm start` already uses; no frontend toolchain. Run by prestart
// (scripts/build_runtime.ts) and by `npm run console`.
//   npx tsx scripts/build_console.ts
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { projectRoot } from "../local/root.ts";

const ROOT = projectRoot(import.meta.url);

/** Builds the console into `outdir` (relative to the project); returns its absolute path. */
export async function buildConsole(outdir = "dist/console"): Promise<string> {
  const out = join(ROOT, outdir);
  const assets = join(out, "assets");
  mkdirSync(assets, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, "console/main.ts"), console: join(ROOT, "console/console.css") },
    outdir: assets,
    entryNames: "[name]",
    chunkNames: "[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome111", "firefox113", "safari16.4"],
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
    metafile: true,
  });
  copyFileSync(join(ROOT, "console/index.html"), join(out, "index.html"));
  // Files of an earlier build with other names (old chunk hashes) go.
  const written = new Set(Object.keys(result.metafile.outputs).map((f) => resolve(ROOT, f)));
  for (const f of readdirSync(assets)) {
    if (!written.has(join(assets, f))) rmSync(join(assets, f), { force: true });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildConsole();
}
