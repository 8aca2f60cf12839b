// Templates are pure: these tests need no database.
import { describe, expect, it, vi } from "vitest";
import {
  DEFAULT_TEMPLATE_OUTPUT,
  findTemplateErrors,
  MAX_PLACEHOLDERS,
  MAX_TEMPLATE_LENGTH,
  parseTemplates,
  resolveTemplates,
  type TemplateContext,
  TemplateError,
} from "../../shared/engine/expressions/templates.ts";

const fetchStep = { output: { status: 200, body: { id: "abc", tags: ["x"] } }, status: "completed" };
// The engine builds steps on a null-prototype object, keyed by position and name.
const steps = Object.assign(Object.create(null) as Record<string, { output: unknown }>, { "0": fetchStep, fetch: fetchStep });

function context(payload: unknown = {
  status: "won",
  amount: 1200,
  ratio: 0.5,
  ok: true,
  off: false,
  nothing: null,
  customer: { name: "Ada", email: "ada@example.com" },
  items: [{ name: "a", qty: 2 }, { name: "b" }],
  empty: [],
  "key with spaces": "spaced",
  'say "hi"': "quoted",
  "content-type": "application/json",
  名前: "名",
  nested: { deep: { deeper: [1, [2, 3]] } },
}): TemplateContext {
  return {
    trigger: { type: "webhook", payload },
    steps,
    run: { id: "run-1" },
    automation: { id: "auto-1", name: "Deal won" },
    org: { id: "org-1" },
  };
}

const ctx = context();
const resolve = (config: unknown, options?: { missing?: "error" | "empty" }) => resolveTemplates(config, ctx, options);

/** The TemplateError thrown by `fn`, or a failed expectation. */
function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error("expected a TemplateError");
}
const messageOf = (config: unknown) => templateError(() => resolve(config)).message;

describe("whole-value placeholders keep their JSON type", () => {
  it.each([
    ["{{trigger.payload.amount}}", 1200],
    ["{{trigger.payload.ratio}}", 0.5],
    ["{{trigger.payload.ok}}", true],
    ["{{trigger.payload.off}}", false],
    ["{{trigger.payload.nothing}}", null],
    ["{{trigger.payload.status}}", "won"],
    ["{{trigger.payload.empty}}", []],
    ["{{trigger.payload.items}}", [{ name: "a", qty: 2 }, { name: "b" }]],
    ["{{trigger.payload.customer}}", { name: "Ada", email: "ada@example.com" }],
    ["{{   trigger.payload.amount   }}", 1200],
    ["{{\ttrigger.payload.amount\n}}", 1200],
  ])("%s", (template, expected) => {
    expect(resolve(template)).toEqual(expected);
  });

  it("copies objects so the action cannot change the context", () => {
    const out = resolve({ body: "{{trigger.payload.customer}}" }) as { body: { name: string } };
    out.body.name = "changed";
    expect((ctx.trigger.payload as { customer: { name: string } }).customer.name).toBe("Ada");
  });

  it("treats whitespace outside the braces as text", () => {
    expect(resolve(" {{trigger.payload.amount}}")).toBe(" 1200");
    expect(resolve("{{trigger.payload.amount}} ")).toBe("1200 ");
  });
});

describe("embedded placeholders are stringified", () => {
  it.each([
    ["Deal {{trigger.payload.status}} for {{ trigger.payload.amount }}", "Deal won for 1200"],
    ["ok={{trigger.payload.ok}}, off={{trigger.payload.off}}", "ok=true, off=false"],
    ["[{{trigger.payload.nothing}}]", "[]"],
    ["c={{trigger.payload.customer}}", 'c={"name":"Ada","email":"ada@example.com"}'],
    ["i={{trigger.payload.items}}", 'i=[{"name":"a","qty":2},{"name":"b"}]'],
    ["{{trigger.payload.status}}{{trigger.payload.status}}", "wonwon"],
    ["{{run.id}}/{{automation.id}}/{{org.id}}/{{automation.name}}/{{trigger.type}}", "run-1/auto-1/org-1/Deal won/webhook"],
  ])("%s", (template, expected) => {
    expect(resolve(template)).toBe(expected);
  });

  it("renders dates as ISO strings", () => {
    const c = { ...ctx, run: { id: "r", created_at: new Date("2024-05-01T10:00:00Z") } };
    expect(resolveTemplates("at {{run.created_at}}", c)).toBe("at 2024-05-01T10:00:00.000Z");
  });
});

