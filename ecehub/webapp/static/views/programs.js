// Programs: search and filters (support type, county, city, QRIS level, license status),
// paged with cursors; each row shows which sector sources know the program.

import { gql } from "../api.js";
import { clear, field, h, notice, orDash, select, table } from "../ui.js";
import { errorList, sourceBanner, startData } from "./common.js";

const PAGE = 20;
const FILTERS = ["name", "supportType", "county", "city", "qrisLevel", "licenseStatus"];

function filterOf(params) {
  const filter = {};
  if (params.get("name")) filter.name = params.get("name");
  if (params.get("supportType")) filter.supportTypes = [params.get("supportType")];
  if (params.get("county")) filter.county = params.get("county");
  if (params.get("city")) filter.city = params.get("city");
  if (params.get("qrisLevel")) filter.qrisLevel = Number(params.get("qrisLevel"));
  if (params.get("licenseStatus")) filter.licenseStatus = params.get("licenseStatus");
  return filter;
}

export async function renderPrograms(main, params) {
  const start = await startData();
  const form = h(
    "form",
    {
      className: "filters",
      role: "search",
      onSubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        for (const name of FILTERS) {
          const value = form.elements[name].value.trim();
          if (value) next.set(name, value);
        }
        location.hash = `#/programs?${next}`;
      },
    },
    field("Name", h("input", { name: "name", type: "search", value: params.get("name") ?? "" })),
    field("Support type", select("supportType", [["", "Any"], ...start.supportTypes.map((t) => [t.code, t.name])], params.get("supportType") ?? "")),
    field("County", h("input", { name: "county", value: params.get("county") ?? "" })),
    field("City", h("input", { name: "city", value: params.get("city") ?? "" })),
    field("QRIS level", select("qrisLevel", [["", "Any"], ...[1, 2, 3, 4, 5].map((n) => [String(n), `Level ${n}`])], params.get("qrisLevel") ?? "")),
    field("License status", h("input", { name: "licenseStatus", value: params.get("licenseStatus") ?? "", placeholder: "e.g. ACTIVE" })),
    h("button", { type: "submit", className: "primary" }, "Search"),
  );
  const results = h("div", { className: "results" });
  clear(main, h("h1", {}, "Programs"), form, results);
  const after = params.get("after");
  const variables = { filter: filterOf(params), first: PAGE, after };
  let { data, errors } = await gql("ProgramList", variables);
  if (!data?.programs && errors.some((e) => e.extensions?.code === "FORBIDDEN")) {
    // A role that reads the directory only (the public): the list without the sectors.
    const directory = await gql("ProgramDirectory", variables);
    data = directory.data;
    errors = [...errors.filter((e) => e.extensions?.code === "FORBIDDEN"), ...directory.errors];
  }
  const connection = data?.programs;
  const parts = [sourceBanner(errors, "programs and sectors they know may be missing from this list"), errorList(errors)];
  if (connection) {
    const rows = connection.nodes.map((p) => [
      h("a", { href: `#/program/${encodeURIComponent(p.id)}` }, orDash(p.name)),
      orDash(p.programType),
      orDash(p.address?.city),
      orDash(p.address?.county),
      (p.supportTypes ?? []).map((t) => h("span", { className: "tag" }, t.code)),
      p.sources ? p.sources.map((s) => h("span", { className: "tag source", title: `${s.source} ${s.key}` }, s.source)) : "—",
    ]);
    parts.push(table(`Programs (${connection.nodes.length} on this page)`, ["Name", "Type", "City", "County", "Support types", "Known to"], rows));
    const pager = h("nav", { className: "pager", "aria-label": "Pages" });
    if (after) {
      const back = new URLSearchParams(params);
      back.delete("after");
      pager.append(h("a", { href: `#/programs?${back}` }, "First page"));
    }
    if (connection.pageInfo.hasNextPage) {
      const next = new URLSearchParams(params);
      next.set("after", connection.pageInfo.endCursor);
      pager.append(h("a", { href: `#/programs?${next}`, rel: "next" }, "Next page"));
    }
    parts.push(pager);
    if (connection.nodes.length === 0) parts.push(notice("info", "No program matches these filters."));
  }
  clear(results, ...parts);
  results.dataset.shown = location.hash; // which listing is on screen (tests wait on it)
}
