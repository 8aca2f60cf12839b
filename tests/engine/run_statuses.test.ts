// RUN_STATUSES is the TypeScript copy of the run_status enum (RunStatus is
// derived from it): it must list the database's values, in the same order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_STATUSES } from "../../shared/engine/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

describe("RUN_STATUSES", () => {
  it("equals the run_status enum's values, in order", async () => {
    const rows = await t.db.query<{ value: string }>(
      "select e::text as value from unnest(enum_range(null::public.run_status)) with ordinality as u(e, n) order by n",
    );
    expect(rows.map((r) => r.value)).toEqual([...RUN_STATUSES]);
  });
});
