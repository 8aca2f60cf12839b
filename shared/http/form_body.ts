// application/x-www-form-urlencoded bodies (webhook senders such as Twilio
// and Slack post forms) as a JSON object: a key sent once is a string, a key
// sent several times an array of its values in order.
//
// Linear in the body: repeated values are pushed onto one array (copying it
// per repeat, `[...prev, v]`, made 20,000 repeats of one key take ~10 s).
// The number of fields is capped (as body-parser's parameterLimit does), so a
// member's signed form cannot make the engine carry tens of thousands of
// tiny values through every template and step.
import { HttpError } from "./errors.ts";

/** Most name=value fields one form body may hold. */
export const MAX_FORM_FIELDS = 1000;

export type FormObject = Record<string, string | string[]>;

export function parseFormBody(text: string, maxFields = MAX_FORM_FIELDS): FormObject {
  // A Map, not an object: a field named "__proto__" stays an ordinary key.
  const fields = new Map<string, string | string[]>();
  let count = 0;
  for (const [k, v] of new URLSearchParams(text)) {
    if (++count > maxFields) {
      throw new HttpError(
        413,
        "too_many_fields",
        `the form body has more than ${maxFields} fields: send at most ${maxFields} name=value pairs, or send JSON`,
      );
    }
    const prev = fields.get(k);
    if (prev === undefined) fields.set(k, v);
    else if (Array.isArray(prev)) prev.push(v);
    else fields.set(k, [prev, v]);
  }
  // fromEntries defines own properties, so "__proto__" is data, not a prototype.
  return Object.fromEntries(fields);
}