describe("walking a config", () => {
  it("resolves strings at any depth and leaves keys and other values alone", () => {
    const config = {
      url: "https://example.com/deals/{{steps.fetch.output.body.id}}",
      method: "POST",
      timeout_ms: 5000,
      retry: false,
      nothing: null,
      "{{trigger.payload.status}}": "key is not templated",
      headers: { "X-Amount": "{{trigger.payload.amount}}" },
      body: { list: ["{{trigger.payload.items[0].name}}", ["{{trigger.payload.amount}}", 7]], who: "{{trigger.payload.customer}}" },
    };
    const before = structuredClone(config);
    expect(resolve(config)).toEqual({
      url: "https://example.com/deals/abc",
      method: "POST",
      timeout_ms: 5000,
      retry: false,
      nothing: null,
      "{{trigger.payload.status}}": "key is not templated",
      headers: { "X-Amount": 1200 },
      body: { list: ["a", [1200, 7]], who: { name: "Ada", email: "ada@example.com" } },
    });
    expect(config).toEqual(before);
  });

  it("passes through non-string roots", () => {
    for (const v of [null, 3, true, [], {}]) expect(resolve(v)).toEqual(v);
  });
});

describe("paths", () => {
  it.each([
    ["{{steps.fetch.output.status}}", 200],
    ["{{steps.0.output.status}}", 200],
    ["{{steps[0].output.body.id}}", "abc"],
    ['{{steps["fetch"].output.body.tags[0]}}', "x"],
    ["{{steps.0.status}}", "completed"],
    ["{{trigger.payload.items[1].name}}", "b"],
    ["{{trigger.payload.items.0.qty}}", 2],
    ["{{trigger.payload.nested.deep.deeper[1][0]}}", 2],
    ['{{trigger.payload["key with spaces"]}}', "spaced"],
    ["{{trigger.payload['key with spaces']}}", "spaced"],
    ['{{trigger.payload["say \\"hi\\""]}}', "quoted"],
    ["{{trigger.payload.content-type}}", "application/json"],
    ["{{trigger.payload.名前}}", "名"],
    ['{{ trigger["payload"].status }}', "won"],
  ])("%s", (template, expected) => {
    expect(resolve(template)).toEqual(expected);
  });

  it("renders unicode text around placeholders untouched", () => {
    expect(resolve("こんにちは {{trigger.payload.名前}} 🎉 {{trigger.payload.customer.name}}")).toBe("こんにちは 名 🎉 Ada");
  });
});

