// Where the project lives: migrations, seed and config are read from there.
// Found by walking up from the calling module, so the same code works from
// the TypeScript sources (local/, bench/) and from the bundles `npm start`
// and the bench build into dist/ (scripts/build_runtime.ts).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function projectRoot(fromUrl: string): string {
  const start = dirname(fileURLToPath(fromUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "supabase/migrations"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no supabase/migrations in ${start} or any directory above it`);
  }
}
