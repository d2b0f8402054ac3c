// One program's whole picture: identity across sectors (names, IDs, each field's source and
// conflicts), sites and rooms, staff, enrollment, license, QRIS, checklists, assessments and
// funding. A source that failed says so in the panels it feeds; the rest renders.

import { gql } from "../api.js";
import { clear, h, money, notice, orDash, panel, table } from "../ui.js";
import { downSources, errorList, panelDown, startData } from "./common.js";

/** One row per field: the value shown and its source, then what the other sources say. */
function fieldRows(p) {
  const conflicts = new Map((p.conflicts ?? []).map((c) => [c.field, c]));
  const byField = new Map();
  for (const value of p.provenance ?? []) {
    if (!byField.has(value.field)) byField.set(value.field, []);
    byField.get(value.field).push(value);
  }
  return [...byField.entries()].map(([name, values]) => {
    const shown = values.find((v) => v.wins) ?? values[0];
    const others = values.filter((v) => v !== shown);
    const conflict = conflicts.get(name);
    return [
      name,
      shown.value,
      shown.source,
      others.map((v) => `${v.source}: ${v.value}`).join("; ") || "—",
      conflict ? h("span", { className: "tag warn", title: conflict.rule }, `differs (${conflict.rule})`) : "agree",
    ];
  });
}

function identity(p) {
  const rows = fieldRows(p);
  const conflicts = p.conflicts ?? [];
  return panel(
    "Identity across sectors",
    h("p", {}, "Names: ", (p.names ?? []).join(" · ") || "—"),
    table(
      "Identifiers",
      ["System", "Value", "Source"],
      (p.identifiers ?? []).map((i) => [i.system, i.value, i.source]),
    ),
    conflicts.length
      ? table(
          "Where the sectors disagree",
          ["Field", "Values (the shown one first)", "Rule"],
          conflicts.map((c) => [c.field, c.values.map((v) => `${v.value} (${v.source})`).join(" · "), c.rule]),
        )
      : h("p", {}, "The sectors agree on every field they share."),
    h(
      "details",
      {},
      h("summary", {}, `Every field and where it comes from (${rows.length})`),
      table("Fields and their sources", ["Field", "Shown", "From", "Other sources", "Sources"], rows),
    ),
  );
}

function sourcesPanel(p, start, down) {
  const known = new Map((p.sources ?? []).map((s) => [s.source, s]));
  const rows = start.sources.map((s) => {
    const record = known.get(s.name);
    const status = down[s.name] ? "unavailable" : s.status === "DOWN" ? "down" : "up";
    return [s.name, s.supportTypes.join(", "), record ? record.key : "—", h("span", { className: `status ${status}` }, status)];
  });
  return panel("Sectors", table("Sources and this program's record in each", ["Source", "Support types", "Record", "Status"], rows));
}

