// The sign-in view: "Sign in as the demo user" on the local runtime, email +
// password through Supabase Auth (supabase-js, loaded only when used) for a
// hosted project, and, everywhere, pasting an access token.
import { h, replace } from "./dom.ts";
import { projectUrl, setToken, type ConsoleConfig } from "./session.ts";

async function demoToken(): Promise<string> {
  const res = await fetch("/_local/demo-session", { method: "POST" });
  const body = (await res.json().catch(() => null)) as { access_token?: string; error?: { message?: string } } | null;
  if (!res.ok || !body?.access_token) throw new Error(body?.error?.message ?? `the demo sign-in answered ${res.status}`);
  return body.access_token;
}

async function passwordToken(cfg: ConsoleConfig, email: string, password: string): Promise<string> {
  const { createClient } = await import("@supabase/supabase-js");
  const client = createClient(projectUrl(cfg), cfg.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const { data, error } = await client.auth.signInWithPassword({ email, password });
  if (error || !data.session) throw new Error(error?.message ?? "Supabase Auth returned no session");
  return data.session.access_token;
}

export function renderSignIn(root: HTMLElement, cfg: ConsoleConfig, message: string | null, done: () => void): void {
  const status = h("p", { class: "form-error", role: "alert" }, message ?? "");
  const attempt = (btn: HTMLButtonElement, get: () => Promise<string>) => async () => {
    btn.disabled = true;
    status.textContent = "";
    try {
      setToken(await get());
      done();
    } catch (e) {
      status.textContent = `Could not sign in: ${(e as Error).message}`;
      btn.disabled = false;
    }
  };

  const parts: HTMLElement[] = [];
  if (cfg.signIn === "demo") {
    const btn = h("button", { type: "button", class: "primary" }, "Sign in as the demo user");
    btn.addEventListener("click", attempt(btn, demoToken));
    parts.push(h("p", {}, "This local runtime has the demo org (admin@demo.test)."), btn);
  }
  if (cfg.signIn === "password") {
    const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
    const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
    const btn = h("button", { type: "submit", class: "primary" }, "Sign in");
    const form = h(
      "form",
      { class: "stack" },
      h("label", { for: "email" }, "Email"),
      email,
      h("label", { for: "password" }, "Password"),
      password,
      btn,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void attempt(btn, () => passwordToken(cfg, email.value.trim(), password.value))();
    });
    parts.push(form);
  }
  const tokenInput = h("textarea", { id: "token", rows: 3, spellcheck: "false", autocomplete: "off" });
  const tokenBtn = h("button", { type: "button" }, "Sign in with this token");
  tokenBtn.addEventListener(
    "click",
    attempt(tokenBtn, async () => {
      const t = tokenInput.value.trim();
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(t)) throw new Error("that is not a JWT (three dot-separated parts)");
      return t;
    }),
  );
  const byToken = h(
    "details",
    { class: "token-sign-in", open: cfg.signIn === "token" },
    h("summary", {}, "Sign in with an access token"),
    h("label", { for: "token" }, "Access token (a user's JWT)"),
    tokenInput,
    tokenBtn,
  );
  replace(root, h("section", { class: "sign-in" }, h("h1", { tabindex: "-1" }, "Sign in"), status, ...parts, byToken));
  root.querySelector("h1")?.focus();
}
