// Test helpers for actions: an ActionContext with safe defaults, a logger
// that records lines, and a loopback HTTP server that records requests.
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ActionContext } from "../../shared/engine/action_contract.ts";
import type { Db } from "../../shared/db/types.ts";
import type { LogFields, Logger } from "../../shared/logger.ts";
import type { Settings } from "../../shared/settings.ts";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields?: LogFields;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Settings for tests: loopback allowed (the local servers), no email provider, short limits. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    allowPrivateNetwork: true,
    email: null,
    webhook: { defaultTimeoutMs: 5_000, maxTimeoutMs: 10_000, maxResponseBytes: 64 * 1024, maxRedirects: 3 },
    templates: { maxOutputChars: 1_048_576 },
    ...overrides,
  };
}

/** A Db that fails loudly: for actions that must not touch the database. */
const refuse = () => Promise.reject(new Error("this test must not query the database"));
export const noDb: Db = { query: refuse, exec: refuse, transaction: refuse };

export const FIXED_NOW = new Date("2026-01-15T12:00:00.000Z");

export function makeContext(overrides: Partial<ActionContext> = {}): ActionContext & { logger: ReturnType<typeof recordingLogger> } {
  const runId = overrides.runId ?? randomUUID();
  const stepIndex = overrides.stepIndex ?? 0;
  return {
    db: noDb,
    orgId: randomUUID(),
    automationId: randomUUID(),
    runId,
    stepIndex,
    attempt: 1,
    idempotencyKey: `${runId}:${stepIndex}`,
    fetch: globalThis.fetch,
    now: () => FIXED_NOW,
    settings: testSettings(),
    signal: new AbortController().signal,
    ...overrides,
    logger: recordingLogger(),
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 (never another address). The handler gets the
 * request with its body already read; requests are recorded in order.
 */
export async function startServer(
  handler: (req: RecordedRequest, res: ServerResponse) => void | Promise<void>,
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const body = new TextDecoder().decode(Buffer.concat(chunks));
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((e: unknown) => {
        res.statusCode = 500;
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