describe("missing paths", () => {
  it("names the placeholder and the missing segment", () => {
    const c = context({ status: "won" });
    const err = templateError(() => resolveTemplates({ to: "{{trigger.payload.customer.email}}" }, c));
    expect(err.message).toBe('{{trigger.payload.customer.email}}: "customer" is not present in trigger.payload');
    expect(err.code).toBe("template_missing");
    expect(err.configPath).toBe("$.to");
    expect(err.placeholder).toBe("{{trigger.payload.customer.email}}");
  });

  it.each([
    ["{{steps.send.output.id}}", '{{steps.send.output.id}}: "send" is not present in steps'],
    ["{{steps[3].output}}", '{{steps[3].output}}: "3" is not present in steps'],
    ["{{ steps.0.output.nope }}", '{{ steps.0.output.nope }}: "nope" is not present in steps.0.output'],
    ["x {{trigger.payload.customer.phone}} y", '{{trigger.payload.customer.phone}}: "phone" is not present in trigger.payload.customer'],
    [
      "{{trigger.payload.items[5].name}}",
      '{{trigger.payload.items[5].name}}: "5" is not present in trigger.payload.items (trigger.payload.items is an array of 2 items)',
    ],
    [
      "{{trigger.payload.items.first}}",
      '{{trigger.payload.items.first}}: "first" is not present in trigger.payload.items (trigger.payload.items is an array; use a position like [0])',
    ],
    [
      "{{trigger.payload.status.length}}",
      '{{trigger.payload.status.length}}: "length" is not present in trigger.payload.status (trigger.payload.status is a string)',
    ],
    [
      "{{trigger.payload.nothing.x}}",
      '{{trigger.payload.nothing.x}}: "x" is not present in trigger.payload.nothing (trigger.payload.nothing is null)',
    ],
    // Inherited members are not data: only own properties are read.
    ["{{trigger.payload.toString}}", '{{trigger.payload.toString}}: "toString" is not present in trigger.payload'],
    ["{{trigger.payload.hasOwnProperty}}", '{{trigger.payload.hasOwnProperty}}: "hasOwnProperty" is not present in trigger.payload'],
    ["{{trigger.payload.items.length}}", '{{trigger.payload.items.length}}: "length" is not present in trigger.payload.items (trigger.payload.items is an array; use a position like [0])'],
  ])("%s", (template, message) => {
    expect(messageOf(template)).toBe(message);
  });

  it("says when the context itself lacks a root", () => {
    const c = { ...ctx, run: undefined } as unknown as TemplateContext;
    expect(templateError(() => resolveTemplates("{{run.id}}", c)).message).toBe('{{run.id}}: "run" is not present in the context');
  });

  it('renders as null (whole) or "" (embedded) with missing: "empty"', () => {
    const out = resolve({ a: "{{trigger.payload.nope}}", b: "x{{trigger.payload.nope.deeper}}y", c: ["{{steps.later.output}}"] }, { missing: "empty" });
    expect(out).toEqual({ a: null, b: "xy", c: [null] });
  });

  it('still rejects bad syntax with missing: "empty"', () => {
    expect(() => resolve("{{ 1+1 }}", { missing: "empty" })).toThrow(TemplateError);
    expect(() => resolve("{{user.email}}", { missing: "empty" })).toThrow(/unknown root "user"/);
  });
});

