// The shared QIP board: goals and their tasks by status, create a goal or task, update a
// task with its version (a conflict is shown, never overwritten), notes, PD plans, the
// activity log and the audit log.

import { codeOf, gql } from "../api.js";
import { clear, field, h, money, notice, orDash, panel, say, select, table } from "../ui.js";
import { errorList, startData } from "./common.js";

const STATUSES = [
  ["NOT_STARTED", "Not started"],
  ["IN_PROGRESS", "In progress"],
  ["DONE", "Done"],
  ["DROPPED", "Dropped"],
];

function key() {
  return `app-${crypto.getRandomValues(new Uint32Array(2)).join("-")}`;
}

function taskCard(task, reload) {
  const message = h("div", { className: "card-message" });
  const status = select("status", STATUSES, task.status);
  const minutes = h("input", { name: "minutesSpent", type: "number", min: "0", value: String(task.minutesSpent) });
  const owner = h("input", { name: "owner", value: task.owner ?? "" });
  const form = h(
    "form",
    {
      className: "task-edit",
      onSubmit: async (event) => {
        event.preventDefault();
        const patch = { status: status.value, minutesSpent: Number(minutes.value), owner: owner.value || null };
        const { data, errors } = await gql("UpdateQipTask", { id: task.id, version: task.version, patch });
        const conflict = errors.find((e) => codeOf(e) === "VERSION_CONFLICT");
        if (conflict) {
          clear(
            message,
            notice(
              "error",
              `Someone else changed this task (now version ${conflict.extensions.currentVersion}); your change was not saved. `,
              h("button", { type: "button", onClick: reload }, "Reload the board"),
              " and apply it again.",
            ),
          );
          say("Version conflict: your change was not saved");
        } else if (errors.length) {
          clear(message, errorList(errors));
        } else {
          say(`Task saved (version ${data.updateQipTask.version})`);
          await reload();
        }
      },
    },
    field("Status", status),
    field("Minutes spent", minutes),
    field("Owner", owner),
    h("button", { type: "submit" }, "Save"),
  );
  return h(
    "li",
    { className: "card", "data-task": task.id },
    h("h4", {}, task.title),
    h("p", { className: "sub" }, `${orDash(task.owner)} · due ${orDash(task.dueDate)} · ${task.minutesSpent} min · ${orDash(task.supportType)} · v${task.version}`),
    task.funding.length ? h("p", {}, "Funding: ", money(task.funding)) : null,
    task.notes.length ? h("ul", { className: "notes" }, task.notes.map((n) => h("li", {}, `${n.body} — ${n.author}`))) : null,
    task.files.length ? h("p", {}, "Files: ", task.files.map((f) => h("a", { href: `../files/${encodeURIComponent(f.id)}` }, f.filename))) : null,
    h("details", {}, h("summary", {}, "Update"), form),
    message,
  );
}

