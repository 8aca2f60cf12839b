// `npm run schema`: rebuild supabase/schema.sql on a throwaway PostgreSQL 15
// cluster (template database as `npm test` builds it, then pg_dump).
import { startCluster, stopOnExit } from "./pg_cluster.ts";
import { dumpSchema, readSchemaFile, SCHEMA_FILE, writeSchemaFile } from "./schema_dump.ts";
import { buildTemplate } from "./template_db.ts";

async function main() {
  const cluster = await startCluster();
  stopOnExit(cluster);
  const { url } = buildTemplate(cluster.url(), "automations_schema");
  const text = dumpSchema(url);
  if (readSchemaFile() === text) {
    console.log(`${SCHEMA_FILE} is up to date`);
  } else {
    writeSchemaFile(text);
    console.log(`wrote ${SCHEMA_FILE} (${text.split("\n").length} lines)`);
  }
  cluster.stop();
}

main().catch((err: unknown) => {
  console.error(`npm run schema failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