export async function renderProfile(main, id) {
  clear(main, h("p", {}, "Loading program…"));
  const [start, answer] = await Promise.all([startData(), gql("ProgramProfile", { id })]);
  const { data, errors } = answer;
  const p = data?.program;
  if (!p) {
    clear(main, h("h1", {}, "Program"), errorList(errors) ?? notice("error", "No such program."));
    return;
  }
  const down = downSources(errors);
  const d = (field, entity) => panelDown(errors, field, entity, start.sources);
  const address = p.address ? [p.address.street, p.address.city, p.address.state, p.address.zip].filter(Boolean).join(", ") : "—";
  const downList = Object.keys(down);
  // Nothing on record and nothing known are not the same: a failed source says which.
  const licenseDown = d("license", "program");
  const qrisDown = d("qrisRating", "program");
  clear(
    main,
    h("h1", {}, orDash(p.name)),
    h("p", { className: "sub" }, `${orDash(p.programType)} · ${address} · ${orDash(p.phone)}`),
    h("p", {}, (p.supportTypes ?? []).map((t) => h("span", { className: "tag" }, t.name))),
    h("nav", { className: "tabs", "aria-label": "Program" }, h("a", { href: `#/program/${encodeURIComponent(p.id)}`, "aria-current": "page" }, "Profile"), h("a", { href: `#/program/${encodeURIComponent(p.id)}/qip` }, "QIP, notes and activity")),
    downList.length ? notice("warning", `Unavailable now: ${downList.join(", ")}. Their panels may be incomplete; the rest is current.`) : null,
    errorList(errors),
    h("div", { className: "grid wide" }, sourcesPanel(p, start, down), identity(p)),
    h(
      "div",
      { className: "grid" },
      panel(
        "License",
        licenseDown,
        p.license
          ? h("dl", {}, ...[["number", "Number"], ["status", "Status"], ["issuedOn", "Issued"], ["expiresOn", "Expires"], ["capacity", "Capacity"], ["agesServed", "Ages served"], ["source", "Source"]].flatMap(([k, label]) => [h("dt", {}, label), h("dd", {}, orDash(p.license[k]))]))
          : h("p", {}, licenseDown ? "Unknown while a source is unavailable." : "No license on record."),
      ),
      panel(
        "QRIS rating",
        qrisDown,
        p.qrisRating
          ? h("p", { className: "big" }, `Level ${p.qrisRating.level}`, h("span", { className: "sub" }, ` rated ${orDash(p.qrisRating.ratedOn)}, expires ${orDash(p.qrisRating.expiresOn)} (${p.qrisRating.source})`))
          : h("p", {}, qrisDown ? "Unknown while a source is unavailable." : "No QRIS rating on record."),
      ),
      panel(
        "Sites and rooms",
        d("sites", "site"),
        (p.sites ?? []).map((s) =>
          h(
            "div",
            { className: "site" },
            h("h3", {}, orDash(s.name)),
            h("p", { className: "sub" }, `${orDash(s.address?.street)}, ${orDash(s.address?.city)} · capacity ${orDash(s.capacity)}`),
            s.rooms.length ? table(`Rooms of ${s.name ?? "the site"}`, ["Room", "Age group", "Capacity", "Source"], s.rooms.map((r) => [orDash(r.name), orDash(r.ageGroup), orDash(r.capacity), r.source])) : null,
          ),
        ),
      ),
      panel(
        "Staff",
        d("staff", "staff"),
        table(
          "Staff with education, credentials and professional development",
          ["Name", "Role", "Education", "Credentials", "PD hours", "Trainings"],
          (p.staff ?? []).map((s) => [orDash(s.name), orDash(s.role), orDash(s.educationLevel), (s.credentials ?? []).join(", ") || "—", orDash(s.pdHours), String((s.trainings ?? []).length)]),
        ),
      ),
      panel(
        "Enrollment by support type and age",
        d("enrollment", "enrollment"),
        h("p", {}, "Total: ", p.enrollment?.totalSuppressed ? h("span", { className: "suppressed" }, "suppressed (small count)") : orDash(p.enrollment?.total)),
        table(
          "Enrollment counts",
          ["Support type", "Age group", "Period", "Children", "Funded slots", "Source"],
          (p.enrollment?.counts ?? []).map((c) => [orDash(c.supportType), orDash(c.ageGroup), orDash(c.period), c.suppressed ? h("span", { className: "suppressed" }, "suppressed") : orDash(c.count), orDash(c.fundedSlots), c.source]),
        ),
      ),
      panel(
        "Checklists",
        d("checklists", "checklist"),
        table("Checklists and reviews", ["Name", "Kind", "Date", "Status", "Not met", "Source"], (p.checklists ?? []).map((c) => [orDash(c.name), orDash(c.kind), orDash(c.conductedOn), orDash(c.status), String(c.notMetCount), c.source])),
      ),
      panel(
        "Assessments",
        d("assessments", "assessment"),
        table("Assessments", ["Instrument", "Date", "Score", "Observer", "Source"], (p.assessments ?? []).map((a) => [orDash(a.instrument), orDash(a.conductedOn), orDash(a.score), orDash(a.observer), a.source])),
      ),
      panel(
        "Funding",
        d("funding", "funding"),
        table("Funding lines", ["Amount", "Support type", "Purpose", "Type", "Period", "Source"], (p.funding ?? []).map((f) => [money([f]), orDash(f.supportType), f.purpose, orDash(f.fundingType), `${orDash(f.periodStart)} – ${orDash(f.periodEnd)}`, f.source])),
      ),
    ),
  );
  performance.mark("ecehub-profile-painted");
}
