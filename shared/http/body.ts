// Read a request body without trusting Content-Length: stream it and stop at
// the limit, so an oversized body costs at most `limit` bytes of memory.
import { badRequest, payloadTooLarge } from "./errors.ts";

export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw payloadTooLarge(limit);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });

/**
 * Deepest nesting a JSON body may have. Payloads are stored and later walked
 * recursively (JSON.stringify, zod, templates, filters); V8 overflows its stack
 * near 10,000 levels, so a deeper body would be a 500 instead of a 400.
 * Real webhook and event payloads nest fewer than 20 levels.
 */
export const MAX_JSON_DEPTH = 100;

/** JSON.parse for request bodies: invalid or too deeply nested JSON is a 400 that says which. */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  // One pass over the text before parsing: brackets outside strings.
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > maxDepth) throw badRequest(`body is not valid JSON: nested more than ${maxDepth} levels deep`, "invalid_json");
    } else if (c === 93 || c === 125) depth--;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`body is not valid JSON: ${(e as Error).message}`, "invalid_json");
  }
}
