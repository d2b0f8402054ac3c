// The shell: settings, sign-in, navigation and the hash router (#/programs, #/program/ID,
// #/program/ID/qip, #/funding, #/crosswalk).

import { SignedOut, claims, hasRole, loadSettings, setToken, token } from "./api.js";
import { finishOidc, renderSignIn } from "./auth.js";
import { clear, h, notice } from "./ui.js";
import { forgetStartData } from "./views/common.js";
import { renderCrosswalk } from "./views/crosswalk.js";
import { renderFunding } from "./views/funding.js";
import { renderProfile } from "./views/profile.js";
import { renderPrograms } from "./views/programs.js";
import { renderQip } from "./views/qip.js";

const main = document.getElementById("main");

function renderNav() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const signedIn = Boolean(token());
  const links = [["#/programs", "Programs"]];
  if (signedIn) links.push(["#/funding", "Funding"]);
  if (hasRole("state_admin")) links.push(["#/crosswalk", "Crosswalk review"]);
  const current = location.hash.split("?")[0];
  clear(
    nav,
    h("ul", {}, links.map(([href, text]) => h("li", {}, h("a", { href, "aria-current": current.startsWith(href) ? "page" : null }, text)))),
  );
  const me = claims();
  clear(
    who,
    signedIn
      ? [
          h("span", {}, `${me?.sub ?? "signed in"} (${[].concat(me?.roles ?? []).join(", ")})`),
          h("button", { type: "button", onClick: signOut }, "Sign out"),
        ]
      : h("a", { href: "#/signin" }, "Sign in"),
  );
}

function signedIn() {
  forgetStartData();
  location.hash = hasRole("analyst") ? "#/funding" : "#/programs";
}

function signOut() {
  setToken(null);
  forgetStartData();
  location.hash = "#/signin";
}

/** After a navigation: the page title names the view, and focus moves to its content
 * (screen readers announce the new view; the keyboard starts from it). */
function settle(moved) {
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · ecehub` : "ecehub";
  if (moved) main.focus({ preventScroll: true });
}

async function route(event) {
  renderNav();
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  try {
    if (parts[0] === "signin" || (!token() && parts.length === 0)) {
      await renderSignIn(main, signedIn);
    } else if (parts[0] === "program" && parts[1] && parts[2] === "qip") {
      await renderQip(main, parts[1]);
    } else if (parts[0] === "program" && parts[1]) {
      await renderProfile(main, parts[1]);
    } else if (parts[0] === "funding" || (parts.length === 0 && hasRole("analyst"))) {
      await renderFunding(main, params);
    } else if (parts[0] === "crosswalk") {
      await renderCrosswalk(main);
    } else {
      await renderPrograms(main, params);
    }
  } catch (error) {
    if (error instanceof SignedOut) {
      forgetStartData();
      await renderSignIn(main, signedIn, error.message);
      renderNav();
    } else {
      clear(main, h("h1", {}, "Something went wrong"), notice("error", String(error.message || error)));
    }
  }
  settle(event instanceof HashChangeEvent);
}

async function start() {
  await loadSettings();
  try {
    if (await finishOidc()) signedIn();
  } catch (error) {
    await renderSignIn(main, signedIn, error.message);
    return;
  }
  window.addEventListener("hashchange", route);
  await route();
}

start().catch((error) => clear(main, notice("error", `The app could not start: ${error.message}`)));
