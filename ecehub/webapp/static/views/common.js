// What the views share: the support types and sources (asked once), and how errors show.

import { codeOf, gql } from "../api.js";
import { h, notice } from "../ui.js";

let start = null;

/** Forget them: another user (or none) now signs the requests. */
export function forgetStartData() {
  start = null;
}

/** Support types and sources (with their status), asked once per user and page load. */
export async function startData() {
  if (!start) {
    let { data } = await gql("AppStart");
    // A role that may not read the sources (the public) still gets the support types.
    if (!data) data = (await gql("SupportTypeList")).data;
    start = { supportTypes: data?.supportTypes ?? [], sources: data?.sources ?? [] };
  }
  return start;
}

/**
 * The errors that are not a source's (those show in the panels they concern), each message
 * once with how often it came (a role refused a field gets one error per program listed).
 */
export function errorList(errors) {
  const refused = new Map();
  const failed = new Map();
  for (const error of errors) {
    if (codeOf(error).startsWith("SOURCE_")) continue;
    // FORBIDDEN: what this role may not read, by the server's rules; not a failure.
    const into = codeOf(error) === "FORBIDDEN" ? refused : failed;
    const text = into === refused ? error.message : `${error.message} (${codeOf(error)})`;
    into.set(text, (into.get(text) ?? 0) + 1);
  }
  const list = (counted) => h("ul", {}, [...counted].map(([text, count]) => h("li", {}, count > 1 ? `${text} ×${count}` : text)));
  if (refused.size === 0 && failed.size === 0) return null;
  return h(
    "div",
    {},
    failed.size ? h("div", { className: "notice error", role: "alert" }, list(failed)) : null,
    refused.size ? h("div", { className: "notice info" }, h("p", {}, "Not allowed for your role (the server's access rules):"), list(refused)) : null,
  );
}

/** A banner naming the sources that failed in this answer (what they hold may be missing). */
export function sourceBanner(errors, what = "what they hold may be missing") {
  const names = Object.keys(downSources(errors));
  if (names.length === 0) return null;
  return notice("warning", `Unavailable now: ${names.join(", ")}; ${what}.`);
}

/** The sources that failed in this answer: {name: message}. */
export function downSources(errors) {
  const down = {};
  for (const error of errors) {
    if (codeOf(error).startsWith("SOURCE_")) down[error.extensions.source ?? "a source"] = error.message;
  }
  return down;
}

/**
 * A panel's source notice: the failed sources that feed it (the error's path names the
 * panel's field, or the source supplies the panel's entity), else nothing.
 */
export function panelDown(errors, fieldName, entity, sources) {
  const names = new Set();
  for (const error of errors) {
    if (!codeOf(error).startsWith("SOURCE_")) continue;
    const source = error.extensions.source;
    const path = error.path ?? [];
    const onField = path.includes(fieldName);
    const supplies = (sources.find((s) => s.name === source)?.entities ?? []).includes(entity);
    if (onField || (path.length <= 1 && supplies)) names.add(source);
  }
  if (names.size === 0) return null;
  return notice("warning", `Source ${[...names].join(", ")} is unavailable: this panel may be incomplete.`);
}

export function conflictNote(error) {
  return codeOf(error) === "VERSION_CONFLICT";
}
