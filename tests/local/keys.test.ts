// Local keys are this database's own: a random JWT secret generated on first
// start into a 0600 file beside the data directory (or one per DATABASE_URL),
// read back by the CLI; never the Supabase CLI's public demo secret; the
// environment still wins.
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localKeys, resolveLocalKeys } from "../../local/keys.ts";
import { loadOrCreateSecrets, secretsPath } from "../../local/secrets.ts";

const CLI_DEMO_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const parent = mkdtempSync(join(tmpdir(), "automations-keys-"));
const root = join(parent, "project");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

const embedded = (name: string) => ({ AUTOMATIONS_DATA_DIR: join(parent, name) });

describe("local keys", () => {
  it("first start generates a random secret in <data dir>.secrets.json with mode 0600; later starts and the CLI read the same", async () => {
    const env = embedded("a");
    const first = await resolveLocalKeys(env, root, { create: true });
    expect(first.created).toBe(true);
    expect(first.source).toBe(join(parent, "a.secrets.json"));
    expect(statSync(first.source).mode & 0o777).toBe(0o600);
    expect(first.jwtSecret).not.toBe(CLI_DEMO_SECRET);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    const demo = await localKeys(CLI_DEMO_SECRET);
    expect(first.serviceRoleKey).not.toBe(demo.serviceRoleKey);
    expect(first.anonKey).not.toBe(demo.anonKey);

    const again = await resolveLocalKeys(env, root, { create: true });
    expect(again).toMatchObject({ created: false, jwtSecret: first.jwtSecret, serviceRoleKey: first.serviceRoleKey });
    const cli = await resolveLocalKeys(env, root, { create: false });
    expect(cli.serviceRoleKey).toBe(first.serviceRoleKey);
  });

  it("another data directory gets other keys", async () => {
    const a = await resolveLocalKeys(embedded("a"), root, { create: true });
    const b = await resolveLocalKeys(embedded("b"), root, { create: true });
    expect(b.jwtSecret).not.toBe(a.jwtSecret);
    expect(b.serviceRoleKey).not.toBe(a.serviceRoleKey);
  });

  it("DATABASE_URL: one file per database (user, host, port, name), the password not part of it", () => {
    const at = (url: string) => secretsPath({ ...embedded("pglite"), DATABASE_URL: url }, root);
    const one = at("postgres://app:pw1@db.example:5432/prod");
    expect(one).toMatch(new RegExp(`^${parent}/db-[0-9a-f]{16}\\.secrets\\.json$`));
    expect(at("postgres://app:other@DB.example/prod")).toBe(one);
    expect(at("postgres://app:pw1@db.example:5432/staging")).not.toBe(one);
    expect(at("postgres://admin:pw1@db.example:5432/prod")).not.toBe(one);
    expect(at("postgres://app:pw1@db.example:6543/prod")).not.toBe(one);
  });

  it("two starts racing on a fresh directory end with one secret", () => {
    const file = join(parent, "race.secrets.json");
    const results = [loadOrCreateSecrets(file), loadOrCreateSecrets(file)];
    expect(results.map((r) => r.created)).toEqual([true, false]);
    expect(results[1]!.secrets.jwt_secret).toBe(results[0]!.secrets.jwt_secret);
  });

  it("a secrets file someone widened is narrowed back to 0600 when read", async () => {
    const env = embedded("wide");
    const { source } = await resolveLocalKeys(env, root, { create: true });
    chmodSync(source, 0o644);
    await resolveLocalKeys(env, root, { create: false });
    expect(statSync(source).mode & 0o777).toBe(0o600);
  });

  it("explicit environment wins: AUTOMATIONS_JWT_SECRET, then SUPABASE_JWT_SECRET; SUPABASE_SERVICE_ROLE_KEY / SUPABASE_ANON_KEY as given", async () => {
    const secret = "an-operator-chosen-secret-of-at-least-32-chars";
    const k = await resolveLocalKeys({ ...embedded("env"), AUTOMATIONS_JWT_SECRET: secret, SUPABASE_JWT_SECRET: "ignored-ignored-ignored-ignored-ignored" }, root, { create: true });
    expect(k).toMatchObject({ jwtSecret: secret, source: "AUTOMATIONS_JWT_SECRET", fromEnv: true, created: false });
    expect(k.serviceRoleKey).toBe((await localKeys(secret)).serviceRoleKey);
    expect(() => statSync(join(parent, "env.secrets.json"))).toThrow();
    const given = await resolveLocalKeys({ ...embedded("env"), SUPABASE_JWT_SECRET: secret, SUPABASE_SERVICE_ROLE_KEY: "svc", SUPABASE_ANON_KEY: "anon" }, root, { create: true });
    expect(given).toMatchObject({ jwtSecret: secret, source: "SUPABASE_JWT_SECRET", serviceRoleKey: "svc", anonKey: "anon" });
  });

  it("the CLI says how to get keys when none were generated, and a damaged file says to delete it", async () => {
    await expect(resolveLocalKeys(embedded("never-started"), root, { create: false })).rejects.toThrow(
      /no local keys at .*never-started\.secrets\.json: start the runtime once with `npm start`/,
    );
    writeFileSync(join(parent, "bad.secrets.json"), "{not json", { mode: 0o600 });
    await expect(resolveLocalKeys(embedded("bad"), root, { create: true })).rejects.toThrow(/is not valid JSON .*delete it to generate new local keys/);
    expect(readFileSync(join(parent, "bad.secrets.json"), "utf8")).toBe("{not json");
  });
});
