// Sign-in: the demo's development tokens (pick a role), or OIDC authorization code with
// PKCE (S256) against the configured issuer. The access token is kept in sessionStorage.

import { appSettings, setToken } from "./api.js";
import { clear, field, h, notice, say } from "./ui.js";

const PKCE_KEY = "ecehub.pkce";

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function discovery(issuer) {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`discovery ${url}: HTTP ${response.status}`);
  return response.json();
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

export async function startOidc() {
  const oidc = appSettings().oidc;
  const provider = await discovery(oidc.issuer);
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, tokenEndpoint: provider.token_endpoint }));
  const url = new URL(provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/** Back from the identity provider (?code=&state=): checks the state, swaps the code. */
export async function finishOidc() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", redirectUri() + location.hash);
  if (params.has("error")) throw new Error(`sign-in refused: ${params.get("error")}`);
  if (!pending || params.get("state") !== pending.state) {
    throw new Error("sign-in answer does not match the request made (state); please sign in again");
  }
  const response = await fetch(pending.tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: redirectUri(),
      client_id: appSettings().oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || !answer.access_token) {
    throw new Error(`the identity provider did not give a token (${answer.error || response.status})`);
  }
  setToken(answer.access_token);
  return true;
}

export async function renderSignIn(main, onSignedIn, problem = null) {
  const settings = appSettings();
  const parts = [h("h1", {}, "Sign in")];
  if (problem) parts.push(notice("error", problem));
  if (settings.oidc) {
    parts.push(
      h("p", {}, "Sign in with your organisation's account."),
      h("button", { type: "button", className: "primary", onClick: () => startOidc().catch((e) => renderSignIn(main, onSignedIn, e.message)) }, "Sign in"),
    );
  }
  if (settings.devTokens) {
    const response = await fetch("dev-tokens");
    const { tokens } = await response.json();
    const choice = h(
      "select",
      { name: "role" },
      tokens.map((t, index) => h("option", { value: String(index) }, `${t.label} — ${t.sub}`)),
    );
    const form = h(
      "form",
      {
        className: "signin",
        onSubmit: (event) => {
          event.preventDefault();
          setToken(tokens[Number(choice.value)].token);
          say("Signed in");
          onSignedIn();
        },
      },
      h("p", {}, "Demo: pick who you are. Each role sees only what the API gives it."),
      field("Role", choice),
      h("button", { type: "submit", className: "primary" }, "Sign in"),
    );
    parts.push(form);
  }
  if (!settings.oidc && !settings.devTokens) {
    parts.push(notice("info", "No sign-in is configured (server.app.oidc); you see the public directory only."));
    parts.push(h("a", { href: "#/programs" }, "Open the directory"));
  }
  clear(main, ...parts);
}
