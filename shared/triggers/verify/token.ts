// token: a shared secret sent as it is, for form tools and others that cannot
// sign: in a header (`header`; for "authorization" as "Bearer <secret>") or in
// a query parameter (`query`). Compared in constant time. Nothing is signed,
// so without `id_header` an identical body is one run (its hash is the key).
import { headerKey, rejected, textEqual, type Scheme } from "./common.ts";
import { unauthorized } from "../../http/errors.ts";

export interface TokenOptions {
  header?: string;
  query?: string;
  id_header?: string;
}

export const token: Scheme<TokenOptions> = {
  headers: [],
  verify(req, secrets, o) {
    let sent: string | null;
    let where: string;
    if (o.query) {
      where = `query parameter "${o.query}"`;
      sent = req.url.searchParams.get(o.query);
      if (!sent) throw unauthorized(`${where}: missing; add ?${o.query}=<the automation's secret> to the URL`);
    } else {
      const header = o.header!.toLowerCase();
      where = header;
      sent = req.headers.get(header)?.trim() || null;
      const bearer = header === "authorization";
      const hint = bearer ? 'send "Authorization: Bearer <the automation\'s secret>"' : `send the automation's secret in ${header}`;
      if (!sent) throw rejected(header, "missing", hint);
      if (bearer) {
        const m = /^Bearer\s+(\S+)$/i.exec(sent);
        if (!m) throw rejected(header, "malformed", hint);
        sent = m[1]!;
      }
    }
    let ok = false;
    for (const s of secrets) ok = textEqual(sent, s) || ok;
    if (!ok) {
      throw o.query
        ? unauthorized(`${where}: mismatch; it is not the automation's secret`)
        : rejected(where, "mismatch", "it is not the automation's secret");
    }
    return { key: headerKey(req, o.id_header, "token"), signed: req.raw };
  },
};