function newTaskForm(goal, supportTypes, reload) {
  const message = h("div");
  const title = h("input", { name: "title", required: true });
  const owner = h("input", { name: "owner" });
  const due = h("input", { name: "dueDate", type: "date" });
  const support = select("supportType", [["", "None"], ...supportTypes.map((t) => [t.code, t.name])]);
  const idempotency = key();
  return h(
    "form",
    {
      className: "new-task",
      onSubmit: async (event) => {
        event.preventDefault();
        const input = { title: title.value, owner: owner.value || null, dueDate: due.value || null, supportType: support.value || null };
        const { errors } = await gql("CreateQipTask", { goalId: goal.id, input, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else {
          say(`Task "${input.title}" added`);
          await reload();
        }
      },
    },
    h("h4", {}, `New task for “${goal.title}”`),
    field("Title", title),
    field("Owner", owner),
    field("Due date", due),
    field("Support type", support),
    h("button", { type: "submit", className: "primary" }, "Add task"),
    message,
  );
}

function goalSection(goal, supportTypes, reload) {
  return h(
    "section",
    { className: "goal", "aria-label": `Goal: ${goal.title}` },
    h("h3", {}, goal.title, h("span", { className: "sub" }, ` · ${goal.status} · target ${orDash(goal.targetDate)} · ${goal.supportTypes.join(", ")}`)),
    h(
      "div",
      { className: "board" },
      STATUSES.map(([code, label]) => {
        const tasks = goal.tasks.filter((t) => t.status === code);
        return h("div", { className: "column", "aria-label": label }, h("h4", { className: "column-title" }, `${label} (${tasks.length})`), h("ul", {}, tasks.map((t) => taskCard(t, reload))));
      }),
    ),
    h("details", {}, h("summary", {}, "Add a task"), newTaskForm(goal, supportTypes, reload)),
  );
}

function newGoalForm(programId, reload) {
  const message = h("div");
  const title = h("input", { name: "title", required: true });
  const target = h("input", { name: "targetDate", type: "date" });
  const idempotency = key();
  return h(
    "form",
    {
      onSubmit: async (event) => {
        event.preventDefault();
        const { errors } = await gql("CreateQipGoal", { programId, input: { title: title.value, targetDate: target.value || null }, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else await reload();
      },
    },
    field("Goal", title),
    field("Target date", target),
    h("button", { type: "submit" }, "Add goal"),
    message,
  );
}

function noteForm(programId, reload) {
  const message = h("div");
  const body = h("textarea", { name: "body", required: true, rows: "3" });
  const visibility = select("visibility", [["TEAM", "Team"], ["PROGRAM", "Program (providers too)"], ["PRIVATE", "Only me"]], "TEAM");
  const idempotency = key();
  return h(
    "form",
    {
      onSubmit: async (event) => {
        event.preventDefault();
        const input = { subjectType: "PROGRAM", subjectId: programId, body: body.value, visibility: visibility.value };
        const { errors } = await gql("CreateNote", { programId, input, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else await reload();
      },
    },
    field("Note", body),
    field("Visible to", visibility),
    h("button", { type: "submit" }, "Add note"),
    message,
  );
}

async function auditPanel(programId) {
  const { data, errors } = await gql("ProgramAudit", { programId });
  const entries = data?.audit?.entries ?? [];
  return panel(
    "Audit log",
    errorList(errors),
    table("Who changed what", ["When", "Who", "Action", "Object", "Fields"], entries.map((e) => [e.at.replace("T", " ").slice(0, 19), e.actor, e.action, e.objectType, e.changedFields.join(", ")])),
  );
}

export async function renderQip(main, programId) {
  const reload = () => renderQip(main, programId);
  const [start, work] = await Promise.all([startData(), gql("ProgramWork", { id: programId })]);
  const { data, errors } = work;
  const p = data?.program;
  if (!p) {
    clear(main, h("h1", {}, "QIP"), errorList(errors) ?? notice("error", "No such program."));
    return;
  }
  const qip = p.qip;
  const summary = p.supportSummary;
  const audit = await auditPanel(programId);
  clear(
    main,
    h("h1", {}, `${orDash(p.name)}: the shared QIP`),
    h("nav", { className: "tabs", "aria-label": "Program" }, h("a", { href: `#/program/${encodeURIComponent(p.id)}` }, "Profile"), h("a", { href: `#/program/${encodeURIComponent(p.id)}/qip`, "aria-current": "page" }, "QIP, notes and activity")),
    errorList(errors),
    qip ? h("p", { className: "sub" }, `${qip.title} · version ${qip.version}`) : notice("info", "No QIP yet: add a first goal."),
    ...(qip?.goals ?? []).map((g) => goalSection(g, start.supportTypes, reload)),
    h("details", { className: "panel" }, h("summary", {}, "Add a goal"), newGoalForm(p.id, reload)),
    h(
      "div",
      { className: "grid" },
      panel(
        "PD plans",
        table("Professional development plans", ["Staff", "Credential target", "Hours (done / planned)", "Trainings"], (qip?.pdPlans ?? []).map((d) => [d.staffId, orDash(d.credentialTarget), `${d.completedHours} / ${d.plannedHours}`, d.trainings.map((t) => `${t.title} (${t.status})`).join("; ") || "—"])),
      ),
      panel(
        "Support by sector",
        summary
          ? table("Support given, per support type and all together", ["Support type", "Visits", "Hours", "Tasks open", "Tasks done", "Staff supported", "Funding", "Last contact"], [...summary.bySupportType, { ...summary.total, supportType: "All together" }].map((t) => [orDash(t.supportType), t.visits, t.hours, t.qipTasksOpen, t.qipTasksDone, t.staffSupported, money(t.funding), orDash(t.lastContact)]))
          : null,
      ),
      panel("Notes", h("ul", { className: "notes" }, (p.notes ?? []).map((n) => h("li", {}, h("p", {}, n.body), h("p", { className: "sub" }, `${n.author} · ${n.visibility} · ${n.createdAt.slice(0, 10)}`)))), noteForm(p.id, reload)),
      panel(
        "Activity log",
        table("Visits, coaching and other activity by support type", ["Date", "Kind", "Support type", "Minutes", "Summary", "By", "Source"], (p.activity ?? []).map((a) => [orDash(a.occurredOn), orDash(a.kind), orDash(a.supportType), orDash(a.minutes), orDash(a.summary), orDash(a.author), a.source])),
      ),
      audit,
    ),
  );
}
