// Funding report with filters (support type, purpose, time frame, county) and a chart by
// month (inline SVG), and the support summary: collective and per sector.

import { gql } from "../api.js";
import { clear, field, h, money, notice, orDash, panel, select, table } from "../ui.js";
import { errorList, sourceBanner, startData } from "./common.js";

const PURPOSES = ["PROFESSIONAL_DEVELOPMENT", "PROGRAM_SUPPORT", "MATERIALS", "QIP_TASK", "SCHOLARSHIP", "WAGE_INCENTIVE", "OTHER"];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** Bars of the amount per month (first currency only; amounts in others are not added). */
function monthChart(byMonth) {
  const currency = byMonth[0]?.currency;
  const months = byMonth.filter((m) => m.currency === currency && m.month);
  if (months.length === 0) return h("p", {}, "No dated lines to chart.");
  const width = 640;
  const height = 220;
  const left = 70;
  const bottom = 40;
  const max = Math.max(...months.map((m) => Number(m.amount)), 1);
  const step = (width - left - 10) / months.length;
  const bars = months.map((m, index) => {
    const barHeight = ((height - bottom - 10) * Number(m.amount)) / max;
    const x = left + index * step;
    return svg(
      "g",
      {},
      svg("rect", { x: x + 2, y: height - bottom - barHeight, width: Math.max(step - 4, 1), height: barHeight, fill: "#1d5c8a" }, svg("title", {}, `${m.month}: ${m.amount} ${m.currency}`)),
      index % Math.ceil(months.length / 8) === 0 ? svg("text", { x: x + 2, y: height - bottom + 16, "font-size": 11, fill: "#222" }, m.month) : "",
    );
  });
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Funding by month in ${currency}, ${months.length} months, highest ${max.toLocaleString("en-US")}`, class: "chart" },
    svg("line", { x1: left, y1: height - bottom, x2: width - 5, y2: height - bottom, stroke: "#222" }),
    svg("text", { x: 4, y: 16, "font-size": 11, fill: "#222" }, `${max.toLocaleString("en-US")} ${currency}`),
    ...bars,
  );
}

function filterOf(params) {
  const filter = {};
  if (params.get("supportType")) filter.supportTypes = [params.get("supportType")];
  if (params.get("purpose")) filter.purposes = [params.get("purpose")];
  if (params.get("from")) filter.from = params.get("from");
  if (params.get("to")) filter.to = params.get("to");
  if (params.get("county")) filter.programs = { county: params.get("county") };
  return filter;
}

export async function renderFunding(main, params) {
  const start = await startData();
  const form = h(
    "form",
    {
      className: "filters",
      onSubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        for (const name of ["supportType", "purpose", "from", "to", "county"]) {
          const value = form.elements[name].value.trim();
          if (value) next.set(name, value);
        }
        location.hash = `#/funding?${next}`;
      },
    },
    field("Support type", select("supportType", [["", "All"], ...start.supportTypes.map((t) => [t.code, t.name])], params.get("supportType") ?? "")),
    field("Purpose", select("purpose", [["", "All"], ...PURPOSES.map((p) => [p, p.replace(/_/g, " ").toLowerCase()])], params.get("purpose") ?? "")),
    field("From", h("input", { name: "from", type: "date", value: params.get("from") ?? "" })),
    field("To", h("input", { name: "to", type: "date", value: params.get("to") ?? "" })),
    field("County", h("input", { name: "county", value: params.get("county") ?? "" })),
    h("button", { type: "submit", className: "primary" }, "Show"),
  );
  const body = h("div", {}, h("p", {}, "Loading…"));
  clear(main, h("h1", {}, "Funding and support"), form, body);
  const filter = filterOf(params);
  let [report, support] = await Promise.all([
    gql("FundingReport", { filter }),
    gql("SupportReport", { filter: filter.programs ?? null }),
  ]);
  if (!report.data?.fundingReport && report.errors.some((e) => e.extensions?.code === "FORBIDDEN")) {
    // A role that may read the totals but not the lines (an analyst): the totals alone.
    const totals = await gql("FundingTotals", { filter });
    report = { data: totals.data, errors: [...report.errors.filter((e) => e.extensions?.code === "FORBIDDEN"), ...totals.errors] };
  }
  const f = report.data?.fundingReport;
  const s = support.data?.supportSummary;
  const parts = [sourceBanner([...report.errors, ...support.errors], "their funding and support are not in these totals"), errorList([...report.errors, ...support.errors])];
  if (f) {
    const totals = f.totals;
    parts.push(
      h("p", { className: "big" }, `${money(totals.overall)} across ${f.programCount} programs`),
      h(
        "div",
        { className: "grid" },
        panel("By month", monthChart(totals.byMonth)),
        panel("By support type", table("Funding by support type", ["Support type", "Amount", "Lines"], totals.bySupportType.map((t) => [orDash(t.supportType), money([t]), t.lineCount]))),
        panel("By purpose", table("Funding by purpose", ["Purpose", "Amount", "Lines"], totals.byPurpose.map((t) => [t.purpose, money([t]), t.lineCount]))),
        panel("By source", table("Funding by source", ["Source", "Amount", "Lines"], totals.bySource.map((t) => [t.source, money([t]), t.lineCount]))),
      ),
    );
    if (f.lines) {
      parts.push(panel("Lines", table(`Funding lines (first 50 of ${f.lines.length})`, ["Program", "Amount", "Support type", "Purpose", "Starts", "Source"], f.lines.slice(0, 50).map((l) => [l.programName ? h("a", { href: `#/program/${encodeURIComponent(l.programId)}` }, l.programName) : "—", money([l]), orDash(l.supportType), l.purpose, orDash(l.periodStart), l.source]))));
    }
  }
  if (s) {
    const rows = [...s.total.bySupportType, { ...s.total.total, supportType: "All sectors together" }];
    parts.push(
      panel(
        "Support summary",
        h("p", {}, `${s.programCount} programs; each sector's support, then all of it together.`),
        table("Support per sector and collectively", ["Support type", "Visits", "Hours", "Checklists", "Tasks open", "Tasks done", "Staff supported", "Funding"], rows.map((t) => [orDash(t.supportType), t.visits, t.hours, t.checklistsCompleted, t.qipTasksOpen, t.qipTasksDone, t.staffSupported, money(t.funding)])),
      ),
    );
  }
  if (!f && !s) parts.push(notice("info", "This role may not read funding or support reports."));
  clear(body, ...parts);
}