describe("syntax", () => {
  it.each([
    ["{{", "{{: unclosed placeholder; close it with }} or write \\{{ for literal braces"],
    ["Hello {{trigger.payload.status", "{{trigger.payload.status: unclosed placeholder; close it with }} or write \\{{ for literal braces"],
    ["{{}}", "{{}}: empty placeholder; write a path such as {{trigger.payload.id}}"],
    ["{{   }}", "{{   }}: empty placeholder; write a path such as {{trigger.payload.id}}"],
    ["{{ 1+1 }}", '{{ 1+1 }}: "1+1" is not a valid path: unexpected "+" after "1". Templates only read data (e.g. trigger.payload.items[0].name); they do not call functions or compute expressions'],
    ["{{ a..b }}", '{{ a..b }}: "a..b" is not a valid path: expected a name after "a.". Templates only read data (e.g. trigger.payload.items[0].name); they do not call functions or compute expressions'],
    ["{{trigger.}}", '{{trigger.}}: "trigger." is not a valid path: expected a name after "trigger.". Templates only read data (e.g. trigger.payload.items[0].name); they do not call functions or compute expressions'],
    ["{{user.email}}", '{{user.email}}: unknown root "user"; a path starts with trigger, steps, run, automation, org'],
    ["{{ payload.x }}", '{{ payload.x }}: unknown root "payload"; a path starts with trigger, steps, run, automation, org'],
  ])("%j", (template, message) => {
    const err = templateError(() => resolve(template));
    expect(err.message).toBe(message);
    expect(err.code).toBe("template_syntax");
  });

  it.each([
    ["{{constructor.constructor}}", '"constructor" cannot be used in a path'],
    ["{{trigger.payload.__proto__}}", '"__proto__" cannot be used in a path'],
    ['{{trigger.payload["__proto__"].x}}', '"__proto__" cannot be used in a path'],
    ["{{trigger.payload.constructor.prototype}}", '"constructor" cannot be used in a path'],
    ["{{steps.prototype}}", '"prototype" cannot be used in a path'],
    ["{{ trigger.payload.fn() }}", 'unexpected "(" after "trigger.payload.fn"'],
    ["{{ trigger.payload.status | upper }}", 'unexpected " " after "trigger.payload.status"'],
    ["{{ trigger. payload }}", 'expected a name after "trigger."'],
    ["{{ {{trigger.payload.status}} }}", 'a path starts with a name, not "{"'],
    ["{{{trigger.payload.status}}}", 'a path starts with a name, not "{"'],
    ["{{trigger.payload[01]}}", 'expected a position like [0] or a quoted key like ["a b"] after "trigger.payload"'],
    ["{{trigger.payload[-1]}}", 'expected a position like [0]'],
    ["{{trigger.payload[0}}", 'expected a position like [0]'],
    ['{{trigger.payload["open]}}', 'unclosed quoted key after "trigger.payload["'],
    ['{{trigger.payload["a\\n"]}}', "only \\\\ and an escaped quote are allowed in a quoted key"],
    ["{{ trigger.payload.x; process.exit() }}", 'unexpected ";"'],
    ["{{ `${1}` }}", 'a path starts with a name, not "`"'],
    ["{{ trigger.payload.🎉 }}", 'expected a name after "trigger.payload."'],
    ["{{ trigger.payload.a🎉 }}", 'unexpected "🎉" after "trigger.payload.a"'],
  ])("%s is refused", (template, fragment) => {
    const err = templateError(() => resolve(template));
    expect(err.code).toBe("template_syntax");
    expect(err.message).toContain(fragment);
  });

  it("treats a stray }} and other braces as text", () => {
    expect(resolve("}} { } {x} }}{{trigger.payload.status}}}")).toBe("}} { } {x} }}won}");
  });

  it("reads \\{{ as literal braces and \\\\{{ as a backslash before a placeholder", () => {
    expect(resolve("\\{{ trigger.payload.status }}")).toBe("{{ trigger.payload.status }}");
    expect(resolve("\\{{")).toBe("{{");
    expect(resolve("a\\{{b}} {{trigger.payload.status}}")).toBe("a{{b}} won");
    expect(resolve("\\\\{{trigger.payload.status}}")).toBe("\\won");
    expect(resolve("C:\\path {{trigger.payload.status}}")).toBe("C:\\path won");
  });

  it("quotes a huge placeholder only in part", () => {
    const long = `{{ trigger.payload.${"a".repeat(500)}+ }}`;
    const err = templateError(() => resolve(long));
    expect(err.message.length).toBeLessThan(600);
    expect(err.message.startsWith(`${long.slice(0, 117)}...`)).toBe(true);
  });
});

