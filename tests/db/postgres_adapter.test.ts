// The postgres.js adapter prepares parameterised statements (one round trip
// and a cached plan per statement and connection) unless told not to, as it
// must be behind Supabase's transaction pooler. sql.unsafe() does not prepare
// by default, which once cost every engine query two round trips unnoticed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../shared/db/postgres.ts";
import { behindPooler, dbFromUrl } from "../../shared/runtime/env.ts";
import type { Db } from "../../shared/db/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ max: 1 });
});
afterAll(() => t.drop());

/** Statements this session has prepared whose text contains `marker`. */
async function preparedWith(db: Db, marker: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "select count(*)::int as n from pg_prepared_statements where strpos(statement, $1) > 0",
    [marker],
  );
  return row!.n;
}

describe("postgres.js adapter", () => {
  it("prepares parameterised statements by default, also inside transactions", async () => {
    const db = createPostgresDb(t.url, { max: 1 });
    try {
      await db.query("select $1::int + 1 as prepared_probe_a", [1]);
      await db.query("select $1::int + 1 as prepared_probe_a", [2]);
      await db.transaction((tx) => tx.query("select $1::int + 2 as prepared_probe_b", [1]));
      expect(await preparedWith(db, "prepared_probe_a")).toBe(1);
      expect(await preparedWith(db, "prepared_probe_b")).toBe(1);
    } finally {
      await db.close?.();
    }
  });

  it("prepares nothing with prepare: false (the transaction pooler)", async () => {
    const db = createPostgresDb(t.url, { max: 1, prepare: false });
    try {
      await db.query("select $1::int + 1 as unprepared_probe", [1]);
      await db.transaction((tx) => tx.query("select $1::int + 1 as unprepared_probe", [1]));
      expect(await preparedWith(db, "unprepared_probe")).toBe(0);
      expect(await db.query<{ x: number }>("select $1::int * 2 as x", [21])).toEqual([{ x: 42 }]);
    } finally {
      await db.close?.();
    }
  });

  it("turns preparing off for Supabase pooler URLs only", async () => {
    expect(behindPooler("postgres://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres")).toBe(true);
    expect(behindPooler("postgres://u:p@db.example.internal:6543/postgres")).toBe(true);
    expect(behindPooler("postgres://u:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres")).toBe(true);
    expect(behindPooler("postgres://u:p@db.abcd.supabase.co:5432/postgres")).toBe(false);
    expect(behindPooler(t.url)).toBe(false);
    const direct = dbFromUrl(t.url, 1);
    try {
      await direct.query("select $1::int as direct_probe", [1]);
      expect(await preparedWith(direct, "direct_probe")).toBe(1);
    } finally {
      await direct.close?.();
    }
  });
});
