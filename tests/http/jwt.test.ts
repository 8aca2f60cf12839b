// User JWT verification: HS256 with the project secret, RS256/ES256 through a
// JWKS served over real HTTP, and a clear 401 for each way a token is wrong.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserJwtVerifier } from "../../shared/http/jwt.ts";
import { anonKeyJwt, signJwt, TEST_AUTH } from "../helpers/app_deps.ts";

const SUB = "6c5a3c53-5e8f-4a7e-9d6e-0c6c1e0b7a11";

function req(authorization?: string): Request {
  const headers = new Headers();
  if (authorization !== undefined) headers.set("authorization", authorization);
  return new Request("http://127.0.0.1:54321/functions/v1/automations-run", { method: "POST", headers });
}
const bearer = (t: string) => req(`Bearer ${t}`);

describe("HS256 (SUPABASE_JWT_SECRET)", () => {
  const verify = createUserJwtVerifier({ jwtSecret: TEST_AUTH.jwtSecret });

  it("accepts a valid user token and returns its claims", async () => {
    const claims = await verify(bearer(await signJwt({ sub: SUB, email: "a@example.test" })));
    expect(claims).toMatchObject({ sub: SUB, role: "authenticated", aud: "authenticated", email: "a@example.test" });
  });

  it("rejects an expired token and says when it expired", async () => {
    const token = await signJwt({ sub: SUB }, { expiresInSec: -120 });
    const exp = new Date((Math.floor(Date.now() / 1000) - 120) * 1000).toISOString().slice(0, 16);
    await expect(verify(bearer(token))).rejects.toMatchObject({ status: 401, message: expect.stringContaining(`token expired at ${exp}`) });
  });

  it("judges expiry by the injected clock", async () => {
    const token = await signJwt({ sub: SUB }, { expiresInSec: 60 });
    const later = createUserJwtVerifier({ jwtSecret: TEST_AUTH.jwtSecret }, { now: () => new Date(Date.now() + 120_000) });
    await expect(later(bearer(token))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("expired") });
  });

  it("rejects a token signed with another secret", async () => {
    const token = await signJwt({ sub: SUB }, { secret: "another-projects-secret-with-at-least-32-chars" });
    await expect(verify(bearer(token))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("bad signature") });
  });

  it("rejects a tampered payload", async () => {
    const [h, , s] = (await signJwt({ sub: SUB })).split(".");
    const forged = Buffer.from(JSON.stringify({ sub: SUB, role: "authenticated", exp: 9_999_999_999, is_admin: true })).toString("base64url");
    await expect(verify(bearer(`${h}.${forged}.${s}`))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("bad signature") });
  });

  it("tells a client using the anon key to sign in", async () => {
    await expect(verify(bearer(await anonKeyJwt()))).rejects.toMatchObject({
      status: 401,
      message: "sign in first: the anon key is not a user",
    });
  });

  it("rejects other roles (service_role) and tokens without a role", async () => {
    await expect(verify(bearer(await signJwt({ sub: SUB, role: "service_role" })))).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('role is "service_role"'),
    });
    await expect(verify(bearer(await signJwt({ sub: SUB }, { omit: ["role"] })))).rejects.toMatchObject({ status: 401 });
  });

  it("requires sub and exp, and the authenticated audience when aud is present", async () => {
    await expect(verify(bearer(await signJwt({}, { omit: ["sub"] })))).rejects.toMatchObject({ message: expect.stringContaining("sub") });
    await expect(verify(bearer(await signJwt({ sub: SUB }, { omit: ["exp"] })))).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("exp is missing"),
    });
    await expect(verify(bearer(await signJwt({ sub: SUB, aud: "other" })))).rejects.toMatchObject({ message: expect.stringContaining("audience") });
    await expect(verify(bearer(await signJwt({ sub: SUB }, { omit: ["aud"] })))).resolves.toMatchObject({ sub: SUB });
  });

  it("explains a missing or malformed Authorization header", async () => {
    await expect(verify(req())).rejects.toMatchObject({ status: 401, message: expect.stringContaining("missing Authorization header") });
    await expect(verify(req("Basic dXNlcjpwYXNz"))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("malformed Authorization header") });
    await expect(verify(bearer("not-a-jwt"))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("malformed token") });
  });

  it("refuses unsigned (alg none) tokens and asymmetric ones without a JWKS", async () => {
    const none = new UnsecuredJWT({ sub: SUB, role: "authenticated" }).setExpirationTime("1h").encode();
    await expect(verify(bearer(none))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("unsupported token algorithm none") });
    const { privateKey } = await generateKeyPair("RS256");
    const rs = await new SignJWT({ sub: SUB, role: "authenticated" }).setProtectedHeader({ alg: "RS256" }).setExpirationTime("1h").sign(privateKey);
    await expect(verify(bearer(rs))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("JWKS URL is not configured") });
  });
});