describe("limits", () => {
  it("caps the length of a string with placeholders", () => {
    const text = `${"x".repeat(MAX_TEMPLATE_LENGTH)}{{trigger.payload.status}}`;
    const err = templateError(() => resolve({ body: text }));
    expect(err.code).toBe("template_limit");
    expect(err.message).toBe(`a string with placeholders may be at most 100000 characters; this one has ${text.length}`);
    expect(err.configPath).toBe("$.body");
  });

  it("leaves long strings without placeholders alone", () => {
    const text = "y".repeat(MAX_TEMPLATE_LENGTH * 3);
    expect(resolve({ body: text })).toEqual({ body: text });
  });

  it("allows 1,000 placeholders in a config and refuses 1,001", () => {
    const ok = Array.from({ length: MAX_PLACEHOLDERS / 2 }, () => "{{trigger.payload.status}}-{{trigger.payload.amount}}");
    expect((resolve(ok) as string[])[0]).toBe("won-1200");
    const err = templateError(() => resolve([...ok, "{{trigger.payload.status}}"]));
    expect(err.code).toBe("template_limit");
    expect(err.message).toBe("too many placeholders: a config may hold at most 1000 (limit reached at $[500])");
  });

  it("caps the size of an embedded result", () => {
    const c = context({ big: "z".repeat(600_000) });
    expect(resolveTemplates("{{trigger.payload.big}}", c)).toHaveLength(600_000);
    const err = templateError(() => resolveTemplates({ t: "{{trigger.payload.big}} {{trigger.payload.big}}" }, c));
    expect(err.code).toBe("template_limit");
    expect(err.message).toContain("the string at $.t would be longer than 1000000 characters");
  });

  describe("the output budget of a config", () => {
    // 50 KB of payload, as JSON.
    const payload = { rows: Array.from({ length: 1_000 }, (_, i) => ({ id: i, note: "x".repeat(30) })) };
    const size = JSON.stringify(payload).length;
    const big = context(payload);

    it("refuses 1,000 copies of a 50 KB payload after 1 MiB, before copying the rest", () => {
      expect(size).toBeGreaterThan(50_000);
      const bomb = { message: "bomb", data: Array.from({ length: MAX_PLACEHOLDERS }, () => "{{trigger.payload}}") };
      const clone = vi.spyOn(globalThis, "structuredClone");
      try {
        const err = templateError(() => resolveTemplates(bomb, big));
        const fits = Math.floor(DEFAULT_TEMPLATE_OUTPUT / size); // copies within the budget
        expect(err.code).toBe("template_limit");
        expect(err.configPath).toBe(`$.data[${fits}]`);
        expect(err.message).toBe(
          `the placeholders of this config would produce more than ${DEFAULT_TEMPLATE_OUTPUT} characters ` +
            `(reached at $.data[${fits}], placeholder #${fits + 1}, {{trigger.payload}}); reference smaller values, or fewer copies of a large one`,
        );
        // Work done: the copies made are those within the budget (20 of 1,000), about 1 MiB of 50 MB.
        expect(clone).toHaveBeenCalledTimes(fits);
        expect(fits * size).toBeLessThanOrEqual(DEFAULT_TEMPLATE_OUTPUT);
      } finally {
        clone.mockRestore();
      }
    });

    it("counts embedded text too, across strings", () => {
      const texts = Array.from({ length: 100 }, (_, i) => `row ${i}: {{trigger.payload}}`);
      const err = templateError(() => resolveTemplates({ texts }, big));
      expect(err.configPath).toBe(`$.texts[${Math.floor(DEFAULT_TEMPLATE_OUTPUT / size)}]`);
    });

    it("allows exactly the budget, and takes the operator's setting", () => {
      const two = { a: "{{trigger.payload}}", b: "{{trigger.payload}}" };
      expect(resolveTemplates(two, big, { maxOutput: 2 * size })).toEqual({ a: payload, b: payload });
      expect(templateError(() => resolveTemplates(two, big, { maxOutput: 2 * size - 1 })).configPath).toBe("$.b");
      // Ordinary configs are far below it: a whole value's JSON, "won" as text.
      expect(resolveTemplates({ s: "{{trigger.payload.customer}}", t: "{{trigger.payload.status}}!" }, ctx, { maxOutput: 43 }))
        .toEqual({ s: { name: "Ada", email: "ada@example.com" }, t: "won!" });
      expect(templateError(() => resolveTemplates({ s: "{{trigger.payload.customer}}", t: "{{trigger.payload.status}}!" }, ctx, { maxOutput: 42 })).configPath).toBe("$.t");
    });
  });

  it("caps nesting depth", () => {
    let deep: unknown = "{{trigger.payload.status}}";
    for (let i = 0; i < 70; i++) deep = { n: deep };
    expect(templateError(() => resolve(deep)).message).toMatch(/^the config is nested deeper than 64 levels at \$\.n\.n/);
  });
});

