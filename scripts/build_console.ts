// Bundles the run console (console/, plain TypeScript + DOM) into
// dist/console: index.html, assets/main.js (+ lazily loaded chunks, e.g.
// supabase-js for the email sign-in) and assets/console.css. esbuild, the
// bundler `npm start` already uses; no frontend toolchain. Run by prestart
// (scripts/build_runtime.ts) and by `npm run console`.
//   npx tsx scripts/build_console.ts
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
    write: false,
  });
  // Each file is written beside its place and renamed into it: a runtime
  // serving the console meanwhile (another test file, a second `npm start`)
  // reads the old file or the new one, never half of one.
  const put = (path: string, data: Uint8Array | string) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  };
  for (const f of result.outputFiles) put(f.path, f.contents);
  put(join(out, "index.html"), readFileSync(join(ROOT, "console/index.html")));
  // Files of an earlier build with other names (old chunk hashes) go; others' temporary files stay.
  const written = new Set(result.outputFiles.map((f) => f.path));
  for (const f of readdirSync(assets)) {
    if (!written.has(join(assets, f)) && !f.endsWith(".tmp")) rmSync(join(assets, f), { force: true });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildConsole();
}
