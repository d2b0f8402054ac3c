// The state administrator's crosswalk review queue: each suggested link with its score and
// the matcher's reasons; confirm (the record joins the program) or reject; merge programs.

import { codeOf, gql } from "../api.js";
import { clear, field, h, notice, orDash, panel, say } from "../ui.js";
import { errorList } from "./common.js";

async function decide(link, operation, message, reload) {
  const { data, errors } = await gql(operation, { id: link.id, version: link.version });
  if (errors.length) {
    clear(message, codeOf(errors[0]) === "VERSION_CONFLICT" ? notice("error", "Someone decided on this link meanwhile; reload the queue.") : errorList(errors));
    return;
  }
  const decided = data[operation === "ConfirmLink" ? "confirmLink" : "rejectLink"];
  if (operation === "ConfirmLink") {
    const after = await gql("ProgramSources", { id: decided.programId });
    const program = after.data?.program;
    clear(
      message,
      notice(
        "success",
        `Confirmed by ${decided.decidedBy}: ${link.source} ${link.sourceKey} is now part of `,
        h("a", { href: `#/program/${encodeURIComponent(decided.programId)}` }, orDash(program?.name)),
        ` (known to ${(program?.sources ?? []).map((s) => s.source).join(", ")}).`,
      ),
    );
    say("Link confirmed; the programs are merged");
  } else {
    clear(message, notice("success", `Rejected by ${decided.decidedBy}: the pair will not be suggested again.`));
    say("Link rejected");
  }
  for (const button of message.parentElement.querySelectorAll("button.decision")) button.disabled = true;
}

function suggestion(link, reload) {
  const message = h("div", { className: "card-message" });
  const label = `${link.record?.name ?? link.sourceKey} → ${link.program?.name ?? link.programId}`;
  return h(
    "li",
    { className: "card", "aria-label": label, "data-link": link.id },
    h("h3", {}, `${(link.score ?? 0).toFixed(3)} ${link.auto ? "(auto)" : ""}`),
    h("p", {}, h("strong", {}, `${link.source} ${link.sourceKey}: `), orDash(link.record?.name), ` · ${orDash(link.record?.address?.street)}, ${orDash(link.record?.address?.city)} · ${orDash(link.record?.phone)}`),
    h("p", {}, h("strong", {}, "would join: "), orDash(link.program?.name), ` (known to ${(link.program?.sources ?? []).map((s) => s.source).join(", ") || "—"})`),
    h("ul", { className: "reasons", "aria-label": "Reasons" }, link.reasons.map((r) => h("li", {}, r))),
    h("button", { type: "button", className: "primary decision", onClick: () => decide(link, "ConfirmLink", message, reload) }, "Confirm"),
    " ",
    h("button", { type: "button", className: "decision", onClick: () => decide(link, "RejectLink", message, reload) }, "Reject"),
    message,
  );
}

function mergeForm() {
  const message = h("div");
  const from = h("input", { name: "programId", required: true });
  const into = h("input", { name: "into", required: true });
  return h(
    "form",
    {
      onSubmit: async (event) => {
        event.preventDefault();
        const [a, b] = await Promise.all([gql("CrosswalkOf", { programId: from.value }), gql("CrosswalkOf", { programId: into.value })]);
        const errors = [...a.errors, ...b.errors];
        if (errors.length) return clear(message, errorList(errors));
        const merged = await gql("MergePrograms", { programId: from.value, into: into.value, version: a.data.crosswalk.version, intoVersion: b.data.crosswalk.version });
        if (merged.errors.length) return clear(message, errorList(merged.errors));
        clear(message, notice("success", "Merged: ", h("a", { href: `#/program/${encodeURIComponent(into.value)}` }, "open the merged program")));
      },
    },
    field("Program ID to merge", from),
    field("Into program ID", into),
    h("button", { type: "submit" }, "Merge programs"),
    message,
  );
}

export async function renderCrosswalk(main, after = null) {
  const reload = () => renderCrosswalk(main);
  const { data, errors } = await gql("CrosswalkQueue", { after });
  const queue = data?.crosswalkSuggestions;
  clear(
    main,
    h("h1", {}, "Crosswalk review"),
    h("p", {}, "Suggested links between a sector record and a program, highest score first. Only confirmed links merge data."),
    errorList(errors),
    queue ? h("ol", { className: "queue" }, queue.links.map((l) => suggestion(l, reload))) : null,
    queue && queue.links.length === 0 ? notice("info", "Nothing waits for review.") : null,
    queue?.pageInfo.hasNextPage ? h("button", { type: "button", onClick: () => renderCrosswalk(main, queue.pageInfo.endCursor) }, "Next suggestions") : null,
    panel("Merge two programs", h("p", {}, "One program's hub ID goes into another: its records join it and its ID resolves there."), mergeForm()),
  );
}