describe("prototype pollution", () => {
  it("keeps a __proto__ key in the config an ordinary key", () => {
    const config = JSON.parse('{"__proto__": {"polluted": "{{trigger.payload.status}}"}, "a": "{{trigger.payload.amount}}"}') as unknown;
    const out = resolve(config) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toEqual({ polluted: "won" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("never reads a payload's own __proto__ or constructor keys, nor calls getters", () => {
    const payload = JSON.parse('{"__proto__": {"x": 1}, "constructor": {"x": 2}}') as Record<string, unknown>;
    let called = false;
    Object.defineProperty(payload, "trap", { enumerable: true, get: () => ((called = true), "gotcha") });
    const c = context(payload);
    expect(() => resolveTemplates("{{trigger.payload.__proto__.x}}", c)).toThrow(/"__proto__" cannot be used/);
    expect(() => resolveTemplates('{{trigger.payload["constructor"].x}}', c)).toThrow(/"constructor" cannot be used/);
    expect(() => resolveTemplates("{{trigger.payload.trap}}", c)).toThrow('"trap" is not present in trigger.payload');
    expect(called).toBe(false);
  });
});

describe("save-time validation", () => {
  it("finds nothing wrong with a valid config", () => {
    expect(findTemplateErrors({ to: "{{trigger.payload.x}}", n: 1, list: ["\\{{ literal", "plain"] })).toEqual([]);
  });

  it("lists every problem with its place in the config", () => {
    const problems = findTemplateErrors({
      to: "{{ user.email }}",
      headers: { "X-Id": "{{trigger.payload.id", ok: "{{run.id}}" },
      items: ["fine", "{{ 1+1 }}"],
    });
    expect(problems.map((p) => p.path)).toEqual(["$.to", '$.headers["X-Id"]', "$.items[1]"]);
    expect(problems[0]?.message).toBe('{{ user.email }}: unknown root "user"; a path starts with trigger, steps, run, automation, org');
    expect(problems[1]?.message).toMatch(/unclosed placeholder/);
    expect(problems[2]?.message).toMatch(/"1\+1" is not a valid path/);
  });

  it("reports references to steps that do not run earlier when told which do", () => {
    const config = { a: "{{steps.fetch.output.id}}", b: "{{steps.1.output}}", c: "{{steps[0].output}}", d: "{{steps.later.output}}" };
    expect(findTemplateErrors(config, { steps: ["0", "fetch"] })).toEqual([
      { path: "$.b", message: '{{steps.1.output}}: no earlier step is named or numbered "1"' },
      { path: "$.d", message: '{{steps.later.output}}: no earlier step is named or numbered "later"' },
    ]);
    expect(findTemplateErrors(config)).toEqual([]);
  });

  it("reports limits", () => {
    const many = Array.from({ length: MAX_PLACEHOLDERS + 1 }, () => "{{run.id}}");
    expect(findTemplateErrors(many)).toEqual([
      { path: "$[1000]", message: "too many placeholders: a config may hold at most 1000 (limit reached at $[1000])" },
    ]);
    expect(findTemplateErrors({ s: `${"x".repeat(MAX_TEMPLATE_LENGTH)}{{run.id}}` })[0]?.path).toBe("$.s");
  });

  it("parses references for callers that want them", () => {
    expect(parseTemplates({ a: "{{ steps.fetch.output.body.id }}", b: ["x {{trigger.payload['a b']}}"] })).toEqual({
      references: [
        { path: "$.a", placeholder: "{{ steps.fetch.output.body.id }}", keys: ["steps", "fetch", "output", "body", "id"], whole: true },
        { path: "$.b[0]", placeholder: "{{trigger.payload['a b']}}", keys: ["trigger", "payload", "a b"], whole: false },
      ],
      problems: [],
    });
  });
});