describe("asymmetric keys through the project's JWKS", () => {
  let server: Server;
  let url: string;
  let hits = 0;
  let rsa: { privateKey: CryptoKey; jwk: JWK };
  let ec: { privateKey: CryptoKey; jwk: JWK };

  async function keyPair(alg: "RS256" | "ES256", kid: string) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
  }

  beforeAll(async () => {
    rsa = await keyPair("RS256", "rsa-1");
    ec = await keyPair("ES256", "ec-1");
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/v1/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (key: CryptoKey, alg: string, kid: string, claims: Record<string, unknown> = {}, exp: string | number = "1h") =>
    new SignJWT({ sub: SUB, role: "authenticated", aud: "authenticated", ...claims })
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key);

  it("verifies RS256 and ES256 tokens, fetching the key set once per verifier", async () => {
    const verify = createUserJwtVerifier({ jwksUrl: url, jwtSecret: TEST_AUTH.jwtSecret });
    const before = hits;
    await expect(verify(bearer(await sign(rsa.privateKey, "RS256", "rsa-1")))).resolves.toMatchObject({ sub: SUB });
    await expect(verify(bearer(await sign(ec.privateKey, "ES256", "ec-1")))).resolves.toMatchObject({ sub: SUB });
    await expect(verify(bearer(await sign(rsa.privateKey, "RS256", "rsa-1")))).resolves.toMatchObject({ sub: SUB });
    expect(hits - before).toBe(1);
    // HS256 tokens still work next to the JWKS (projects migrating keys).
    await expect(verify(bearer(await signJwt({ sub: SUB })))).resolves.toMatchObject({ sub: SUB });
  });

  it("rejects a token signed by a key outside the JWKS, expired ones, and anon", async () => {
    const verify = createUserJwtVerifier({ jwksUrl: url });
    const stranger = await keyPair("RS256", "rsa-1");
    await expect(verify(bearer(await sign(stranger.privateKey, "RS256", "rsa-1")))).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("bad signature"),
    });
    const unknownKid = await keyPair("ES256", "ec-unknown");
    await expect(verify(bearer(await sign(unknownKid.privateKey, "ES256", "ec-unknown")))).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("no key in the project's JWKS"),
    });
    const past = Math.floor(Date.now() / 1000) - 60;
    await expect(verify(bearer(await sign(rsa.privateKey, "RS256", "rsa-1", {}, past)))).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("token expired at"),
    });
    await expect(verify(bearer(await sign(ec.privateKey, "ES256", "ec-1", { role: "anon" })))).rejects.toMatchObject({
      message: "sign in first: the anon key is not a user",
    });
    // Only the JWKS is configured: HS256 is refused, not checked against a public key.
    await expect(verify(bearer(await signJwt({ sub: SUB })))).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("set AUTOMATIONS_JWT_SECRET"),
    });
  });

  it("answers 503, not 401, when the JWKS cannot be fetched", async () => {
    // A port that was just free: nothing listens there.
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, "127.0.0.1", r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const down = `http://127.0.0.1:${port}/jwks.json`;
    const verify = createUserJwtVerifier({ jwksUrl: down });
    await expect(verify(bearer(await sign(rsa.privateKey, "RS256", "rsa-1")))).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining("could not load the project's signing keys"),
    });
  });

  it("fetches the JWKS through the injected fetch", async () => {
    const seen: string[] = [];
    const verify = createUserJwtVerifier({ jwksUrl: url }, { fetch: (u, init) => (seen.push(String(u)), fetch(u, init)) });
    await expect(verify(bearer(await sign(ec.privateKey, "ES256", "ec-1")))).resolves.toMatchObject({ sub: SUB });
    expect(seen).toEqual([url]);
  });
});
